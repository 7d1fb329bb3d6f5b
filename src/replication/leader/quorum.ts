/**
 * Majority arithmetic, kept apart so it can be checked against a dumb version over many
 * random cases (test/replication/leader/quorum.test.ts).
 */
import type { PeerId } from './types.js';

/** The smallest number of voters that is a majority of `voterCount` (Raft §5.2). */
export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The highest index that a majority of voters has matched: sort the voters' match indexes in
 * descending order and take the one at position majority - 1. A voter with no entry counts as 0.
 */
export function committedIndex(voters: readonly PeerId[], matchOf: (peer: PeerId) => number): number {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[majority(voters.length) - 1];
}

export type VoteOutcome = 'won' | 'lost' | 'pending';

/** Whether the granted and rejected votes so far decide an election among `voters`. */
export function voteOutcome(voters: readonly PeerId[], votes: ReadonlyMap<PeerId, boolean>): VoteOutcome {
  let granted = 0;
  let rejected = 0;
  for (const voter of voters) {
    const vote = votes.get(voter);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const needed = majority(voters.length);
  if (granted >= needed) return 'won';
  if (rejected > voters.length - needed) return 'lost';
  return 'pending';
}

/** Whether `peers` holds a majority of `voters`. */
export function hasMajority(voters: readonly PeerId[], peers: ReadonlySet<PeerId>): boolean {
  let count = 0;
  for (const voter of voters) if (peers.has(voter)) count++;
  return count >= majority(voters.length);
}
