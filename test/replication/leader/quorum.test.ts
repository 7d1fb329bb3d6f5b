import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { committedIndex, hasMajority, majority, voteOutcome } from '../../../src/replication/leader/index.js';

/** The dumb reference: the highest index that more than half of the voters have reached. */
function committedIndexByCounting(matches: readonly number[]): number {
  let best = 0;
  for (const candidate of matches) {
    const reached = matches.filter((match) => match >= candidate).length;
    if (reached * 2 > matches.length) best = Math.max(best, candidate);
  }
  return best;
}

describe('quorum arithmetic (Raft §5.2, §5.3)', () => {
  it('needs a strict majority', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(majority)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });

  it('computes the committed index like the dumb count, for any matches', () => {
    fc.assert(fc.property(fc.array(fc.nat(50), { minLength: 1, maxLength: 9 }), (matches) => {
      const voters = matches.map((_, index) => `v${index}`);
      expect(committedIndex(voters, (peer) => matches[Number(peer.slice(1))])).toBe(committedIndexByCounting(matches));
    }), { numRuns: 2_000 });
  });

  it('decides an election as soon as the outcome is certain, and not before', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { minLength: 1, maxLength: 9 }), (votes) => {
      const voters = votes.map((_, index) => `v${index}`);
      const cast = new Map<string, boolean>();
      votes.forEach((vote, index) => { if (vote !== undefined) cast.set(voters[index], vote); });
      const granted = votes.filter((vote) => vote === true).length;
      const possible = votes.filter((vote) => vote !== false).length;
      const expected = granted * 2 > votes.length ? 'won' : possible * 2 > votes.length ? 'pending' : 'lost';
      expect(voteOutcome(voters, cast)).toBe(expected);
    }), { numRuns: 2_000 });
  });

  it('ignores votes and peers outside the voter list', () => {
    expect(voteOutcome(['a', 'b', 'c'], new Map([['a', true], ['x', true], ['y', true]]))).toBe('pending');
    expect(hasMajority(['a', 'b', 'c'], new Set(['a', 'x', 'y']))).toBe(false);
    expect(hasMajority(['a', 'b', 'c'], new Set(['a', 'c']))).toBe(true);
  });
});
