/**
 * Operating errors of the Raft core: each has a stable `code` the API layer maps to a status,
 * and a message that says what happened and what the caller can do. Programmer errors (a
 * broken invariant, a Ready taken twice) are assertions instead.
 */
import type { PeerId } from './types.js';

export abstract class RaftError extends Error {
  abstract readonly code: string;
}

/** A write or a membership change was sent to a peer that is not the leader. */
export class NotLeaderError extends RaftError {
  override name = 'NotLeaderError';
  readonly code = 'RAFT_NOT_LEADER';
  /** The leader this peer last heard from in its current term, if any: the client should retry there. */
  readonly leaderHint: PeerId | undefined;
  constructor(leaderHint: PeerId | undefined) {
    super(leaderHint === undefined ? 'this peer is not the leader and knows of none; retry after an election' : `this peer is not the leader; retry on ${leaderHint}`);
    this.leaderHint = leaderHint;
  }
}

export class ProposalTooLargeError extends RaftError {
  override name = 'ProposalTooLargeError';
  readonly code = 'RAFT_PROPOSAL_TOO_LARGE';
  constructor(readonly bytes: number, readonly bytesMax: number) {
    super(`a proposal of ${bytes} bytes exceeds proposalBytesMax (${bytesMax}); split the write into smaller ones`);
  }
}

/** The leader refused a proposal it could not take right now; nothing was appended, so retrying is safe. */
export class ProposalDroppedError extends RaftError {
  override name = 'ProposalDroppedError';
  readonly code = 'RAFT_PROPOSAL_DROPPED';
  constructor(readonly reason: 'leadershipTransfer' | 'uncommittedEntriesLimit' | 'uncommittedBytesLimit' | 'pendingProposalsLimit') {
    super(`the leader dropped the proposal (${reason}); nothing was written, retry shortly`);
  }
}

/** Only one membership change may be in flight (Raft dissertation §4.1). */
export class MembershipChangeRefusedError extends RaftError {
  override name = 'MembershipChangeRefusedError';
  readonly code = 'RAFT_MEMBERSHIP_CHANGE_REFUSED';
  constructor(reason: string) {
    super(`membership change refused: ${reason}`);
  }
}

export class LeadershipTransferRefusedError extends RaftError {
  override name = 'LeadershipTransferRefusedError';
  readonly code = 'RAFT_TRANSFER_REFUSED';
  constructor(reason: string) {
    super(`leadership transfer refused: ${reason}`);
  }
}

/** A read could not be queued because too many are pending. */
export class ReadRefusedError extends RaftError {
  override name = 'ReadRefusedError';
  readonly code = 'RAFT_READ_REFUSED';
  constructor(reason: string) {
    super(`linearizable read refused: ${reason}; retry shortly`);
  }
}

/** The settings handed to the core break a rule; the message names the setting. */
export class RaftSettingsError extends RaftError {
  override name = 'RaftSettingsError';
  readonly code = 'RAFT_SETTINGS_INVALID';
}

/** Stored state handed to the core at start-up contradicts itself (a corrupt or mixed-up data directory). */
export class CorruptStateError extends RaftError {
  override name = 'CorruptStateError';
  readonly code = 'RAFT_STATE_CORRUPT';
}
