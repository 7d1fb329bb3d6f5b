import { describe, expect, it } from 'vitest';
import { checkWeakReads, type WeakRead } from '../../../src/sim/checkers/session.js';

const committedAt = new Map([['a', 3], ['b', 5], ['c', 8]]);
const indexOf = (value: string) => committedAt.get(value);
const session = (value: string | null, ownLatestWrite?: string, previousRead?: string | null): WeakRead =>
  ({ client: 1, key: 'k', consistency: 'session', value, ownLatestWrite, previousRead });

describe('checkWeakReads', () => {
  it('accepts a session read that sees the client\'s own write or something newer', () => {
    expect(checkWeakReads([session('b', 'b'), session('c', 'b'), session('c', undefined, 'c')], indexOf)).toEqual([]);
  });

  it('rejects a session read older than the client\'s own write (read-your-writes)', () => {
    expect(checkWeakReads([session('a', 'b')], indexOf)[0]).toMatch(/older than the client's own write b/);
    expect(checkWeakReads([session(null, 'a')], indexOf)[0]).toMatch(/returned null \(index 0\)/);
  });

  it('rejects a session read that goes back in time (monotonic reads)', () => {
    expect(checkWeakReads([session('a', undefined, 'c')], indexOf)[0]).toMatch(/older than the c it read before/);
  });

  it('lets a stale read be old but never invented', () => {
    const stale = (value: string | null): WeakRead => ({ client: 2, key: 'k', consistency: 'stale', value, ownLatestWrite: 'c', previousRead: 'c' });
    expect(checkWeakReads([stale('a'), stale(null)], indexOf)).toEqual([]);
    expect(checkWeakReads([stale('never-written')], indexOf)[0]).toMatch(/never committed/);
  });
});
