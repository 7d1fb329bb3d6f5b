/**
 * The plain-data values of the Raft core: log entries, the state that must survive a crash,
 * snapshots, and what the core hands the shell in a `Ready`. Everything here is a value: the
 * shell may persist it, send it or compare it, and the core never keeps a reference the shell
 * could change behind its back (the core copies what it receives).
 */

/** The identity of a peer in the cluster. Addresses and transport details live in the shell. */
export type PeerId = string;

/** `normal` carries a client command; `configuration` carries a membership change; `empty` is the no-op a new leader appends (Raft §8). */
export type EntryType = 'normal' | 'configuration' | 'empty';

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
  /** SHA-256(previous entry's hash || term || index || type || data), hex: the log is a hash chain. */
  readonly hash: string;
}

/** What must be on disk before any message the core produced is sent (Raft §5.1, Figure 2 "persistent state"). */
export interface HardState {
  readonly term: number;
  /** Who this peer voted for in `term`, or undefined. */
  readonly vote: PeerId | undefined;
  readonly commit: number;
}

/** The membership: voters decide elections and commits; learners only receive the log. */
export interface Membership {
  readonly voters: readonly PeerId[];
  readonly learners: readonly PeerId[];
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  /** The hash of the entry at `index`, so that the hash chain continues across the snapshot. */
  readonly hash: string;
  readonly membership: Membership;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The state machine's state after applying every entry up to `meta.index`. */
  readonly data: Uint8Array;
}

/** How durable a write must be before the core reports it acknowledged (DESIGN.md section 5). */
export type AckLevel = 'leader' | 'quorum' | 'all';

export type ProposalId = string;

export interface Acknowledgement {
  readonly proposalId: ProposalId;
  readonly index: number;
  readonly term: number;
}

/** A proposal whose fate this leader can no longer tell (it stepped down): it may or may not commit. */
export interface Abandoned {
  readonly proposalId: ProposalId;
  readonly index: number;
  readonly term: number;
}

/** A linearizable read may be served from the state machine once the shell has applied `index`. */
export interface ReadState {
  readonly requestId: string;
  readonly index: number;
}

/** A read request the core could not serve (no leader known, or the leader refused it); the shell retries or tells the client. */
export interface ReadRefusal {
  readonly requestId: string;
  readonly leaderHint: PeerId | undefined;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state for status displays; never persisted. */
export interface SoftState {
  readonly role: Role;
  readonly leader: PeerId | undefined;
  readonly term: number;
}

/** A membership change, one server at a time (Raft dissertation §4.1). */
export type MembershipChange =
  | { readonly kind: 'addVoter'; readonly peer: PeerId }
  | { readonly kind: 'addLearner'; readonly peer: PeerId }
  | { readonly kind: 'removePeer'; readonly peer: PeerId };
