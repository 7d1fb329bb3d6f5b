/** Random settings for one Raft simulation run, all drawn from the run's seed (TigerBeetle's VOPR habit). */
import type { Rng } from '../../core/rng.js';
import type { AckLevel, RaftSettings } from '../../replication/leader/index.js';
import type { NetworkSettings } from '../network.js';

export interface RaftRunSettings {
  voters: number;
  /** A peer outside the initial membership, which the run adds as a learner, promotes, and may remove again. */
  sparePeer: boolean;
  clients: number;
  keys: number;
  acks: AckLevel;
  raft: Partial<RaftSettings>;
  network: Partial<NetworkSettings>;
  fsyncTicks: number;
  snapshotEveryEntries: number;
  tearProbability: number;
  safetyMs: number;
  livenessMs: number;
  partitionMeanGapMs: number;
  /** A partition lasts 50 ms plus up to this long: long enough, often, for the majority side to elect a leader and commit. */
  partitionDurationMsMax: number;
  crashMeanGapMs: number;
  membershipMeanGapMs: number;
  /** How servers answer reads; only tests set `localUnsafe`, to prove the checker catches stale reads. */
  readMode: 'readIndex' | 'localUnsafe';
}

export const raftTickMs = 10;

export function randomRaftRunSettings(rng: Rng, acks: AckLevel): RaftRunSettings {
  const pick = (min: number, max: number) => min + rng.nextInt(max - min + 1);
  const electionTicks = pick(5, 15);
  return {
    voters: rng.nextFloat() < 0.75 ? 3 : 5,
    sparePeer: rng.nextFloat() < 0.5,
    clients: pick(2, 5),
    keys: pick(1, 3),
    acks,
    raft: {
      electionTicks,
      heartbeatTicks: pick(1, Math.max(1, Math.floor(electionTicks / 3))),
      preVote: rng.nextFloat() < 0.8,
      checkQuorum: rng.nextFloat() < 0.8,
      appendEntriesMax: pick(1, 16),
      inflightAppendsMax: pick(1, 8),
      uncommittedEntriesMax: pick(8, 256),
      defaultAcks: acks,
    },
    network: {
      latencyMsMedian: pick(2, 12),
      latencyLogSigma: 0.2 + rng.nextFloat(),
      latencyMsMin: 1,
      latencyMsMax: 200,
      lossRate: rng.nextFloat() < 0.3 ? 0 : rng.nextFloat() * 0.08,
      duplicationRate: rng.nextFloat() < 0.3 ? 0 : rng.nextFloat() * 0.05,
    },
    fsyncTicks: pick(1, 2),
    snapshotEveryEntries: pick(4, 60),
    tearProbability: 0.5,
    safetyMs: pick(1_500, 3_000),
    livenessMs: 2_500,
    partitionMeanGapMs: pick(200, 1_000),
    partitionDurationMsMax: pick(300, 2_000),
    crashMeanGapMs: pick(200, 1_000),
    membershipMeanGapMs: pick(200, 800),
    readMode: 'readIndex',
  };
}
