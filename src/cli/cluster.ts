/**
 * `nines cluster`: the cluster's certificate authority.
 *
 *   nines cluster init  [--dir d] [--name n] [--replication single-leader|multi-leader|leaderless] [--n 3 --r 2 --w 2] [--validity-days n] [--force]
 *   nines cluster issue --cluster-dir d --data-dir d [--validity-days n] [--force]
 *
 * `init` creates the CA that every peer certificate chains to, and records the cluster's
 * replication mode (replication.json), which every storage peer copies on its first start;
 * `issue` gives a peer a key
 * (if it has none) and a certificate signed by that CA. Neither overwrites anything
 * without --force. Actions are async: the caller parses with `program.parseAsync`.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { replicasPerKeyMax, replicationConfigProblem, replicationDefaults, replicationModes, writeReplicationFile, type ReplicationMode } from '../node/replication-file.js';
import { integerOption } from './options.js';
import { registerClusterKeys } from './cluster-keys.js';
import { writeApiKeys } from '../node/api-keys-file.js';
import {
  caValidityDaysDefault,
  clusterPaths,
  identityPaths,
  IdentityError,
  initCluster,
  issuePeerCertificate,
  peerValidityDaysDefault,
  validityDaysMax,
} from '../p2p/identity/index.js';

/** Where the commands write their report; tests hand in their own. */
export interface ClusterCommandOutput {
  write(text: string): void;
}

const standardOutput: ClusterCommandOutput = { write: (text) => void process.stdout.write(text) };

export const clusterDirDefault = 'nines-cluster';
export const clusterNameDefault = 'nines';

/** Adds the `cluster` command group to the program and returns it, so later issues can add subcommands. */
export function registerCluster(program: Command, output: ClusterCommandOutput = standardOutput): Command {
  const cluster = program.command('cluster').description("the cluster's certificate authority, peer certificates and replication status");
  registerInit(cluster, output);
  registerIssue(cluster, output);
  registerClusterKeys(cluster, output, clusterDirDefault);
  return cluster;
}

interface InitFlags {
  dir: string;
  name: string;
  replication: ReplicationMode;
  n: number;
  r: number;
  w: number;
  open: boolean;
  validityDays: number;
  force: boolean;
}

function registerInit(cluster: Command, output: ClusterCommandOutput): void {
  cluster
    .command('init')
    .description('create the cluster certificate authority (CA) that signs every peer certificate')
    .option('--dir <dir>', 'directory for the CA key and certificate', clusterDirDefault)
    .option('--name <name>', "the cluster's name, shown as the issuer of every certificate", clusterNameDefault)
    .addOption(new Option('--replication <mode>', 'how storage peers replicate the key-value store, chosen once for the cluster').choices([...replicationModes]).default(replicationDefaults.mode))
    .option('--n <replicas>', 'leaderless: copies of each key', integerOption('--n', 1, replicasPerKeyMax), replicationDefaults.n)
    .option('--r <replicas>', 'leaderless: replicas that must answer a read, by default (r + w > n gives read-your-writes)', integerOption('--r', 1, replicasPerKeyMax), replicationDefaults.r)
    .option('--w <replicas>', 'leaderless: replicas that must fsync a write before it is acknowledged, by default', integerOption('--w', 1, replicasPerKeyMax), replicationDefaults.w)
    .option('--open', 'serve the API to anyone, without API keys (otherwise add keys with nines cluster key add)', false)
    .option('--validity-days <days>', 'how long the CA certificate is valid, in days', parseValidityDays, caValidityDaysDefault)
    .option('--force', 'replace an existing CA; every certificate it issued stops being trusted', false)
    .action(async (flags: InitFlags, command: Command) => {
      try {
        const replication = { mode: flags.replication, n: flags.n, r: flags.r, w: flags.w };
        const problem = replicationConfigProblem(replication);
        if (problem !== undefined) throw new RangeError(`--n/--r/--w: ${problem}`);
        const authority = await initCluster(flags.dir, { name: flags.name, validityDays: flags.validityDays, force: flags.force });
        writeReplicationFile(flags.dir, replication);
        if (flags.open) writeApiKeys(flags.dir, { open: true, keys: [] });
        const paths = clusterPaths(flags.dir);
        const quorums = replication.mode === 'leaderless' ? ` (n=${replication.n}, r=${replication.r}, w=${replication.w})` : '';
        output.write(
          [
            `created cluster CA "${authority.name}" in ${flags.dir}`,
            `  replication: ${replication.mode}${quorums}, recorded in ${flags.dir}/replication.json`,
            flags.open ? '  API: open to anyone (no keys)' : `  API: no keys yet; add one with nines cluster key add <name> --dir ${flags.dir}`,
            `  ${paths.key}  private key (mode 0600): keep it on this machine only`,
            `  ${paths.certificate}  CA certificate`,
            `  SHA-256 fingerprint ${authority.fingerprint256}`,
            `next: nines cluster issue --cluster-dir ${flags.dir} --data-dir <peer data dir>`,
            '',
          ].join('\n'),
        );
      } catch (error) {
        fail(command, error);
      }
    });
}

interface IssueFlags {
  clusterDir: string;
  dataDir: string;
  validityDays: number;
  force: boolean;
}

function registerIssue(cluster: Command, output: ClusterCommandOutput): void {
  cluster
    .command('issue')
    .description("give a peer a certificate signed by the cluster CA, creating the peer's key if it has none")
    .requiredOption('--cluster-dir <dir>', 'directory holding the cluster CA (from nines cluster init)')
    .requiredOption('--data-dir <dir>', "the peer's data directory")
    .option('--validity-days <days>', 'how long the certificate is valid, in days', parseValidityDays, peerValidityDaysDefault)
    .option('--force', 'replace an existing certificate (the key, and so the node id, is kept)', false)
    .action(async (flags: IssueFlags, command: Command) => {
      try {
        const identity = await issuePeerCertificate(flags.clusterDir, flags.dataDir, { validityDays: flags.validityDays, force: flags.force });
        const paths = identityPaths(flags.dataDir);
        output.write(
          [
            `issued a certificate for node ${identity.nodeId} (${identity.keyCreated ? 'new key' : 'existing key kept'})`,
            `  ${paths.key}  private key (mode 0600)`,
            `  ${paths.certificate}  certificate`,
            `  ${paths.ca}  cluster CA certificate`,
            `other peers reach it as <host>:<port>#${identity.nodeId}`,
            '',
          ].join('\n'),
        );
      } catch (error) {
        fail(command, error);
      }
    });
}

function parseValidityDays(text: string): number {
  const days = Number(text);
  if (!/^[0-9]+$/.test(text) || days < 1 || days > validityDaysMax) {
    throw new InvalidArgumentError(`a whole number of days from 1 to ${validityDaysMax} is needed.`);
  }
  return days;
}

/** Reports an operating error the way commander reports bad flags: a message and exit code 1. */
function fail(command: Command, error: unknown): never {
  if (error instanceof IdentityError) command.error(`error: ${error.message}`, { exitCode: 1, code: `nines.${error.code}` });
  if (error instanceof RangeError) command.error(`error: ${error.message}`, { exitCode: 1, code: 'nines.INVALID_ARGUMENT' });
  // File-system failures (no permission, a file where a directory should be) carry an errno code.
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    command.error(`error: ${(error as Error).message}`, { exitCode: 1, code: `nines.${code}` });
  }
  throw error;
}
