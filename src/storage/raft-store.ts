/**
 * The Raft log on disk: SQLite through better-sqlite3, in WAL mode with `synchronous=FULL`,
 * so a committed transaction survives a crash or a power cut (DESIGN.md section 5).
 *
 * The contract with the Raft core (src/replication/leader/storage.ts): each Ready's
 * snapshot, entries and hard state are written in ONE transaction (group commit: however
 * many entries and votes a Ready holds, one fsync), and only after it returns may the
 * shell send the Ready's messages. At start-up `load()` hands back the StoredState the
 * core is built from — after checking it: SQLite's own page check, the schema version,
 * the snapshot's checksum, an unbroken log after the snapshot, the hash chain over every
 * entry, and a hard state that fits the log. Anything else is refused, never served.
 *
 * Tables:
 *   meta        key/value: format ('nines-raft') and schema version
 *   hard_state  one row: term, vote, commit index
 *   snapshot    one row at most: index, term, hash of the entry at index, membership (JSON),
 *               the state machine's bytes and their SHA-256
 *   entries     one row per log entry after the snapshot: index, term, type, data, hash
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { emptyStoredState, verifyLog, type Entry, type EntryType, type HardState, type Membership, type Snapshot, type StoredState } from '../replication/leader/index.js';
import { StorageCorruptError, StorageInUseError, StorageSchemaError, StorageWriteError } from './errors.js';

/** The file a peer's Raft state lives in, inside its data directory. */
export const raftDatabaseFileName = 'raft.sqlite';

export const raftSchemaVersion = 1;
const formatName = 'nines-raft';

/** How long opening waits for another connection's lock before saying the database is in use. */
const lockWaitMs = 200;

export function raftDatabasePath(dataDirectory: string): string {
  return join(dataDirectory, raftDatabaseFileName);
}

/** What one Ready asks to be made durable. */
export interface RaftWrite {
  readonly hardState?: HardState | undefined;
  /** A snapshot from the leader replaces the whole log; a local one (compaction) drops only the entries it covers. */
  readonly snapshot?: { readonly snapshot: Snapshot; readonly fromLeader: boolean } | undefined;
  /** Entries to append; any stored entry at or after `entries[0].index` is replaced. */
  readonly entries: readonly Entry[];
}

export interface RaftStoreOptions {
  /** Refuse to create a new database (for `nines log verify` and other read-only tools). */
  mustExist?: boolean;
  readOnly?: boolean;
}

interface EntryRow {
  log_index: number;
  term: number;
  type: string;
  data: Buffer;
  hash: string;
}

interface SnapshotRow {
  log_index: number;
  term: number;
  hash: string;
  membership: string;
  data: Buffer;
  data_sha256: string;
}

interface HardStateRow {
  term: number;
  vote: string | null;
  commit_index: number;
}

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS hard_state (id INTEGER PRIMARY KEY CHECK (id = 1), term INTEGER NOT NULL, vote TEXT, commit_index INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), log_index INTEGER NOT NULL, term INTEGER NOT NULL, hash TEXT NOT NULL,
  membership TEXT NOT NULL, data BLOB NOT NULL, data_sha256 TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS entries (log_index INTEGER PRIMARY KEY, term INTEGER NOT NULL, type TEXT NOT NULL, data BLOB NOT NULL, hash TEXT NOT NULL) STRICT;
`;

export class RaftStore {
  private statements!: ReturnType<typeof prepareStatements>;
  /** The last index stored (snapshot or entry), kept to refuse writes that would leave a gap. */
  private lastIndex = 0;
  private snapshotIndex = 0;

  private constructor(
    readonly path: string,
    private readonly database: Database.Database,
  ) {}

  /** Opens (or creates) the database at `path`, holding it exclusively until close(). */
  static open(path: string, options: RaftStoreOptions = {}): RaftStore {
    let database: Database.Database;
    try {
      database = new Database(path, { fileMustExist: options.mustExist === true || options.readOnly === true, readonly: options.readOnly === true, timeout: lockWaitMs });
    } catch (error) {
      throw translateOpenError(path, error);
    }
    try {
      const store = new RaftStore(path, database);
      store.prepare(options.readOnly === true);
      return store;
    } catch (error) {
      database.close();
      throw translateOpenError(path, error);
    }
  }

  private prepare(readOnly: boolean): void {
    const db = this.database;
    if (!readOnly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      // One peer per database: the exclusive lock is taken by the first write below and held until close.
      db.pragma('locking_mode = EXCLUSIVE');
    }
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new StorageCorruptError(this.path, `SQLite's page check failed: ${String(check)}`);
    if (!readOnly) {
      db.exec(schema);
      const insertMeta = db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)');
      db.transaction(() => {
        insertMeta.run('format', formatName);
        insertMeta.run('schema_version', String(raftSchemaVersion));
      }).immediate();
    }
    this.checkSchema();
    this.statements = prepareStatements(db);
  }

  private checkSchema(): void {
    const tables = new Set((this.database.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name));
    for (const table of ['meta', 'hard_state', 'snapshot', 'entries']) {
      if (!tables.has(table)) throw new StorageSchemaError(this.path, `not a nines Raft database: table ${table} is missing`);
    }
    const meta = new Map((this.database.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((row) => [row.key, row.value]));
    if (meta.get('format') !== formatName) throw new StorageSchemaError(this.path, `not a nines Raft database (format ${JSON.stringify(meta.get('format'))})`);
    const version = Number(meta.get('schema_version'));
    if (version !== raftSchemaVersion) {
      throw new StorageSchemaError(this.path, `schema version ${String(meta.get('schema_version'))}, this nines reads version ${raftSchemaVersion}; run the nines that wrote it, or start this peer with a fresh data directory`);
    }
  }

  /** Reads and checks everything the core starts from. Throws StorageCorruptError on any inconsistency. */
  load(): StoredState {
    const empty = emptyStoredState();
    const snapshot = this.readSnapshot() ?? empty.snapshot;
    const rows = this.database.prepare('SELECT log_index, term, type, data, hash FROM entries ORDER BY log_index').all() as EntryRow[];
    const entries: Entry[] = rows.map((row) => ({ index: row.log_index, term: row.term, type: row.type as EntryType, data: new Uint8Array(row.data), hash: row.hash }));
    const verification = verifyLog(entries, snapshot.meta);
    if (!verification.ok) {
      throw new StorageCorruptError(this.path, `the log is damaged at index ${verification.index}: ${verification.reason}`);
    }
    const hardRow = this.database.prepare('SELECT term, vote, commit_index FROM hard_state WHERE id = 1').get() as HardStateRow | undefined;
    const hardState: HardState = hardRow === undefined ? empty.hardState : { term: hardRow.term, vote: hardRow.vote ?? undefined, commit: hardRow.commit_index };
    const lastIndex = verification.lastIndex;
    const lastTerm = entries.at(-1)?.term ?? snapshot.meta.term;
    if (hardState.commit > lastIndex) throw new StorageCorruptError(this.path, `the hard state's commit index ${hardState.commit} is past the last stored entry ${lastIndex}: committed entries are missing`);
    if (hardState.term < lastTerm) throw new StorageCorruptError(this.path, `the hard state's term ${hardState.term} is below the last entry's term ${lastTerm}`);
    this.lastIndex = lastIndex;
    this.snapshotIndex = snapshot.meta.index;
    return { hardState, snapshot, entries };
  }

  private readSnapshot(): Snapshot | undefined {
    const row = this.database.prepare('SELECT log_index, term, hash, membership, data, data_sha256 FROM snapshot WHERE id = 1').get() as SnapshotRow | undefined;
    if (row === undefined) return undefined;
    const data = new Uint8Array(row.data);
    if (sha256(data) !== row.data_sha256) throw new StorageCorruptError(this.path, `the snapshot at index ${row.log_index} does not match its checksum`);
    let membership: Membership;
    try {
      membership = parseMembership(JSON.parse(row.membership));
    } catch (error) {
      throw new StorageCorruptError(this.path, `the snapshot's membership is unreadable: ${error instanceof Error ? error.message : String(error)}`);
    }
    return { meta: { index: row.log_index, term: row.term, hash: row.hash, membership }, data };
  }

  /** Makes one Ready durable, in one transaction; returns after SQLite's fsync. */
  write(change: RaftWrite): void {
    if (change.hardState === undefined && change.snapshot === undefined && change.entries.length === 0) return;
    this.database.transaction(() => this.writeInTransaction(change)).immediate();
  }

  private writeInTransaction(change: RaftWrite): void {
    let lastIndex = this.lastIndex;
    if (change.snapshot !== undefined) {
      const { snapshot, fromLeader } = change.snapshot;
      const { meta } = snapshot;
      if (meta.index < this.snapshotIndex) throw new StorageWriteError(this.path, `snapshot at index ${meta.index} is older than the stored one at ${this.snapshotIndex}`);
      this.statements.putSnapshot.run(meta.index, meta.term, meta.hash, JSON.stringify(meta.membership), Buffer.from(snapshot.data), sha256(snapshot.data));
      if (fromLeader) {
        this.statements.deleteAllEntries.run();
        lastIndex = meta.index;
      } else {
        this.statements.deleteEntriesThrough.run(meta.index);
        lastIndex = Math.max(lastIndex, meta.index);
      }
      this.snapshotIndex = meta.index;
    }
    if (change.entries.length > 0) {
      const first = change.entries[0].index;
      if (first > lastIndex + 1) throw new StorageWriteError(this.path, `entries start at index ${first} but the log ends at ${lastIndex}: that would leave a gap`);
      if (first <= this.snapshotIndex) throw new StorageWriteError(this.path, `entries start at index ${first}, inside the snapshot that ends at ${this.snapshotIndex}`);
      this.statements.deleteEntriesFrom.run(first);
      for (const entry of change.entries) this.statements.insertEntry.run(entry.index, entry.term, entry.type, Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength), entry.hash);
      lastIndex = change.entries[change.entries.length - 1].index;
    }
    if (change.hardState !== undefined) {
      const { term, vote, commit } = change.hardState;
      this.statements.putHardState.run(term, vote ?? null, commit);
    }
    this.lastIndex = lastIndex;
  }

  close(): void {
    if (this.database.open) this.database.close();
  }
}

function prepareStatements(database: Database.Database) {
  return {
    insertEntry: database.prepare('INSERT INTO entries (log_index, term, type, data, hash) VALUES (?, ?, ?, ?, ?)'),
    deleteEntriesFrom: database.prepare('DELETE FROM entries WHERE log_index >= ?'),
    deleteEntriesThrough: database.prepare('DELETE FROM entries WHERE log_index <= ?'),
    deleteAllEntries: database.prepare('DELETE FROM entries'),
    putHardState: database.prepare('INSERT OR REPLACE INTO hard_state (id, term, vote, commit_index) VALUES (1, ?, ?, ?)'),
    putSnapshot: database.prepare('INSERT OR REPLACE INTO snapshot (id, log_index, term, hash, membership, data, data_sha256) VALUES (1, ?, ?, ?, ?, ?, ?)'),
  };
}

function parseMembership(value: unknown): Membership {
  const list = (field: string): string[] => {
    const items = (value as Record<string, unknown> | null)?.[field];
    if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) throw new Error(`${field} is not a list of peer ids`);
    return items;
  };
  return { voters: list('voters'), learners: list('learners') };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Turns SQLite's codes into the errors a user can act on. */
function translateOpenError(path: string, error: unknown): Error {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return new StorageInUseError(path);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code === 'SQLITE_CORRUPT_VTAB') return new StorageCorruptError(path, `SQLite cannot read the database (${message})`);
  if (code === 'SQLITE_CANTOPEN') return new StorageSchemaError(path, `cannot open the database (${message}); check the path and that it exists`);
  return error instanceof Error ? error : new Error(message);
}
