/** `nines log verify`, run as a user runs it against a data directory the test writes. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { genesisHash, makeEntry, type Entry } from '../../src/replication/leader/index.js';
import { RaftStore, raftDatabasePath } from '../../src/storage/index.js';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'nines-log-verify-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function nines(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });
}

function writeLog(dataDir: string, count: number): void {
  const store = RaftStore.open(raftDatabasePath(dataDir));
  store.load();
  const entries: Entry[] = [];
  let previous = genesisHash;
  for (let index = 1; index <= count; index++) {
    const entry = makeEntry(previous, 1, index, 'normal', new TextEncoder().encode(`put k${index}`));
    entries.push(entry);
    previous = entry.hash;
  }
  store.write({ entries, hardState: { term: 1, vote: 'a', commit: count } });
  store.close();
}

describe('nines log verify', () => {
  it('reports a sound log with its range, last hash and hard state', () => {
    const dataDir = mkdtempSync(join(directory, 'sound-'));
    writeLog(dataDir, 20);
    const result = nines(['log', 'verify', '--data-dir', dataDir]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/: ok\n/);
    expect(result.stdout).toMatch(/entries\s+1\.\.20 \(20\), hash chain verified/);
    expect(result.stdout).toMatch(/hard state term 1, vote a, commit 20/);
  });

  it('names the first altered entry and exits non-zero', () => {
    const dataDir = mkdtempSync(join(directory, 'altered-'));
    writeLog(dataDir, 20);
    const database = new Database(raftDatabasePath(dataDir));
    database.prepare("UPDATE entries SET data = X'6b' WHERE log_index = 13").run();
    database.close();
    const result = nines(['log', 'verify', '--data-dir', dataDir]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/the log is damaged at index 13: hash mismatch/);
  });

  it('says what to check when the directory holds no log', () => {
    const result = nines(['log', 'verify', '--data-dir', join(directory, 'nothing-here')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/raft\.sqlite does not exist: is .* the data directory of a storage peer\?/);
  });
});
