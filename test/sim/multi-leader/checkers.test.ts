import { describe, expect, it } from 'vitest';
import type { KeyState } from '../../../src/replication/multi-leader/index.js';
import { divergence, holdsPut, lostAcknowledgedWrites, missedOwnWrites, type AcknowledgedPut, type DurablePut } from '../../../src/sim/multi-leader/index.js';

const time = { wallMs: 1, logical: 0, node: 'a' };
const sibling = (node: string, counter: number) => ({ dot: { node, counter }, value: `${node}${counter}`, timestamp: time, lastWriterWins: false });
const register = (clock: Record<string, number>, ...siblings: ReturnType<typeof sibling>[]): KeyState => ({ kind: 'register', state: { clock, siblings } });
const put: AcknowledgedPut = { client: 0, peer: 'a', key: 'k', dot: { node: 'a', counter: 1 }, value: 'a1' };

describe('multi-leader checkers', () => {
  it('accept a put held as a sibling, or superseded by a durable put that had seen it and whose dot is held', () => {
    const successor: DurablePut = { key: 'k', dot: { node: 'b', counter: 1 }, seen: { a: 1 } };
    const blind: DurablePut = { key: 'k', dot: { node: 'b', counter: 1 }, seen: {} };
    expect(holdsPut(register({ a: 1 }, sibling('a', 1)), put, [])).toBe(true);
    // The dot is there, but not the value the client wrote.
    expect(holdsPut(register({ a: 1 }, { ...sibling('a', 1), value: 'garbled' }), put, [])).toBe(false);
    expect(holdsPut(register({ a: 1, b: 1 }, sibling('b', 1)), put, [successor])).toBe(true);
    // The same state, but the only later write had not seen the put: the put was dropped.
    expect(holdsPut(register({ a: 1, b: 1 }, sibling('b', 1)), put, [blind])).toBe(false);
    // A successor whose dot this peer does not hold cannot explain the put's absence.
    expect(holdsPut(register({ a: 1 }), put, [successor])).toBe(false);
    expect(holdsPut(undefined, put, [])).toBe(false);
    expect(holdsPut({ kind: 'set', elements: [] }, put, [])).toBe(false);
  });

  it('report every lost acknowledged put and append, per peer', () => {
    const finals = new Map([
      ['a', (key: string) => (key === 'k' ? register({ a: 1 }, sibling('a', 1)) : { kind: 'set' as const, elements: [{ id: 'a:2', timestamp: time, value: 'x' }, { id: 'a:3', timestamp: time, value: 'not y' }] })],
      ['b', (key: string) => (key === 'k' ? register({}) : { kind: 'set' as const, elements: [] })],
    ]);
    const lost = lostAcknowledgedWrites(finals, [put], [{ client: 0, peer: 'a', key: 'chat', id: 'a:2', value: 'x' }, { client: 0, peer: 'a', key: 'chat', id: 'a:3', value: 'y' }], []);
    expect(lost).toEqual([
      expect.stringContaining('append a:3 to chat (client 0 at a) is missing on a'),
      expect.stringContaining('put a:1 to k (client 0 at a) is missing on b'),
      expect.stringContaining('append a:2 to chat (client 0 at a) is missing on b'),
      expect.stringContaining('append a:3 to chat (client 0 at a) is missing on b'),
    ]);
  });

  it('find the first divergence between peers', () => {
    const same = { keys: new Map([['k', 'x']]), applied: '{}' };
    expect(divergence(new Map([['a', same], ['b', same]]))).toBeUndefined();
    expect(divergence(new Map([['a', same], ['b', { ...same, keys: new Map([['k', 'y']]) }]]))).toMatch(/key k differs between a and b/);
    expect(divergence(new Map([['a', same], ['b', { ...same, applied: '{"a":1}' }]]))).toMatch(/applied/);
  });

  it('find the own writes a read missed: a successor that saw the write counts as seeing it', () => {
    expect(missedOwnWrites(register({ a: 2 }, sibling('a', 2)), [put], [])).toEqual([]);
    expect(missedOwnWrites(register({ b: 1 }, sibling('b', 1)), [put], [{ client: 0, peer: 'a', key: 'k', id: 'a:3', value: 'z' }])).toEqual(['put a:1', 'append a:3']);
  });
});
