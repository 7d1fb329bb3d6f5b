/**
 * The plain data of multi-leader replication: what a client asks, what a peer answers, what
 * one peer's change log holds and ships, and what a key holds. Everything here is JSON-safe,
 * so it travels in messages and lands on disk as it is.
 */
import type { HlcTimestamp, RegisterState, VersionVector } from '../versions/index.js';

export type MultiLeaderWrite =
  /** `value: null` deletes (a tombstone that replicates). Without `context` the write has seen nothing, and becomes a sibling of every value the key holds. */
  | { kind: 'put'; requestId: string; key: string; value: string | null; context?: VersionVector; lastWriterWins?: boolean }
  /** Adds one element to the append-only set at `key`; merging never loses an element. */
  | { kind: 'append'; requestId: string; key: string; value: string };

/** One element of an append-only set: `id` is `<origin>:<seq>`, the change that added it. */
export interface SetElement {
  id: string;
  timestamp: HlcTimestamp;
  value: string;
}

/** A key holds a register (siblings or last-writer-wins) or an append-only set; never both. */
export type KeyState = { kind: 'register'; state: RegisterState } | { kind: 'set'; elements: SetElement[] };

/**
 * What a change does to its key:
 * - `put`: the write's delta, a register state that `mergeRegisters` merges into any replica's
 *   state. Its clock is what the write had seen plus its own dot; its siblings are the write's
 *   new sibling and those of the origin's kept siblings that this clock covers (so that merging
 *   the delta never drops a value the write had not seen — see `registerDelta`).
 * - `append`: the element added.
 */
export type Change = { kind: 'put'; delta: RegisterState } | { kind: 'append'; element: SetElement };

/** One entry of a peer's change log: the `seq`-th change its clients made on it (seq 1, 2, ... per origin). */
export interface ChangeEntry {
  origin: string;
  seq: number;
  key: string;
  change: Change;
}

export type MultiLeaderReplyCode = 'KV_COMMAND_INVALID' | 'KV_UNAVAILABLE' | 'KV_TOO_MANY_SIBLINGS';

export type MultiLeaderReply =
  /**
   * `state`: the register after a put (its clock is the context for the next write); `element`:
   * the element an append added. `applied` is the session token: what this peer had applied when
   * the write became durable; a read at any peer whose applied vector descends it sees the write.
   */
  | { requestId: string; ok: true; state?: RegisterState; element?: SetElement; applied: VersionVector }
  | { requestId: string; ok: false; code: MultiLeaderReplyCode; message: string };

/**
 * What peers send each other.
 * - `changes`: consecutive entries of the sender's own log (the sender is their origin).
 * - `ack`: the receiver has applied, durably, the sender's changes through `appliedSeq`; the
 *   sender resumes shipping after it and may forget entries every peer has acknowledged.
 */
export type MultiLeaderMessage = { type: 'changes'; entries: ChangeEntry[] } | { type: 'ack'; appliedSeq: number };

export interface MultiLeaderReady {
  /** Write these durably (one transaction) BEFORE sending `messages` or delivering `replies`. */
  logToAppend: ChangeEntry[];
  /** Own seq every peer has: delete own entries <= it. */
  logTruncatedThrough: number | undefined;
  keysToPersist: Array<{ key: string; state: KeyState }>;
  /** Persist: what this peer has applied, per origin (its own entry is its own last seq). */
  applied: VersionVector;
  messages: Array<{ to: string; message: MultiLeaderMessage }>;
  replies: MultiLeaderReply[];
}

export interface MultiLeaderPeerStatus {
  id: string;
  /** The shell's failure detector's view; nothing is shipped to a peer that is down. */
  up: boolean;
  /** The last own seq this peer has acknowledged. */
  acknowledgedSeq: number;
  /** Own changes this peer has not acknowledged yet: the replication lag to it. */
  entriesBehind: number;
  ticksSinceAck: number;
}

export interface MultiLeaderStatus {
  id: string;
  applied: VersionVector;
  ownSeq: number;
  /** Own entries kept until every peer has acknowledged them. */
  logEntries: number;
  peers: MultiLeaderPeerStatus[];
}
