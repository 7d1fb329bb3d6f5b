/** Random settings for one leaderless simulation run, all drawn from the run's seed (TigerBeetle's VOPR habit). */
import type { Rng } from '../../core/rng.js';
import type { LeaderlessSettings } from '../../replication/leaderless/index.js';
import type { NetworkSettings } from '../network.js';

export interface LeaderlessRunSettings {
  servers: number;
  clients: number;
  keys: number;
  /** How many of the keys are written with last-writer-wins. */
  lastWriterWinsKeys: number;
  store: Partial<LeaderlessSettings> & Pick<LeaderlessSettings, 'n' | 'r' | 'w' | 'sloppyQuorum'>;
  network: Partial<NetworkSettings>;
  fsyncTicks: number;
  pingIntervalTicks: number;
  /**
   * Ticks without hearing from a peer before the shell's failure detector suspects it. Far
   * below the latency tail, the detector flaps, and every false suspicion abandons the
   * anti-entropy exchanges with that peer (seed 3684 once failed to converge that way).
   */
  suspectTicks: number;
  /** Simulated time with clients and faults. */
  safetyMs: number;
  /** After healing, the replicas must converge within this much simulated time. */
  convergenceBoundMs: number;
  /** How often convergence is checked after healing. */
  convergenceCheckMs: number;
  partitionMeanGapMs: number;
  partitionDurationMsMax: number;
  crashMeanGapMs: number;
  downtimeMsMax: number;
  /**
   * When a sixth peer joins the ring (every running peer gets the new membership at once; peers
   * that are down get it when they restart), or undefined for a run without a membership change.
   */
  joinAtMs: number | undefined;
  /** A broken shell that acknowledges before fsync (the checkers' own test). */
  ackBeforePersist: boolean;
  /** Read repair, hinted handoff and anti-entropy all switched off (the checkers' own test). */
  noRepair: boolean;
}

export const leaderlessTickMs = 10;

export function randomLeaderlessRunSettings(rng: Rng): LeaderlessRunSettings {
  const pick = (min: number, max: number) => min + rng.nextInt(max - min + 1);
  const choose = <T>(options: readonly T[]): T => options[rng.nextInt(options.length)];
  const keys = pick(2, 8);
  const safetyMs = pick(1_000, 2_000);
  return {
    servers: 5,
    clients: pick(2, 5),
    keys,
    lastWriterWinsKeys: rng.nextFloat() < 0.3 ? 1 : 0,
    store: {
      n: 3,
      r: choose([1, 2, 3]),
      w: choose([1, 2, 3]),
      sloppyQuorum: rng.nextFloat() < 0.5,
      virtualNodesPerPeer: pick(4, 32),
      requestTimeoutTicks: pick(15, 40),
      handoffIntervalTicks: pick(2, 10),
      readRepair: true,
      antiEntropy: { treeDepth: pick(1, 4), exchangeIntervalTicks: pick(2, 12), exchangeTimeoutTicks: pick(10, 30) },
    },
    network: {
      latencyMsMedian: pick(2, 12),
      latencyLogSigma: 0.2 + rng.nextFloat(),
      latencyMsMin: 1,
      latencyMsMax: 200,
      lossRate: rng.nextFloat() < 0.3 ? 0 : rng.nextFloat() * 0.05,
      duplicationRate: rng.nextFloat() < 0.3 ? 0 : rng.nextFloat() * 0.05,
    },
    fsyncTicks: pick(1, 2),
    pingIntervalTicks: pick(1, 3),
    suspectTicks: pick(10, 25),
    safetyMs,
    convergenceBoundMs: 20_000,
    convergenceCheckMs: 50,
    partitionMeanGapMs: pick(200, 800),
    partitionDurationMsMax: pick(200, 1_000),
    crashMeanGapMs: pick(200, 800),
    downtimeMsMax: pick(200, 800),
    joinAtMs: rng.nextFloat() < 0.3 ? pick(Math.floor(safetyMs / 4), Math.floor((3 * safetyMs) / 4)) : undefined,
    ackBeforePersist: false,
    noRepair: false,
  };
}
