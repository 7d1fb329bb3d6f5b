import { describe, expect, it } from 'vitest';
import { checkNoAcknowledgedWriteLost, checkReadYourWrites, divergentKeys } from '../../../src/sim/leaderless/checkers.js';
import type { PutRecord } from '../../../src/sim/leaderless/client.js';
import type { RegisterState } from '../../../src/replication/versions/index.js';

const timestamp = { wallMs: 1, logical: 0, node: 'a' };
const sibling = (node: string, counter: number, value: string) => ({ dot: { node, counter }, value, timestamp, lastWriterWins: false });
const put = (overrides: Partial<PutRecord>): PutRecord => ({ client: 'c0', key: 'k', value: 'v', context: {}, lastWriterWins: false, calledAtMs: 0, ackedAtMs: 10, dot: { node: 'a', counter: 1 }, ...overrides });
const owners = () => ['a', 'b', 'c'];

describe('leaderless checkers', () => {
  it('finds an acknowledged write missing from a replica, or vanished without a covering context', () => {
    const holding: RegisterState = { clock: { a: 1 }, siblings: [sibling('a', 1, 'v')] };
    const emptied: RegisterState = { clock: { a: 1, b: 1 }, siblings: [sibling('b', 1, 'w')] };
    expect(checkNoAcknowledgedWriteLost([put({})], owners, () => holding)).toEqual([]);
    expect(checkNoAcknowledgedWriteLost([put({})], owners, (replica) => (replica === 'c' ? undefined : holding))[0]).toMatch(/missing on replica c/);
    expect(checkNoAcknowledgedWriteLost([put({})], owners, () => emptied)[0]).toMatch(/vanished from replica a although no write's context covered it/);
    // Superseded by a later put whose context had seen it: allowed, even if that put was never acknowledged.
    const superseding = put({ dot: undefined, ackedAtMs: undefined, context: { a: 1 }, value: 'w' });
    expect(checkNoAcknowledgedWriteLost([put({}), superseding], owners, () => emptied)).toEqual([]);
    // The same dot with another value: a dot minted twice for two different writes.
    expect(checkNoAcknowledgedWriteLost([put({ value: 'other' })], owners, () => holding)[0]).toMatch(/holds "v" under the dot a:1 of k, which was the acknowledged put of "other"/);
    // Unacknowledged puts promise nothing.
    expect(checkNoAcknowledgedWriteLost([put({ dot: undefined })], owners, () => undefined)).toEqual([]);
  });

  it('finds keys whose replicas differ', () => {
    const one: RegisterState = { clock: { a: 1 }, siblings: [sibling('a', 1, 'v')] };
    const two: RegisterState = { clock: { a: 2 }, siblings: [sibling('a', 2, 'w')] };
    expect(divergentKeys(['k', 'j'], owners, (replica, key) => (key === 'k' && replica === 'b' ? two : one))).toEqual(['k']);
    expect(divergentKeys(['k'], owners, () => undefined)).toEqual([]);
  });

  it('finds a read that missed the reader\'s own earlier acknowledged write, and ignores other clients and later writes', () => {
    const state: RegisterState = { clock: { a: 1 }, siblings: [sibling('a', 1, 'v')] };
    const gets = [{ client: 'c0', key: 'k', calledAtMs: 20, completedAtMs: 30, state }];
    expect(checkReadYourWrites([put({})], gets)).toEqual({ checked: 1, violations: [] });
    const missed = checkReadYourWrites([put({ dot: { node: 'a', counter: 2 } })], gets);
    expect(missed.violations[0]).toMatch(/c0 read k at 20 ms without its own acknowledged put a:2/);
    expect(checkReadYourWrites([put({ client: 'c1', dot: { node: 'a', counter: 2 } })], gets).checked).toBe(0);
    expect(checkReadYourWrites([put({ ackedAtMs: 25, dot: { node: 'a', counter: 2 } })], gets).checked).toBe(0);
  });
});
