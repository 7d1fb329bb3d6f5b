/**
 * The settings of a chaos run from its flags, checked before anything starts: each bad value
 * or combination is refused with what is wrong and what to pass instead.
 */
import { localPeersMax } from '../node/local-swarm/index.js';
import { replicationModes, type ReplicationMode } from '../node/replication-file.js';
import { isLoopbackUrl } from './chaos-swarm.js';
import { durationMsMax, killsMaxLimit, mtbfMsMin, peersForKillsMin, repairMsMin, targetsMax } from './constants.js';
import { parseDurationMs } from './durations.js';
import { ChaosConfigError, ChaosTargetError } from './errors.js';

export const acksLevels = ['leader', 'quorum', 'all'] as const;

/** The flags as commander hands them over: text, except the switches. */
export interface ChaosFlags {
  peers: string;
  duration: string;
  mtbf: string;
  repair: string;
  seed?: string;
  replication: string;
  acks: string;
  killsMax?: string;
  leaderKills?: string;
  frontGateways?: string;
  out?: string;
  target?: string[];
  apiKey?: string;
  partitions?: boolean;
  model?: string;
  threads: string;
}

export interface ChaosSettings {
  peers: number;
  durationMs: number;
  mtbfMs: number;
  repairMs: number;
  seed: number;
  /** Whether the seed was given (a run without one draws it and prints it). */
  seedGiven: boolean;
  replication: ReplicationMode;
  acks: (typeof acksLevels)[number];
  killsMax: number;
  /** The first this many kills go to the storage leader of the moment, rather than to the planned peer. */
  leaderKills: number;
  /** Gateway-only peers in front of the run's own swarm, for the chat clients; never killed. */
  frontGateways: number;
  outDir: string;
  targets: string[];
  apiKey: string | undefined;
  model: string | undefined;
  threads: number;
}

/** Why --partitions is refused, and what it would take. */
export const partitionsRefusal =
  '--partitions is not built: partitioning peers on one machine needs each peer in its own network namespace ' +
  '(ip netns, joined by veth pairs to a bridge) and packet filters between groups (nft or iptables), which need root ' +
  '(CAP_NET_ADMIN and CAP_SYS_ADMIN). The deterministic simulator runs partitions without root: npm run sim:raft.';

function integer(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text.trim())) throw new ChaosConfigError(`${flag} must be a whole number, got '${text}'`);
  const value = Number(text.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new ChaosConfigError(`${flag} must be between ${min} and ${max}, got ${text}`);
  return value;
}

/**
 * Checks the flags. `drawSeed` gives a seed when none was passed; `nowIso` names the default
 * report directory (./chaos-report-<time>).
 */
export function chaosSettings(flags: ChaosFlags, drawSeed: () => number, nowIso: string): ChaosSettings {
  if (flags.partitions === true) throw new ChaosConfigError(partitionsRefusal);
  const targets = flags.target ?? [];
  if (targets.length > targetsMax) throw new ChaosConfigError(`at most ${targetsMax} --target addresses, got ${targets.length}`);
  for (const target of targets) {
    if (!isLoopbackUrl(target)) throw new ChaosTargetError(`--target ${target} is not a loopback http address (http://127.0.0.1:<port>): a chaos run sends traffic only to a swarm on this machine`);
  }
  if (!replicationModes.includes(flags.replication as ReplicationMode)) throw new ChaosConfigError(`--replication must be one of ${replicationModes.join(', ')}, got '${flags.replication}'`);
  if (!acksLevels.includes(flags.acks as ChaosSettings['acks'])) throw new ChaosConfigError(`--acks must be one of ${acksLevels.join(', ')}, got '${flags.acks}'`);
  const peers = integer(flags.peers, '--peers', 1, localPeersMax);
  const killsMax = flags.killsMax === undefined ? killsMaxLimit : integer(flags.killsMax, '--kills-max', 0, killsMaxLimit);
  if (targets.length === 0 && peers < peersForKillsMin && killsMax > 0) {
    throw new ChaosConfigError(`--peers ${peers} leaves no minority to kill (a majority must stay up); use --peers ${peersForKillsMin} or more, or --kills-max 0`);
  }
  if (targets.length > 0 && (flags.model !== undefined)) throw new ChaosConfigError('--model is for the swarm nines chaos starts itself; with --target the swarm serves its own model');
  const durationMs = parseDurationMs(flags.duration, '--duration', 1_000, durationMsMax);
  const repairMs = parseDurationMs(flags.repair, '--repair', repairMsMin, durationMsMax);
  const seed = flags.seed === undefined ? drawSeed() : integer(flags.seed, '--seed', 0, Number.MAX_SAFE_INTEGER);
  return {
    peers, durationMs, repairMs, seed, killsMax, targets,
    leaderKills: flags.leaderKills === undefined ? 0 : integer(flags.leaderKills, '--leader-kills', 0, killsMax),
    frontGateways: flags.frontGateways === undefined || targets.length > 0 ? 0 : integer(flags.frontGateways, '--front-gateways', 0, localPeersMax),
    mtbfMs: parseDurationMs(flags.mtbf, '--mtbf', mtbfMsMin, durationMsMax),
    seedGiven: flags.seed !== undefined,
    replication: flags.replication as ReplicationMode,
    acks: flags.acks as ChaosSettings['acks'],
    outDir: flags.out ?? `chaos-report-${nowIso.replace(/[:.]/g, '-')}`,
    apiKey: flags.apiKey,
    model: flags.model,
    threads: integer(flags.threads, '--threads', 1, 64),
  };
}
