/**
 * Opening a nines SQLite database the same way for every store: WAL with synchronous=FULL
 * (a committed transaction survives a crash or a power cut), an exclusive lock held until
 * close (one peer per database), SQLite's own page check, and a `meta` table naming the
 * format and schema version, checked on every open. Anything else is refused with the reason.
 */
import Database from 'better-sqlite3';
import { StorageCorruptError, StorageInUseError, StorageSchemaError } from './errors.js';

/** How long opening waits for another connection's lock before saying the database is in use. */
const lockWaitMs = 200;

export interface StoreFormat {
  /** Written into meta.format; a database of another format is refused. */
  name: string;
  version: number;
  /** CREATE TABLE IF NOT EXISTS statements (meta is added). */
  schema: string;
  tables: readonly string[];
}

export function openStoreDatabase(path: string, format: StoreFormat): Database.Database {
  let database: Database.Database;
  try {
    database = new Database(path, { timeout: lockWaitMs });
  } catch (error) {
    throw translateOpenError(path, error);
  }
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.pragma('locking_mode = EXCLUSIVE');
    const check = database.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new StorageCorruptError(path, `SQLite's page check failed: ${String(check)}`);
    database.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;\n${format.schema}`);
    const insertMeta = database.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)');
    database.transaction(() => {
      insertMeta.run('format', format.name);
      insertMeta.run('schema_version', String(format.version));
    }).immediate();
    checkFormat(path, database, format);
    return database;
  } catch (error) {
    database.close();
    throw translateOpenError(path, error);
  }
}

function checkFormat(path: string, database: Database.Database, format: StoreFormat): void {
  const meta = new Map((database.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((row) => [row.key, row.value]));
  if (meta.get('format') !== format.name) {
    throw new StorageSchemaError(path, `not a ${format.name} database (format ${JSON.stringify(meta.get('format'))}): was this data directory made for another replication mode?`);
  }
  const version = Number(meta.get('schema_version'));
  if (version !== format.version) {
    throw new StorageSchemaError(path, `schema version ${String(meta.get('schema_version'))}, this nines reads version ${format.version}; run the nines that wrote it, or start this peer with a fresh data directory`);
  }
  const tables = new Set((database.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name));
  for (const table of format.tables) {
    if (!tables.has(table)) throw new StorageSchemaError(path, `not a ${format.name} database: table ${table} is missing`);
  }
}

export function translateOpenError(path: string, error: unknown): Error {
  if (error instanceof StorageCorruptError || error instanceof StorageSchemaError) return error;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return new StorageInUseError(path);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code === 'SQLITE_CORRUPT_VTAB') return new StorageCorruptError(path, `SQLite cannot read the database (${message})`);
  if (code === 'SQLITE_CANTOPEN') return new StorageSchemaError(path, `cannot open the database (${message}); check the path and that it exists`);
  return error instanceof Error ? error : new Error(message);
}
