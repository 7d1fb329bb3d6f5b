import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  applyWrite, decodeRegister, decodeVector, emptyRegister, encodeRegister, encodeVector, HybridLogicalClock, mergeRegisters,
  registerCovers, registerProblem, registersEqual, registerView, siblingsMax, TooManySiblingsError, type RegisterState,
} from '../../../src/replication/versions/index.js';

const nodes = ['a', 'b', 'c'];

function write(state: RegisterState, node: string, value: string | null, context = state.clock, lastWriterWins = false, wallMs = 1): RegisterState {
  return applyWrite(state, { node, context, value, timestamp: { wallMs, logical: 0, node }, lastWriterWins, key: 'k' }).state;
}

/** Three replicas that take writes (with their own context, or a blind one) and merge each other's states in random order. */
const histories = fc.array(
  fc.record({ replica: fc.integer({ min: 0, max: 2 }), other: fc.integer({ min: 0, max: 2 }), kind: fc.constantFrom('write', 'blind', 'merge', 'lww'), value: fc.string({ maxLength: 3 }), wallMs: fc.integer({ min: 0, max: 50 }) }),
  { maxLength: 30 },
);

function run(steps: Array<{ replica: number; other: number; kind: string; value: string; wallMs: number }>): RegisterState[] {
  const replicas: RegisterState[] = [emptyRegister, emptyRegister, emptyRegister];
  for (const step of steps) {
    const node = nodes[step.replica]!;
    const state = replicas[step.replica]!;
    if (step.kind === 'merge') replicas[step.replica] = mergeRegisters(state, replicas[step.other]!);
    else if (state.siblings.length < siblingsMax - 1) {
      replicas[step.replica] = write(state, node, step.value, step.kind === 'blind' ? {} : state.clock, step.kind === 'lww', step.wallMs);
    }
  }
  return replicas;
}

describe('registers with dotted version vectors', () => {
  it('concurrent writes become siblings, and a write with the merged context resolves them', () => {
    const left = write(emptyRegister, 'a', 'x');
    const right = write(emptyRegister, 'b', 'y');
    const merged = mergeRegisters(left, right);
    expect(registerView(merged).values.sort()).toEqual(['x', 'y']);
    const resolved = write(merged, 'c', 'z', registerView(merged).context);
    expect(registerView(resolved).values).toEqual(['z']);
    expect(registerView(mergeRegisters(resolved, left)).values).toEqual(['z']);
  });

  it('a write that saw only one sibling replaces that one and keeps the other', () => {
    const left = write(emptyRegister, 'a', 'x');
    const merged = mergeRegisters(left, write(emptyRegister, 'b', 'y'));
    expect(registerView(write(merged, 'a', 'x2', left.clock)).values.sort()).toEqual(['x2', 'y']);
  });

  it('a deletion is a tombstone that replicates and hides what it saw', () => {
    const put = write(emptyRegister, 'a', 'x');
    const deleted = write(put, 'b', null);
    expect(registerView(deleted)).toMatchObject({ values: [], deleted: true });
    expect(registerView(mergeRegisters(put, deleted)).deleted).toBe(true);
  });

  it('last-writer-wins keeps the sibling with the largest timestamp on every replica', () => {
    const early = write(emptyRegister, 'a', 'early', {}, true, 10);
    const late = write(emptyRegister, 'b', 'late', {}, true, 20);
    expect(registerView(mergeRegisters(early, late)).values).toEqual(['late']);
    expect(registerView(mergeRegisters(late, early)).values).toEqual(['late']);
  });

  it('merging is commutative, associative and idempotent, so replicas converge in any order', () => {
    fc.assert(
      fc.property(histories, (steps) => {
        const [a, b, c] = run(steps);
        expect(registersEqual(mergeRegisters(a!, b!), mergeRegisters(b!, a!))).toBe(true);
        expect(registersEqual(mergeRegisters(mergeRegisters(a!, b!), c!), mergeRegisters(a!, mergeRegisters(b!, c!)))).toBe(true);
        expect(registersEqual(mergeRegisters(a!, a!), mergeRegisters(a!, emptyRegister))).toBe(true);
        const all = mergeRegisters(mergeRegisters(a!, b!), c!);
        expect(registerCovers(all, a!) && registerCovers(all, b!) && registerCovers(all, c!)).toBe(true);
        expect(registerProblem(all)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('no write is lost: every sibling ever made is in the merged state or was seen by a later write', () => {
    fc.assert(
      fc.property(histories, (steps) => {
        const replicas = run(steps);
        const all = replicas.reduce(mergeRegisters, emptyRegister);
        for (const replica of replicas) {
          for (const sibling of replica.siblings) {
            const kept = all.siblings.some((other) => other.dot.node === sibling.dot.node && other.dot.counter === sibling.dot.counter);
            // Superseded means some write in `all` had a context covering this dot: then the dot is in the clock.
            expect(kept || (all.clock[sibling.dot.node] ?? 0) >= sibling.dot.counter).toBe(true);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a write that would make more than siblingsMax siblings, and says how to resolve them', () => {
    let state = emptyRegister;
    for (let index = 0; index < siblingsMax; index++) state = write(state, `n${index}`, 'v', {});
    expect(() => write(state, 'x', 'v', {})).toThrow(TooManySiblingsError);
    expect(() => write(state, 'x', 'v', {})).toThrow(/read it and write with the returned context/);
    expect(registerView(write(state, 'x', 'v')).values).toEqual(['v']);
  });

  it('encodes canonically and refuses damaged or forged states', () => {
    const state = mergeRegisters(write(emptyRegister, 'b', 'y'), write(emptyRegister, 'a', 'x'));
    expect(registersEqual(decodeRegister(encodeRegister(state), 'test'), state)).toBe(true);
    expect(Buffer.from(encodeRegister(mergeRegisters(write(emptyRegister, 'a', 'x'), write(emptyRegister, 'b', 'y')))).equals(Buffer.from(encodeRegister(state)))).toBe(true);
    expect(() => decodeRegister(Buffer.from('{'), 'test')).toThrow(/damaged/);
    expect(registerProblem({ clock: {}, siblings: [{ dot: { node: 'a', counter: 1 }, value: 'x', timestamp: { wallMs: 0, logical: 0, node: 'a' }, lastWriterWins: false }] })).toMatch(/not covered/);
    expect(registerProblem({ clock: { a: 0 }, siblings: [] })).toMatch(/positive integer/);
  });

  it('context tokens round-trip and junk is refused with a reason', () => {
    expect(decodeVector(encodeVector({ b: 2, a: 1 }))).toEqual({ a: 1, b: 2 });
    expect(decodeVector('not a token!')).toEqual({ problem: expect.stringMatching(/base64url/) });
    expect(decodeVector(Buffer.from('[1]').toString('base64url'))).toEqual({ problem: expect.stringMatching(/object/) });
  });
});

describe('hybrid logical clocks', () => {
  it('never go backwards, and move past every timestamp they observe', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ physical: fc.integer({ min: 0, max: 100 }), remote: fc.option(fc.record({ wallMs: fc.integer({ min: 0, max: 120 }), logical: fc.integer({ min: 0, max: 5 }) })) })), (events) => {
        const clock = new HybridLogicalClock('a');
        let previous = clock.last();
        for (const event of events) {
          if (event.remote !== null) {
            clock.observe({ ...event.remote, node: 'b' }, event.physical);
            const now = clock.last();
            expect(now.wallMs > event.remote.wallMs || (now.wallMs === event.remote.wallMs && now.logical > event.remote.logical)).toBe(true);
          }
          const stamp = clock.now(event.physical);
          expect(stamp.wallMs > previous.wallMs || (stamp.wallMs === previous.wallMs && stamp.logical > previous.logical)).toBe(true);
          expect(stamp.wallMs).toBeGreaterThanOrEqual(event.physical);
          previous = stamp;
        }
      }),
    );
  });
});
