/**
 * What the core needs from disk at start-up, and how a brand-new cluster's first state looks.
 *
 * The shell's side of the contract (an SQLite shell does each step in one transaction):
 * persist every Ready's `snapshot`, `entries` (deleting any stored entry at or after
 * `entries[0].index` first) and `hardState`, make them durable, and only then send the Ready's
 * messages. At start-up, load the latest snapshot, the entries after it and the hard state,
 * and hand them to `new RaftNode({ stored })`, which verifies the hash chain.
 */
import { encodeMembershipEntry } from './membership.js';
import { makeEntry } from './hash.js';
import { emptySnapshotMeta } from './log.js';
import type { Entry, HardState, PeerId, Snapshot } from './types.js';

export interface StoredState {
  readonly hardState: HardState;
  /** The latest snapshot; a log that was never compacted has the empty snapshot at index 0. */
  readonly snapshot: Snapshot;
  /** Entries snapshot.index + 1 onwards, in order. */
  readonly entries: readonly Entry[];
}

/** A peer that joins an existing cluster starts empty: it learns the log and the membership from the leader. */
export function emptyStoredState(): StoredState {
  return { hardState: { term: 0, vote: undefined, commit: 0 }, snapshot: { meta: emptySnapshotMeta([]), data: new Uint8Array(0) }, entries: [] };
}

/**
 * The first state of every founding peer of a new cluster: one committed membership entry at
 * index 1, term 1, naming the voters. Every founder computes the same entry (same hash), so
 * their logs agree from the start.
 */
export function bootstrapStoredState(voters: readonly PeerId[]): StoredState {
  const membership = { voters: [...new Set(voters)].sort(), learners: [] };
  const empty = emptySnapshotMeta([]);
  const entry = makeEntry(empty.hash, 1, 1, 'configuration', encodeMembershipEntry({ change: undefined, membership }));
  return { hardState: { term: 1, vote: undefined, commit: 1 }, snapshot: { meta: empty, data: new Uint8Array(0) }, entries: [entry] };
}
