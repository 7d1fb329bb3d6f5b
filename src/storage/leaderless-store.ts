/**
 * A leaderless replica's durable state: each key's register (dotted version vectors, see
 * src/replication/versions) and the hints it keeps for peers that were down. One Ready is one
 * transaction, committed before the Ready's messages leave: a replica acknowledges a write
 * only once it is on disk.
 *
 * Tables:  registers (key, state JSON)   hints (id, owner, key, state JSON)
 */
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { decodeRegister, encodeRegister, type RegisterState } from '../replication/versions/index.js';
import type { Hint } from '../replication/leaderless/index.js';
import { StorageCorruptError } from './errors.js';
import { openStoreDatabase } from './sqlite-open.js';

export const leaderlessDatabaseFileName = 'leaderless.sqlite';

const format = {
  name: 'nines-leaderless',
  version: 1,
  tables: ['registers', 'hints'],
  schema: `
CREATE TABLE IF NOT EXISTS registers (key TEXT PRIMARY KEY, state BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS hints (id TEXT PRIMARY KEY, owner TEXT NOT NULL, key TEXT NOT NULL, state BLOB NOT NULL) STRICT;
`,
};

export interface LeaderlessWrite {
  statesToPersist: ReadonlyArray<{ key: string; state: RegisterState }>;
  hintsToPersist: readonly Hint[];
  hintsToDelete: readonly string[];
}

export class LeaderlessStore {
  private readonly putRegister: Database.Statement;
  private readonly putHint: Database.Statement;
  private readonly deleteHint: Database.Statement;

  private constructor(
    readonly path: string,
    private readonly database: Database.Database,
  ) {
    this.putRegister = database.prepare('INSERT OR REPLACE INTO registers (key, state) VALUES (?, ?)');
    this.putHint = database.prepare('INSERT OR REPLACE INTO hints (id, owner, key, state) VALUES (?, ?, ?, ?)');
    this.deleteHint = database.prepare('DELETE FROM hints WHERE id = ?');
  }

  static open(dataDirectory: string): LeaderlessStore {
    const path = join(dataDirectory, leaderlessDatabaseFileName);
    return new LeaderlessStore(path, openStoreDatabase(path, format));
  }

  /** Everything the core restarts from; a row that does not decode is refused, never served. */
  load(): { states: Array<[string, RegisterState]>; hints: Hint[] } {
    const states = (this.database.prepare('SELECT key, state FROM registers').all() as { key: string; state: Buffer }[]).map(
      (row): [string, RegisterState] => [row.key, this.decode(row.state, `register ${JSON.stringify(row.key)}`)],
    );
    const hints = (this.database.prepare('SELECT id, owner, key, state FROM hints').all() as { id: string; owner: string; key: string; state: Buffer }[]).map((row) => ({
      id: row.id,
      owner: row.owner,
      key: row.key,
      state: this.decode(row.state, `hint ${row.id}`),
    }));
    return { states, hints };
  }

  /** One transaction (one fsync) for the whole Ready. */
  write(write: LeaderlessWrite): void {
    if (write.statesToPersist.length === 0 && write.hintsToPersist.length === 0 && write.hintsToDelete.length === 0) return;
    this.database.transaction(() => {
      for (const { key, state } of write.statesToPersist) this.putRegister.run(key, Buffer.from(encodeRegister(state)));
      for (const hint of write.hintsToPersist) this.putHint.run(hint.id, hint.owner, hint.key, Buffer.from(encodeRegister(hint.state)));
      for (const id of write.hintsToDelete) this.deleteHint.run(id);
    })();
  }

  close(): void {
    this.database.close();
  }

  private decode(bytes: Buffer, what: string): RegisterState {
    try {
      return decodeRegister(bytes, this.path);
    } catch (error) {
      throw new StorageCorruptError(this.path, `${what} does not decode (${error instanceof Error ? error.message : String(error)})`);
    }
  }
}
