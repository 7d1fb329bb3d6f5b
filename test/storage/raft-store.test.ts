import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrapStoredState, genesisHash, makeEntry, type Entry, type Snapshot } from '../../src/replication/leader/index.js';
import { RaftStore, StorageCorruptError, StorageInUseError, StorageSchemaError, StorageWriteError } from '../../src/storage/index.js';

const directory = mkdtempSync(join(tmpdir(), 'nines-raft-store-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let fileCounter = 0;
const freshPath = () => join(directory, `raft-${fileCounter++}.sqlite`);

/** A hash-chained run of entries after `previous`, one term per entry as given. */
function chain(previous: Pick<Entry, 'index' | 'hash'>, terms: readonly number[], tag = 'x'): Entry[] {
  const entries: Entry[] = [];
  let { index, hash } = previous;
  for (const term of terms) {
    const entry = makeEntry(hash, term, index + 1, 'normal', new TextEncoder().encode(`${tag}${index + 1}`));
    entries.push(entry);
    ({ index, hash } = entry);
  }
  return entries;
}

const start = { index: 0, hash: genesisHash };

function reopen(path: string): ReturnType<RaftStore['load']> {
  const store = RaftStore.open(path);
  try {
    return store.load();
  } finally {
    store.close();
  }
}

function withRawDatabase(path: string, change: (database: Database.Database) => void): void {
  const database = new Database(path);
  try {
    change(database);
  } finally {
    database.close();
  }
}

describe('RaftStore: what is written is what a restart loads', () => {
  it('keeps entries, hard state and a bootstrap membership entry across a reopen', () => {
    const path = freshPath();
    const founding = bootstrapStoredState(['a', 'b', 'c']);
    const store = RaftStore.open(path);
    expect(store.load()).toEqual({ hardState: { term: 0, vote: undefined, commit: 0 }, snapshot: expect.anything(), entries: [] });
    store.write({ hardState: founding.hardState, entries: founding.entries });
    const more = chain(founding.entries[0], [1, 2, 2]);
    store.write({ hardState: { term: 2, vote: 'b', commit: 3 }, entries: more });
    store.close();
    const loaded = reopen(path);
    expect(loaded.entries).toEqual([...founding.entries, ...more]);
    expect(loaded.hardState).toEqual({ term: 2, vote: 'b', commit: 3 });
  });

  it('replaces a conflicting suffix (Raft §5.3) and refuses a write that would leave a gap', () => {
    const path = freshPath();
    const store = RaftStore.open(path);
    store.load();
    const first = chain(start, [1, 1, 1, 1]);
    store.write({ entries: first, hardState: { term: 1, vote: undefined, commit: 1 } });
    const replacement = chain(first[1], [2, 2], 'y');
    store.write({ entries: replacement, hardState: { term: 2, vote: undefined, commit: 1 } });
    expect(() => store.write({ entries: chain({ index: 9, hash: genesisHash }, [2]) })).toThrow(StorageWriteError);
    store.close();
    expect(reopen(path).entries).toEqual([...first.slice(0, 2), ...replacement]);
  });

  it('drops only the covered entries for a local snapshot, and the whole log for one from the leader', () => {
    const path = freshPath();
    const store = RaftStore.open(path);
    store.load();
    const entries = chain(start, [1, 1, 1, 1, 1]);
    store.write({ entries, hardState: { term: 1, vote: undefined, commit: 5 } });
    const local: Snapshot = { meta: { index: 3, term: 1, hash: entries[2].hash, membership: { voters: ['a'], learners: [] } }, data: new Uint8Array([1, 2, 3]) };
    store.write({ snapshot: { snapshot: local, fromLeader: false }, entries: [] });
    store.close();
    const afterLocal = reopen(path);
    expect(afterLocal.snapshot).toEqual(local);
    expect(afterLocal.entries.map((entry) => entry.index)).toEqual([4, 5]);

    const again = RaftStore.open(path);
    again.load();
    const fromLeader: Snapshot = { meta: { index: 8, term: 3, hash: 'f'.repeat(64), membership: { voters: ['a', 'b'], learners: ['c'] } }, data: new Uint8Array([9]) };
    again.write({ snapshot: { snapshot: fromLeader, fromLeader: true }, entries: [], hardState: { term: 3, vote: undefined, commit: 8 } });
    again.close();
    const afterLeader = reopen(path);
    expect(afterLeader.snapshot).toEqual(fromLeader);
    expect(afterLeader.entries).toEqual([]);
  });

  it('matches a plain in-memory log over random appends, truncations and restarts', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ back: fc.nat(3), terms: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 4 }), restart: fc.boolean() }), { maxLength: 12 }), (steps) => {
        const path = freshPath();
        let store = RaftStore.open(path);
        store.load();
        let model: Entry[] = [];
        let term = 1;
        for (const step of steps) {
          const keep = Math.max(0, model.length - step.back);
          const previous = keep === 0 ? start : model[keep - 1];
          const terms = step.terms.map((increase) => (term += increase));
          const appended = chain(previous, terms, `t${term}-`);
          store.write({ entries: appended, hardState: { term, vote: undefined, commit: 0 } });
          model = [...model.slice(0, keep), ...appended];
          if (step.restart) {
            store.close();
            store = RaftStore.open(path);
            expect(store.load().entries).toEqual(model);
          }
        }
        store.close();
        expect(reopen(path).entries).toEqual(model);
      }),
      { numRuns: 25 },
    );
  });
});

describe('RaftStore: damaged data is refused, never served', () => {
  function storeWithEntries(count: number): string {
    const path = freshPath();
    const store = RaftStore.open(path);
    store.load();
    store.write({ entries: chain(start, Array.from({ length: count }, () => 1)), hardState: { term: 1, vote: undefined, commit: count } });
    store.close();
    return path;
  }

  it('names the first entry whose bytes were altered', () => {
    const path = storeWithEntries(6);
    withRawDatabase(path, (database) => database.prepare("UPDATE entries SET data = X'00' WHERE log_index = 4").run());
    expect(() => reopen(path)).toThrow(StorageCorruptError);
    expect(() => reopen(path)).toThrow(/the log is damaged at index 4: hash mismatch/);
  });

  it('notices a missing entry in the middle of the log', () => {
    const path = storeWithEntries(5);
    withRawDatabase(path, (database) => database.prepare('DELETE FROM entries WHERE log_index = 2').run());
    expect(() => reopen(path)).toThrow(/damaged at index 2: entry at position 1 has index 3, expected 2/);
  });

  it('notices committed entries missing at the end', () => {
    const path = storeWithEntries(5);
    withRawDatabase(path, (database) => database.prepare('DELETE FROM entries WHERE log_index = 5').run());
    expect(() => reopen(path)).toThrow(/commit index 5 is past the last stored entry 4/);
  });

  it('checks the snapshot against its checksum', () => {
    const path = freshPath();
    const store = RaftStore.open(path);
    store.load();
    const snapshot: Snapshot = { meta: { index: 2, term: 1, hash: 'a'.repeat(64), membership: { voters: ['a'], learners: [] } }, data: new Uint8Array([1, 2]) };
    store.write({ snapshot: { snapshot, fromLeader: true }, entries: [], hardState: { term: 1, vote: undefined, commit: 2 } });
    store.close();
    withRawDatabase(path, (database) => database.prepare("UPDATE snapshot SET data = X'0103'").run());
    expect(() => reopen(path)).toThrow(/the snapshot at index 2 does not match its checksum/);
  });

  it('refuses a truncated database file and a file that is not a database', () => {
    const path = storeWithEntries(300);
    const size = readFileSync(path).length;
    truncateSync(path, Math.floor(size / 2));
    expect(() => reopen(path)).toThrow(StorageCorruptError);
    const garbage = freshPath();
    writeFileSync(garbage, Buffer.alloc(8192, 7));
    expect(() => reopen(garbage)).toThrow(StorageCorruptError);
  });

  it('refuses a database of another schema version or format', () => {
    const path = storeWithEntries(1);
    withRawDatabase(path, (database) => database.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run());
    expect(() => reopen(path)).toThrow(StorageSchemaError);
    expect(() => reopen(path)).toThrow(/schema version 99, this nines reads version 1/);
  });

  it('lets only one process (or store) hold a database', () => {
    const path = storeWithEntries(1);
    const holder = RaftStore.open(path);
    try {
      expect(() => RaftStore.open(path)).toThrow(StorageInUseError);
    } finally {
      holder.close();
    }
    expect(reopen(path).entries).toHaveLength(1);
  });
});
