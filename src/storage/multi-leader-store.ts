/**
 * A multi-leader peer's durable state: every key (a register with dotted version vectors, or
 * an append-only set), its own change log not yet acknowledged by every peer, and the version
 * vector of what it has applied from each origin (where shipping resumes after a restart).
 * One Ready is one transaction, committed before its messages and replies leave: a write is
 * acknowledged only once it is on this peer's disk.
 *
 * Tables:  keys (key, state JSON)   log (seq, entry JSON)   meta.applied (JSON)
 */
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { versionVectorProblem, type VersionVector } from '../replication/versions/index.js';
import { changeEntryProblem, keyStateProblem, type ChangeEntry, type KeyState } from '../replication/multi-leader/index.js';
import { StorageCorruptError } from './errors.js';
import { openStoreDatabase } from './sqlite-open.js';

export const multiLeaderDatabaseFileName = 'multi-leader.sqlite';

const format = {
  name: 'nines-multi-leader',
  version: 1,
  tables: ['keys', 'log'],
  schema: `
CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, state BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, entry BLOB NOT NULL) STRICT;
`,
};

export interface MultiLeaderWrite {
  logToAppend: readonly ChangeEntry[];
  logTruncatedThrough: number | undefined;
  keysToPersist: ReadonlyArray<{ key: string; state: KeyState }>;
  applied: VersionVector;
}

export interface MultiLeaderStored {
  keys: Array<[string, KeyState]>;
  log: ChangeEntry[];
  applied: VersionVector;
}

export class MultiLeaderStore {
  private readonly putKey: Database.Statement;
  private readonly appendLog: Database.Statement;
  private readonly truncateLog: Database.Statement;
  private readonly putApplied: Database.Statement;
  private lastApplied = '';

  private constructor(
    readonly path: string,
    private readonly database: Database.Database,
  ) {
    this.putKey = database.prepare('INSERT OR REPLACE INTO keys (key, state) VALUES (?, ?)');
    this.appendLog = database.prepare('INSERT OR REPLACE INTO log (seq, entry) VALUES (?, ?)');
    this.truncateLog = database.prepare('DELETE FROM log WHERE seq <= ?');
    this.putApplied = database.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('applied', ?)");
  }

  static open(dataDirectory: string): MultiLeaderStore {
    const path = join(dataDirectory, multiLeaderDatabaseFileName);
    return new MultiLeaderStore(path, openStoreDatabase(path, format));
  }

  load(): MultiLeaderStored {
    const keys = (this.database.prepare('SELECT key, state FROM keys').all() as { key: string; state: Buffer }[]).map((row): [string, KeyState] => [row.key, this.keyState(row.key, row.state)]);
    const log = (this.database.prepare('SELECT seq, entry FROM log ORDER BY seq').all() as { seq: number; entry: Buffer }[]).map((row) => this.entry(row.seq, row.entry));
    const appliedRow = this.database.prepare("SELECT value FROM meta WHERE key = 'applied'").get() as { value: string } | undefined;
    const applied = appliedRow === undefined ? {} : (this.json(appliedRow.value, 'the applied version vector') as VersionVector);
    const problem = versionVectorProblem(applied);
    if (problem !== undefined) throw new StorageCorruptError(this.path, `the applied version vector is invalid (${problem})`);
    this.lastApplied = JSON.stringify(applied);
    return { keys, log, applied };
  }

  /** One transaction (one fsync) for the whole Ready. */
  write(write: MultiLeaderWrite): void {
    const applied = JSON.stringify(write.applied);
    const appliedChanged = applied !== this.lastApplied;
    if (write.logToAppend.length === 0 && write.keysToPersist.length === 0 && write.logTruncatedThrough === undefined && !appliedChanged) return;
    this.database.transaction(() => {
      for (const entry of write.logToAppend) this.appendLog.run(entry.seq, Buffer.from(JSON.stringify(entry)));
      if (write.logTruncatedThrough !== undefined) this.truncateLog.run(write.logTruncatedThrough);
      for (const { key, state } of write.keysToPersist) this.putKey.run(key, Buffer.from(JSON.stringify(state)));
      if (appliedChanged) this.putApplied.run(applied);
    })();
    this.lastApplied = applied;
  }

  close(): void {
    this.database.close();
  }

  private json(text: string, what: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw new StorageCorruptError(this.path, `${what} is not JSON`);
    }
  }

  private keyState(key: string, bytes: Buffer): KeyState {
    const state = this.json(bytes.toString('utf8'), `key ${JSON.stringify(key)}`);
    const problem = keyStateProblem(state);
    if (problem !== undefined) throw new StorageCorruptError(this.path, `key ${JSON.stringify(key)} is invalid (${problem})`);
    return state as KeyState;
  }

  private entry(seq: number, bytes: Buffer): ChangeEntry {
    const entry = this.json(bytes.toString('utf8'), `log entry ${seq}`) as Partial<ChangeEntry>;
    const problem = entry?.seq === seq ? changeEntryProblem(entry) : `it names seq ${String(entry?.seq)}`;
    if (problem !== undefined) throw new StorageCorruptError(this.path, `log entry ${seq} is invalid (${problem})`);
    return entry as ChangeEntry;
  }
}
