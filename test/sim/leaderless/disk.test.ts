import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { SimulatedLeaderlessDisk } from '../../../src/sim/leaderless/disk.js';

const state = (value: string) => ({ clock: { a: 1 }, siblings: [{ dot: { node: 'a', counter: 1 }, value, timestamp: { wallMs: 0, logical: 0, node: 'a' }, lastWriterWins: false }] });
const hint = (id: string) => ({ id, owner: 'b', key: id, state: state(id) });

describe('SimulatedLeaderlessDisk', () => {
  it('keeps what was fsynced through any crash, and loses whole unsynced transactions, never half of one', () => {
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 50; seed++) {
      const disk = new SimulatedLeaderlessDisk();
      disk.write({ states: [{ key: 'k', state: state('synced') }], hintsToPersist: [hint('h1')], hintsToDelete: [] });
      disk.fsync();
      disk.write({ states: [{ key: 'k', state: state('second') }, { key: 'j', state: state('second') }], hintsToPersist: [], hintsToDelete: ['h1'] });
      disk.write({ states: [{ key: 'k', state: state('third') }], hintsToPersist: [hint('h2')], hintsToDelete: [] });
      disk.crash(new Rng(seed));
      const { states, hints } = disk.recover();
      const map = new Map(states);
      const value = map.get('k')!.siblings[0].value;
      // The second transaction is all there or not at all: j and the deletion of h1 travel with it.
      expect(map.has('j')).toBe(value !== 'synced');
      expect(hints.some((item) => item.id === 'h1')).toBe(value === 'synced');
      expect(hints.some((item) => item.id === 'h2')).toBe(value === 'third');
      outcomes.add(value!);
      expect(disk.lostTransactions).toBe(value === 'synced' ? 2 : value === 'second' ? 1 : 0);
    }
    expect([...outcomes].sort()).toEqual(['second', 'synced', 'third']);
  });
});
