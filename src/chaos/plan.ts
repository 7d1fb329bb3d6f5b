/**
 * The kill plan of a chaos run: pure, and the same for the same seed.
 *
 * Kills form a Poisson process over the whole swarm: the gaps between them are drawn from an
 * exponential distribution whose mean is the configured MTBF (so "--mtbf 30s" is one kill
 * every 30 s on average, whichever peer it hits, and each of n peers fails on average every
 * n * 30 s). Each kill picks one peer at random among those up and restarts it `repairMs`
 * later. A kill is skipped when it would leave a majority of the peers down: at most
 * floor((n - 1) / 2) peers are down at once, so a single-leader (Raft) cluster always keeps a
 * quorum and can stay available — the run measures how fast it recovers, not whether a
 * cluster without a quorum stops (it must). No kill is planned whose restart would fall after
 * the run's end, and at most `killsMax` are planned.
 */
import { Rng } from '../core/rng.js';
import { assert } from '../core/assert.js';

export interface ChaosPlanOptions {
  seed: number;
  peers: number;
  durationMs: number;
  /** Mean time between kills, over the whole swarm. */
  mtbfMs: number;
  /** How long a killed peer stays down before it is restarted. */
  repairMs: number;
  killsMax: number;
}

export interface PlannedKill {
  atMs: number;
  /** The peer's index, from 0. */
  peer: number;
  restartAtMs: number;
}

export interface SkippedKill {
  atMs: number;
  reason: string;
}

export interface ChaosPlan {
  kills: PlannedKill[];
  /** Kill times drawn that would have left a majority down. */
  skipped: SkippedKill[];
  /** Peers that may be down at once: a minority. */
  downPeersMax: number;
}

/** Peers that may be down at once while a majority stays up: floor((n - 1) / 2). */
export function downPeersMax(peers: number): number {
  return Math.floor((peers - 1) / 2);
}

/** An exponentially distributed delay with the given mean (inverse transform of a uniform draw). */
export function exponentialDelayMs(rng: Rng, meanMs: number): number {
  // 1 - u lies in (0, 1], so the logarithm is finite.
  return -meanMs * Math.log(1 - rng.nextFloat());
}

export function planChaos(options: ChaosPlanOptions): ChaosPlan {
  const { peers, durationMs, mtbfMs, repairMs, killsMax } = options;
  assert(Number.isSafeInteger(peers) && peers >= 1, 'a plan needs at least one peer');
  assert(mtbfMs > 0 && repairMs >= 0 && durationMs >= 0 && killsMax >= 0, 'plan durations and counts are not negative');
  const rng = new Rng(options.seed);
  const limit = downPeersMax(peers);
  const kills: PlannedKill[] = [];
  const skipped: SkippedKill[] = [];
  for (let atMs = exponentialDelayMs(rng, mtbfMs); atMs + repairMs <= durationMs; atMs += exponentialDelayMs(rng, mtbfMs)) {
    const rounded = Math.round(atMs);
    if (kills.length >= killsMax) break;
    const down = new Set(kills.filter((kill) => kill.atMs <= rounded && rounded < kill.restartAtMs).map((kill) => kill.peer));
    if (down.size + 1 > limit) {
      skipped.push({ atMs: rounded, reason: limit === 0 ? `with ${peers} peer${peers === 1 ? '' : 's'} no kill leaves a majority up` : `${down.size} of ${peers} peers are down already; one more would leave no majority` });
      continue;
    }
    const up = Array.from({ length: peers }, (_, index) => index).filter((index) => !down.has(index));
    const peer = up[rng.nextInt(up.length)];
    kills.push({ atMs: rounded, peer, restartAtMs: rounded + repairMs });
  }
  return { kills, skipped, downPeersMax: limit };
}
