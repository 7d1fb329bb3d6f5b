/** The plain data a chaos run records, and its report is built from. Times are ms since the epoch. */

export type RequestKind = 'chat' | 'kv-put' | 'kv-get';

/** One request a client sent (or tried to: `refused` means no peer listened at that gateway). */
export interface RequestRecord {
  /** When the request was sent. */
  atMs: number;
  kind: RequestKind;
  /** The gateway's peer index, from 0. */
  gateway: number;
  ok: boolean;
  /** The HTTP status, or null when there was no answer. */
  status: number | null;
  latencyMs: number;
  error: string | null;
  /** The connection was refused: the request never reached a peer, and the client moved to another gateway. */
  refused: boolean;
}

export type ChaosActionKind = 'kill' | 'restart' | 'skip';

/** What the run did to a peer, when, and what came of it. */
export interface ChaosAction {
  kind: ChaosActionKind;
  /** When the action began (a kill's SIGKILL, a restart's spawn, a skipped kill's planned time). */
  atMs: number;
  peer: number;
  nodeId: string;
  /** kill: whether the peer was the storage leader as last polled. */
  wasLeader?: boolean;
  /** restart: when the peer was ready again (null when it did not come back). */
  readyAtMs?: number | null;
  /** skip, or a failed restart: why. */
  reason?: string;
}

/** A leader seen for the first time in its term, by polling /v1/cluster/status. */
export interface LeaderObservation {
  atMs: number;
  leader: string;
  term: number;
  /** The peer whose status named it. */
  observer: string;
}

/** One failover of the storage leader, from its kill to a new leader known and a write acknowledged. */
export interface FailoverMeasure {
  killAtMs: number;
  oldLeader: string;
  newLeader: string | null;
  newLeaderAtMs: number | null;
  firstWriteAtMs: number | null;
  /** max(newLeaderAtMs, firstWriteAtMs) - killAtMs; null when the failover did not complete. */
  mttrMs: number | null;
}
