/** The leaderless store's requests, replies and outputs: plain data the shell persists, sends and answers with. */
import type { RegisterState, VersionVector } from '../versions/index.js';
import type { AntiEntropyStats } from './anti-entropy/index.js';
import type { LeaderlessMessage } from './messages.js';
import type { LeaderlessSettings } from './settings.js';

/**
 * `n` (per request, at most the cluster's n) is how many of the key's replicas the request
 * reaches now: a read asks that many, a write is sent to that many and the others receive it
 * later from anti-entropy. `r`/`w` (at most that n) is how many must answer.
 */
export type KvRequest =
  | { kind: 'get'; requestId: string; key: string; r?: number; n?: number }
  /**
   * `value: null` deletes (a tombstone). `context` is what the writer read: siblings it covers
   * are replaced. Without a context the coordinator uses its own current clock for the key,
   * so the write supersedes everything the coordinator has seen (a blind overwrite of that).
   */
  | { kind: 'put'; requestId: string; key: string; value: string | null; context?: VersionVector; w?: number; n?: number; lastWriterWins?: boolean };

export type KvErrorCode = 'KV_UNAVAILABLE' | 'KV_TIMEOUT' | 'KV_COMMAND_INVALID' | 'KV_TOO_MANY_SIBLINGS';

/**
 * `replicas` names the peers whose answers made the result, the coordinator first for a put:
 * the put's own dot is `{ node: replicas[0], counter: state.clock[replicas[0]] }`.
 */
export type KvReply =
  | { requestId: string; ok: true; kind: 'get'; state: RegisterState; replicas: string[] }
  | { requestId: string; ok: true; kind: 'put'; state: RegisterState; replicas: string[] }
  | { requestId: string; ok: false; code: KvErrorCode; message: string; answered: number; needed: number };

/** A write a stand-in keeps for a down owner, until the owner has it. One per (owner, key): later writes merge in. */
export interface Hint {
  id: string;
  owner: string;
  key: string;
  state: RegisterState;
}

export interface LeaderlessReady {
  /** Write these durably (one transaction) BEFORE sending `messages` or delivering `replies`: an ack means fsynced. */
  statesToPersist: Array<{ key: string; state: RegisterState }>;
  hintsToPersist: Hint[];
  hintsToDelete: string[];
  messages: Array<{ to: string; message: LeaderlessMessage }>;
  replies: KvReply[];
}

export interface LeaderlessStatus {
  id: string;
  peers: Array<{ id: string; up: boolean }>;
  keys: number;
  hintsHeld: number;
  hintsByOwner: Record<string, number>;
  pendingRequests: number;
  readRepairs: number;
  antiEntropy: AntiEntropyStats;
  settings: LeaderlessSettings;
}

export function hintId(owner: string, key: string): string {
  return JSON.stringify([owner, key]);
}
