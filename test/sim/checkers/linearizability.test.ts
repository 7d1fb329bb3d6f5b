import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bruteForceLinearizable, checkLinearizability, withoutUnobservedUnknownWrites, type HistoryOperation } from '../../../src/sim/checkers/linearizability.js';

const unknown = Number.POSITIVE_INFINITY;
const write = (client: number, key: string, value: string | null, callAt: number, returnAt: number): HistoryOperation =>
  ({ kind: 'write', client, key, value, callAt, returnAt, output: returnAt === unknown ? undefined : {} });
const read = (client: number, key: string, value: string | null, callAt: number, returnAt: number): HistoryOperation =>
  ({ kind: 'read', client, key, callAt, returnAt, output: { value } });
const cas = (client: number, key: string, expected: string | null, value: string | null, succeeded: boolean | undefined, callAt: number, returnAt: number): HistoryOperation =>
  ({ kind: 'cas', client, key, expected, value, callAt, returnAt, output: succeeded === undefined ? undefined : { succeeded } });

describe('checkLinearizability', () => {
  it('accepts a sequential history and rejects a stale read after a completed write', () => {
    expect(checkLinearizability([write(0, 'k', 'a', 0, 1), read(1, 'k', 'a', 2, 3)]).ok).toBe(true);
    const stale = checkLinearizability([write(0, 'k', 'a', 0, 1), read(1, 'k', null, 2, 3)]);
    expect(stale.ok).toBe(false);
    expect(stale.violations[0].key).toBe('k');
  });

  it('lets a read concurrent with a write see either value', () => {
    expect(checkLinearizability([write(0, 'k', 'a', 0, 10), read(1, 'k', null, 1, 2), read(2, 'k', 'a', 3, 4)]).ok).toBe(true);
    // But once a read saw the new value, a later read may not see the old one (no going back in time).
    expect(checkLinearizability([write(0, 'k', 'a', 0, 10), read(1, 'k', 'a', 1, 2), read(2, 'k', null, 3, 4)]).ok).toBe(false);
  });

  it('finds a non-obvious order: the write that started last must be linearized first', () => {
    // Writes a (0..20) and b (1..3) overlap; reads show b then a, so b comes before a although a was called first.
    const history = [write(0, 'k', 'a', 0, 20), write(1, 'k', 'b', 1, 3), read(2, 'k', 'b', 4, 5), read(2, 'k', 'a', 21, 22)];
    expect(checkLinearizability(history).ok).toBe(true);
    expect(bruteForceLinearizable(history)).toBe(true);
    // The reverse order of observations is impossible: b finished before the second read started but a was already seen after it.
    const impossible = [write(0, 'k', 'a', 0, 2), write(1, 'k', 'b', 1, 3), read(2, 'k', 'b', 4, 5), read(2, 'k', 'a', 6, 7)];
    expect(checkLinearizability(impossible).ok).toBe(false);
  });

  it('backtracks when the first order it tries fails', () => {
    // Tried in call order, a then b leaves b, but the read needs a last: the search must undo and try b then a.
    const history = [write(0, 'k', 'a', 0, 10), write(1, 'k', 'b', 1, 10), read(2, 'k', 'a', 11, 12), cas(2, 'k', 'a', 'c', true, 13, 14), read(0, 'k', 'c', 15, 16)];
    const report = checkLinearizability(history);
    expect(report.ok).toBe(true);
    expect(report.steps).toBeGreaterThan(history.length);
    expect(bruteForceLinearizable(history)).toBe(true);
  });

  it('treats compare-and-set verdicts as observations', () => {
    expect(checkLinearizability([write(0, 'k', 'a', 0, 1), cas(1, 'k', 'a', 'b', true, 2, 3), read(2, 'k', 'b', 4, 5)]).ok).toBe(true);
    expect(checkLinearizability([write(0, 'k', 'a', 0, 1), cas(1, 'k', 'a', 'b', false, 2, 3)]).ok).toBe(false);
    // Two clients both succeeding at the same compare-and-set is the classic lost update.
    expect(checkLinearizability([write(0, 'k', 'a', 0, 1), cas(1, 'k', 'a', 'b', true, 2, 5), cas(2, 'k', 'a', 'c', true, 2, 5)]).ok).toBe(false);
  });

  it('lets an operation of unknown outcome take effect late, or never', () => {
    // The unknown write may have happened after the read of null...
    expect(checkLinearizability([write(0, 'k', 'a', 0, unknown), read(1, 'k', null, 5, 6), read(1, 'k', 'a', 7, 8)]).ok).toBe(true);
    // ...or never.
    expect(checkLinearizability([write(0, 'k', 'a', 0, unknown), read(1, 'k', null, 5, 6)]).ok).toBe(true);
    // But not before it was called.
    expect(checkLinearizability([read(1, 'k', 'a', 0, 1), write(0, 'k', 'a', 2, unknown)]).ok).toBe(false);
    // An unknown compare-and-set takes effect exactly when its expectation holds where it is placed.
    expect(checkLinearizability([write(0, 'k', 'a', 0, 1), cas(1, 'k', 'a', 'b', undefined, 2, unknown), read(2, 'k', 'b', 3, 4)]).ok).toBe(true);
    expect(checkLinearizability([write(0, 'k', 'x', 0, 1), cas(1, 'k', 'a', 'b', undefined, 2, unknown), read(2, 'k', 'b', 3, 4)]).ok).toBe(false);
  });

  it('checks each key on its own and names the bad one', () => {
    const report = checkLinearizability([write(0, 'x', '1', 0, 1), read(1, 'x', '1', 2, 3), write(0, 'y', '2', 4, 5), read(1, 'y', '3', 6, 7)]);
    expect(report.ok).toBe(false);
    expect(report.violations.map((violation) => violation.key)).toEqual(['y']);
  });

  it('reports a key it could not decide within the step limit instead of guessing', () => {
    const history: HistoryOperation[] = [];
    for (let index = 0; index < 12; index++) history.push(write(index, 'k', `v${index}`, 0, 100));
    history.push(read(20, 'k', 'nobody wrote this', 101, 102));
    const report = checkLinearizability(history, null, 50);
    expect(report.ok).toBe(false);
    expect(report.undecided).toEqual(['k']);
  });

  it('only drops unknown writes whose value nobody observed', () => {
    const history = [write(0, 'k', 'a', 0, unknown), write(1, 'k', 'b', 0, unknown), read(2, 'k', 'b', 3, 4)];
    expect(withoutUnobservedUnknownWrites(history).map((operation) => (operation.kind === 'write' ? operation.value : 'read'))).toEqual(['b', 'read']);
  });
});

/** Small random histories over two keys and four values, with overlapping intervals and some unknown outcomes. */
const arbitraryHistory = fc.array(
  fc.record({
    kind: fc.constantFrom('read', 'write', 'cas'),
    key: fc.constantFrom('x', 'y'),
    // Writes of 'c' are never read or expected: they exercise the checker's symmetry reduction for unmentioned values.
    value: fc.constantFrom('a', 'b', 'c', null),
    expected: fc.constantFrom('a', 'b', null),
    succeeded: fc.boolean(),
    callAt: fc.integer({ min: 0, max: 12 }),
    length: fc.integer({ min: 0, max: 6 }),
    unknown: fc.integer({ min: 0, max: 5 }),
  }),
  { minLength: 1, maxLength: 7 },
).map((specs) => specs.map((spec, client): HistoryOperation => {
  const returnAt = spec.kind !== 'read' && spec.unknown === 0 ? unknown : spec.callAt + spec.length;
  if (spec.kind === 'read') return read(client, spec.key, spec.value === 'c' ? 'a' : spec.value, spec.callAt, returnAt);
  if (spec.kind === 'write') return write(client, spec.key, spec.value, spec.callAt, returnAt);
  return cas(client, spec.key, spec.expected, spec.value, returnAt === unknown ? undefined : spec.succeeded, spec.callAt, returnAt);
}));

describe('checkLinearizability against the brute-force reference', () => {
  it('agrees on small random histories', () => {
    let linearizable = 0;
    let notLinearizable = 0;
    fc.assert(fc.property(arbitraryHistory, (history) => {
      const expected = bruteForceLinearizable(history);
      if (expected) linearizable++;
      else notLinearizable++;
      expect(checkLinearizability(history).ok).toBe(expected);
    }), { numRuns: 3_000, seed: 20261126 });
    // Both verdicts must be well represented, or the comparison proves little.
    expect(linearizable).toBeGreaterThan(300);
    expect(notLinearizable).toBeGreaterThan(300);
  });
});
