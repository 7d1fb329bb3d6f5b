import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { applyWrite, emptyRegister, type RegisterState } from '../../src/replication/versions/index.js';
import { LeaderlessStore, MultiLeaderStore, StorageCorruptError, StorageInUseError, StorageSchemaError } from '../../src/storage/index.js';
import type { ChangeEntry, KeyState } from '../../src/replication/multi-leader/index.js';

const root = mkdtempSync(join(tmpdir(), 'nines-replica-stores-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDirectory = () => {
  const directory = join(root, `d${counter++}`);
  mkdirSync(directory);
  return directory;
};

function register(value: string, node = 'a'): RegisterState {
  return applyWrite(emptyRegister, { node, context: {}, value, timestamp: { wallMs: 5, logical: 0, node }, lastWriterWins: false, key: 'k' }).state;
}

describe('the leaderless store', () => {
  it('keeps registers and hints across a reopen, and deletes delivered hints', () => {
    const directory = freshDirectory();
    const store = LeaderlessStore.open(directory);
    store.write({ statesToPersist: [{ key: 'k', state: register('v') }], hintsToPersist: [{ id: 'h1', owner: 'b', key: 'k', state: register('v') }, { id: 'h2', owner: 'c', key: 'j', state: register('w') }], hintsToDelete: [] });
    store.write({ statesToPersist: [{ key: 'k', state: register('v2') }], hintsToPersist: [], hintsToDelete: ['h1'] });
    store.close();
    const reopened = LeaderlessStore.open(directory);
    const loaded = reopened.load();
    expect(loaded.states).toEqual([['k', register('v2')]]);
    expect(loaded.hints.map((hint) => hint.id)).toEqual(['h2']);
    expect(() => LeaderlessStore.open(directory)).toThrow(StorageInUseError);
    reopened.close();
  });

  it('refuses a damaged register rather than serving it', () => {
    const directory = freshDirectory();
    LeaderlessStore.open(directory).close();
    const database = new Database(join(directory, 'leaderless.sqlite'));
    database.prepare('INSERT INTO registers (key, state) VALUES (?, ?)').run('k', Buffer.from('{"clock":{},"siblings":[{"dot":{"node":"a","counter":1}}]}'));
    database.close();
    const store = LeaderlessStore.open(directory);
    expect(() => store.load()).toThrow(StorageCorruptError);
    store.close();
  });

  it('refuses another mode\'s database and a file that is not SQLite', () => {
    const directory = freshDirectory();
    MultiLeaderStore.open(directory).close();
    // A multi-leader database renamed into the leaderless file's place.
    const other = new Database(join(directory, 'multi-leader.sqlite'));
    other.exec(`VACUUM INTO '${join(directory, 'leaderless.sqlite')}'`);
    other.close();
    expect(() => LeaderlessStore.open(directory)).toThrow(StorageSchemaError);
    const garbage = freshDirectory();
    writeFileSync(join(garbage, 'leaderless.sqlite'), 'this is not a database, just some text long enough to be read as a header......');
    expect(() => LeaderlessStore.open(garbage)).toThrow(StorageCorruptError);
  });
});

describe('the multi-leader store', () => {
  it('keeps keys, its own unacknowledged log and the applied vector across a reopen', () => {
    const directory = freshDirectory();
    const store = MultiLeaderStore.open(directory);
    const entry = (seq: number): ChangeEntry => ({ origin: 'a', seq, key: 'chat', change: { kind: 'append', element: { id: `a:${seq}`, timestamp: { wallMs: seq, logical: 0, node: 'a' }, value: `m${seq}` } } });
    const set: KeyState = { kind: 'set', elements: [{ id: 'a:1', timestamp: { wallMs: 1, logical: 0, node: 'a' }, value: 'hi' }] };
    store.write({ logToAppend: [entry(1), entry(2), entry(3)], logTruncatedThrough: undefined, keysToPersist: [{ key: 'k', state: { kind: 'register', state: register('v') } }, { key: 'chat', state: set }], applied: { a: 3 } });
    store.write({ logToAppend: [], logTruncatedThrough: 2, keysToPersist: [], applied: { a: 3, b: 7 } });
    store.close();
    const reopened = MultiLeaderStore.open(directory);
    const loaded = reopened.load();
    expect(loaded.log.map((item) => item.seq)).toEqual([3]);
    expect(loaded.applied).toEqual({ a: 3, b: 7 });
    expect(new Map(loaded.keys).get('chat')).toEqual(set);
    expect(new Map(loaded.keys).get('k')).toEqual({ kind: 'register', state: register('v') });
    reopened.close();
  });

  it('refuses a damaged log entry', () => {
    const directory = freshDirectory();
    MultiLeaderStore.open(directory).close();
    const database = new Database(join(directory, 'multi-leader.sqlite'));
    database.prepare('INSERT INTO log (seq, entry) VALUES (?, ?)').run(4, Buffer.from('{"origin":"a","seq":5,"key":"k"}'));
    database.close();
    const store = MultiLeaderStore.open(directory);
    expect(() => store.load()).toThrow(/log entry 4 is invalid/);
    store.close();
  });
});
