/**
 * `nines log verify --data-dir D`: checks a peer's stored Raft log end to end, offline —
 * SQLite's page check, the schema, the snapshot's checksum, the hash chain over every
 * entry, the hard state against the log — and names the first bad entry if there is one.
 * The peer must be stopped: a running peer holds its database exclusively.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { RaftStore, raftDatabasePath } from '../storage/index.js';

interface VerifyOptions {
  dataDir: string;
}

export function registerLog(program: Command): void {
  const log = program.command('log').description("inspect a peer's replicated log (the binlog)");
  log
    .command('verify')
    .description('check the stored log and its hash chain; names the first bad entry')
    .requiredOption('-d, --data-dir <dir>', "the peer's data directory")
    .action((options: VerifyOptions) => {
      const path = raftDatabasePath(options.dataDir);
      if (!existsSync(path)) throw new LogVerifyError(`${path} does not exist: is ${options.dataDir} the data directory of a storage peer?`);
      const store = RaftStore.open(path, { readOnly: true });
      try {
        const { hardState, snapshot, entries } = store.load();
        const first = snapshot.meta.index + 1;
        const last = entries.at(-1)?.index ?? snapshot.meta.index;
        const lastHash = entries.at(-1)?.hash ?? snapshot.meta.hash;
        const lines = [
          `${path}: ok`,
          `snapshot   ${snapshot.meta.index === 0 ? 'none' : `through index ${snapshot.meta.index} (term ${snapshot.meta.term}), ${snapshot.data.length} bytes, checksum ok`}`,
          `entries    ${entries.length === 0 ? 'none after the snapshot' : `${first}..${last} (${entries.length}), hash chain verified`}`,
          `last hash  ${lastHash}`,
          `hard state term ${hardState.term}, vote ${hardState.vote ?? 'none'}, commit ${hardState.commit}`,
        ];
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        store.close();
      }
    });
}

class LogVerifyError extends Error {
  override name = 'LogVerifyError';
  readonly code = 'LOG_VERIFY';
}
