/**
 * The errors storage raises on purpose, each with a stable `code`. Storage never serves
 * data it cannot vouch for: a damaged database or log is refused with the reason and
 * what to do, and the peer does not start on it.
 */

/** The database or the log in it is damaged: unreadable pages, a broken hash chain, inconsistent state. */
export class StorageCorruptError extends Error {
  override name = 'StorageCorruptError';
  readonly code = 'STORAGE_CORRUPT';

  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(
      `${path}: ${problem}. The data is refused rather than served. Keep the file for inspection, then remove ` +
        'this peer\'s data directory and let it rejoin: it catches up from the other replicas.',
    );
  }
}

/** A database written by a different (newer or unknown) version of nines, or by something else. */
export class StorageSchemaError extends Error {
  override name = 'StorageSchemaError';
  readonly code = 'STORAGE_SCHEMA';

  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

/** Another process holds the database: two peers must never share one data directory. */
export class StorageInUseError extends Error {
  override name = 'StorageInUseError';
  readonly code = 'STORAGE_IN_USE';

  constructor(readonly path: string) {
    super(`${path}: the database is in use by another process; each peer needs its own --data-dir (stop the other peer first)`);
  }
}

/** A write the store refuses because it would break the log's shape (a programmer error in the shell, reported with detail). */
export class StorageWriteError extends Error {
  override name = 'StorageWriteError';
  readonly code = 'STORAGE_WRITE';

  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}
