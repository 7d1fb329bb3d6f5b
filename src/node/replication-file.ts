/**
 * Which replication mode a cluster uses, chosen once when it is created (`nines cluster init
 * --replication ...`) and kept in `replication.json`: in the cluster directory, and copied into
 * every storage peer's data directory on its first start. A peer refuses to start when the two
 * disagree, and a data directory keeps its mode for life: switching modes would mean reading one
 * mode's database as another's.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeConfigError } from './errors.js';

export const replicationModes = ['single-leader', 'multi-leader', 'leaderless'] as const;
export type ReplicationMode = (typeof replicationModes)[number];

export interface ReplicationConfig {
  mode: ReplicationMode;
  /** Leaderless only: replicas per key, and how many must answer a read and acknowledge a write by default. */
  n: number;
  r: number;
  w: number;
}

export const replicationFileName = 'replication.json';
/** Replicas per key at most: each one is a copy of every key it holds. */
export const replicasPerKeyMax = 16;
export const replicationDefaults: ReplicationConfig = { mode: 'single-leader', n: 3, r: 2, w: 2 };

/** Why a replication config cannot work, or undefined. */
export function replicationConfigProblem(value: unknown): string | undefined {
  const config = value as Partial<ReplicationConfig> | null;
  if (typeof config !== 'object' || config === null) return 'it must be a JSON object {mode, n, r, w}';
  if (!replicationModes.includes(config.mode as ReplicationMode)) return `mode must be one of ${replicationModes.join(', ')}, got ${JSON.stringify(config.mode)}`;
  for (const name of ['n', 'r', 'w'] as const) {
    const count = config[name];
    if (!Number.isSafeInteger(count) || count! < 1 || count! > replicasPerKeyMax) return `${name} must be a whole number from 1 to ${replicasPerKeyMax}, got ${JSON.stringify(count)}`;
  }
  if (config.r! > config.n! || config.w! > config.n!) return `r (${config.r}) and w (${config.w}) cannot exceed n (${config.n}): a request cannot wait for more replicas than a key has`;
  return undefined;
}

export function readReplicationFile(directory: string): ReplicationConfig | undefined {
  const path = join(directory, replicationFileName);
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new NodeConfigError(`${path} is not JSON (${(error as Error).message}); restore it or recreate it with nines cluster init --replication`);
  }
  const problem = replicationConfigProblem(parsed);
  if (problem !== undefined) throw new NodeConfigError(`${path}: ${problem}`);
  const { mode, n, r, w } = parsed as ReplicationConfig;
  return { mode, n, r, w };
}

export function writeReplicationFile(directory: string, config: ReplicationConfig): void {
  const problem = replicationConfigProblem(config);
  if (problem !== undefined) throw new NodeConfigError(`replication settings: ${problem}`);
  writeFileSync(join(directory, replicationFileName), `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * The mode a storage peer runs: its data directory's, else its cluster's (copied into the data
 * directory), else single-leader — the mode of clusters made before there was a choice.
 */
export function settleReplication(dataDirectory: string, clusterDirectory: string | undefined): ReplicationConfig {
  const stored = readReplicationFile(dataDirectory);
  const cluster = clusterDirectory === undefined ? undefined : readReplicationFile(clusterDirectory);
  if (stored !== undefined && cluster !== undefined && JSON.stringify(stored) !== JSON.stringify(cluster)) {
    throw new NodeConfigError(
      `this data directory was made for ${describe(stored)} but the cluster in ${clusterDirectory} uses ${describe(cluster)}; ` +
        'a peer keeps its mode for life: use a fresh --data-dir to join this cluster',
    );
  }
  const settled = stored ?? cluster ?? replicationDefaults;
  if (stored === undefined) writeReplicationFile(dataDirectory, settled);
  return settled;
}

function describe(config: ReplicationConfig): string {
  return config.mode === 'leaderless' ? `leaderless n=${config.n} r=${config.r} w=${config.w}` : config.mode;
}
