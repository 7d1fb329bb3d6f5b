/** Random settings for one multi-leader simulation run, all drawn from the run's seed (TigerBeetle's VOPR habit). */
import type { Rng } from '../../core/rng.js';
import type { MultiLeaderSettings } from '../../replication/multi-leader/index.js';
import type { NetworkSettings } from '../network.js';
import type { MultiLeaderMutation } from './peer.js';

export interface MultiLeaderRunSettings {
  peers: number;
  clients: number;
  /** Register keys with siblings, register keys whose writers ask for last-writer-wins, and append-only sets ("conversations"). */
  registerKeys: number;
  lastWriterWinsKeys: number;
  conversations: number;
  core: Partial<MultiLeaderSettings>;
  network: Partial<NetworkSettings>;
  fsyncTicks: number;
  /** Each peer's wall clock is off by up to this many milliseconds either way (hybrid logical clocks must cope). */
  clockSkewMsMax: number;
  /** Milliseconds a client waits between operations, at most. */
  thinkMsMax: number;
  safetyMs: number;
  /** After healing, clients go on writing this long (writes must succeed), then stop. */
  livenessMs: number;
  /** Once clients stop, every peer must hold the same state within this many simulated milliseconds. */
  convergenceMsMax: number;
  partitionMeanGapMs: number;
  partitionDurationMsMax: number;
  crashMeanGapMs: number;
  downtimeMsMax: number;
  mutation: MultiLeaderMutation;
}

export const multiLeaderTickMs = 10;

export function randomMultiLeaderRunSettings(rng: Rng): MultiLeaderRunSettings {
  const pick = (min: number, max: number) => min + rng.nextInt(max - min + 1);
  const shipIntervalTicks = pick(1, 3);
  return {
    peers: pick(3, 5),
    clients: pick(2, 6),
    registerKeys: pick(1, 3),
    lastWriterWinsKeys: pick(0, 1),
    conversations: pick(1, 3),
    core: {
      shipIntervalTicks,
      shipBatchMax: pick(2, 64),
      retransmitTicks: pick(Math.max(3, shipIntervalTicks), 20),
      // Usually roomy; sometimes so small that a long partition fills it and writes are refused until it heals.
      logEntriesMax: rng.nextFloat() < 0.2 ? pick(10, 60) : 100_000,
      setElementsMax: 100_000,
    },
    network: {
      latencyMsMedian: pick(2, 15),
      latencyLogSigma: 0.2 + rng.nextFloat(),
      latencyMsMin: 1,
      latencyMsMax: 300,
      lossRate: rng.nextFloat() < 0.3 ? 0 : rng.nextFloat() * 0.1,
      duplicationRate: rng.nextFloat() < 0.3 ? 0 : rng.nextFloat() * 0.05,
    },
    fsyncTicks: pick(1, 3),
    clockSkewMsMax: pick(0, 200),
    thinkMsMax: pick(10, 80),
    safetyMs: pick(1_500, 3_000),
    livenessMs: 1_500,
    convergenceMsMax: 10_000,
    partitionMeanGapMs: pick(200, 1_000),
    partitionDurationMsMax: pick(200, 1_500),
    crashMeanGapMs: pick(200, 1_000),
    downtimeMsMax: pick(50, 800),
    mutation: 'none',
  };
}
