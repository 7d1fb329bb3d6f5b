/** What travels in the simulated Raft cluster: Raft's own messages, and client requests and responses. */
import type { AckLevel, RaftMessage } from '../../replication/leader/index.js';

/**
 * How a read is served (DESIGN.md section 5): `linearizable` through ReadIndex; `session` by
 * any peer once it has applied the client's session token (the index of the client's latest
 * write or read), which gives read-your-writes; `stale` by any peer at once.
 */
export type ReadConsistency = 'linearizable' | 'session' | 'stale';

export type ClientOperation =
  | { readonly kind: 'read'; readonly key: string; readonly consistency: ReadConsistency; readonly sessionToken: number }
  | { readonly kind: 'write'; readonly key: string; readonly value: string }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string | null };

export interface ClientRequest {
  readonly kind: 'request';
  readonly client: string;
  /** Grows with every request the client sends (retries too); responses echo it. */
  readonly requestId: number;
  /** Grows with every new operation (not with retries of one): the state machine's deduplication key. */
  readonly sequence: number;
  readonly operation: ClientOperation;
  readonly acks: AckLevel;
}

export type ClientOutcome =
  /**
   * Done: a read's value, a write's acknowledgement, a compare-and-set's verdict. `index` is
   * the new session token: the write's log index, or the applied index a read was served at.
   */
  | { readonly status: 'ok'; readonly value?: string | null; readonly succeeded?: boolean; readonly index: number }
  /** Certainly not done (the peer is not the leader, or dropped it): retry, at `leaderHint` if given. */
  | { readonly status: 'redirect'; readonly leaderHint: string | undefined }
  /** The leader lost leadership with the write in flight: it may or may not take effect. */
  | { readonly status: 'unknown' };

export interface ClientResponse {
  readonly kind: 'response';
  readonly requestId: number;
  readonly outcome: ClientOutcome;
}

export type SimulatedRaftMessage = { readonly kind: 'raft'; readonly message: RaftMessage } | ClientRequest | ClientResponse;
