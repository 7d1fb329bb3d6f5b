/**
 * The Raft core's settings, with the limits every queue and message has (TigerBeetle style),
 * and the relationships between them checked once at start-up.
 */
import { RaftSettingsError } from './errors.js';
import type { AckLevel } from './types.js';

export interface RaftSettings {
  /** A leader sends a heartbeat every this many ticks. */
  heartbeatTicks: number;
  /**
   * A follower that hears nothing for a randomized timeout in [electionTicks, 2 * electionTicks)
   * starts an election (Raft §5.2); a leader with check-quorum steps down after electionTicks
   * without hearing from a quorum.
   */
  electionTicks: number;
  /** Run a pre-vote before a real election, so a rejoining partitioned peer does not disrupt (dissertation §9.6). */
  preVote: boolean;
  /**
   * A leader that has not heard from a quorum within electionTicks steps down; followers ignore
   * votes while they hear a leader. With both this and `preVote` off, removing a peer is refused
   * (a removed peer would depose every leader, dissertation §4.2.3).
   */
  checkQuorum: boolean;
  /** Entries in one AppendEntries message. */
  appendEntriesMax: number;
  /** AppendEntries messages in flight to one follower before the leader waits for acknowledgements. */
  inflightAppendsMax: number;
  /** Entries the leader holds that are not yet committed; proposals beyond it are dropped. */
  uncommittedEntriesMax: number;
  /** Bytes of command data the leader holds that are not yet committed. */
  uncommittedBytesMax: number;
  /** Bytes of one proposal's data. */
  proposalBytesMax: number;
  /** Proposals waiting for their acknowledgement on one leader. */
  pendingProposalsMax: number;
  /** Linearizable reads waiting on one peer. */
  pendingReadsMax: number;
  /** The durability a proposal gets when it does not ask for one. */
  defaultAcks: AckLevel;
}

export const defaultRaftSettings: Readonly<RaftSettings> = Object.freeze({
  heartbeatTicks: 1,
  electionTicks: 10,
  preVote: true,
  checkQuorum: true,
  appendEntriesMax: 64,
  inflightAppendsMax: 32,
  uncommittedEntriesMax: 4_096,
  uncommittedBytesMax: 16 * 1024 * 1024,
  proposalBytesMax: 1024 * 1024,
  pendingProposalsMax: 8_192,
  pendingReadsMax: 1_024,
  defaultAcks: 'quorum',
});

/** The settings with defaults filled in; throws RaftSettingsError naming the first rule broken. */
export function raftSettings(overrides: Partial<RaftSettings> = {}): RaftSettings {
  const settings: RaftSettings = { ...defaultRaftSettings, ...overrides };
  const positiveIntegers: (keyof RaftSettings)[] = [
    'heartbeatTicks', 'electionTicks', 'appendEntriesMax', 'inflightAppendsMax', 'uncommittedEntriesMax',
    'uncommittedBytesMax', 'proposalBytesMax', 'pendingProposalsMax', 'pendingReadsMax',
  ];
  for (const name of positiveIntegers) {
    const value = settings[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new RaftSettingsError(`${name} must be a positive integer, got ${String(value)}`);
  }
  // A follower must hear several heartbeats per election timeout, or it would start elections against a healthy leader.
  if (settings.heartbeatTicks >= settings.electionTicks) {
    throw new RaftSettingsError(`heartbeatTicks (${settings.heartbeatTicks}) must be less than electionTicks (${settings.electionTicks})`);
  }
  // A proposal larger than the whole uncommitted budget could never be accepted.
  if (settings.proposalBytesMax > settings.uncommittedBytesMax) {
    throw new RaftSettingsError(`proposalBytesMax (${settings.proposalBytesMax}) must not exceed uncommittedBytesMax (${settings.uncommittedBytesMax})`);
  }
  if (!['leader', 'quorum', 'all'].includes(settings.defaultAcks)) throw new RaftSettingsError(`defaultAcks must be leader, quorum or all, got ${String(settings.defaultAcks)}`);
  return settings;
}
