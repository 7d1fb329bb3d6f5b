/**
 * A linearizability checker for key-value histories: the Wing & Gong search as improved by
 * Lowe (memoizing the set of linearized operations together with the model state), the way
 * Porcupine does it, with the history split per key first (P-compositionality: a history is
 * linearizable if and only if each key's sub-history is).
 *
 * Each key is a register: reads return its value, writes set it (null = delete), and a
 * compare-and-set sets it only when it equals the expected value. An operation whose outcome
 * the client never learned has `output: undefined` and `returnAt: Infinity`: it may take
 * effect at any point after its call, or never (at the end of the history it changes nothing
 * anyone observed).
 *
 * Times are totally ordered numbers; operation A precedes B in real time when A returned
 * strictly before B was called. Equal times count as concurrent.
 *
 * Runs with crashes and partitions leave many operations of unknown outcome, each of which the
 * plain search may place anywhere after its call; three sound prunings keep that in check:
 * the search ends once every operation with a known outcome is placed (the unknown ones can
 * all go last); an unknown operation is never placed where it would change nothing (it could
 * as well go last); and unknown writes of values nobody mentions are interchangeable, so only
 * the earliest-called one is tried (`blankWriteRanks`). A cheap first pass without the unknown
 * writes nobody observed settles most histories outright (`withoutUnobservedUnknownWrites`).
 * The dumb reference `bruteForceLinearizable` checks all of this on small random histories.
 */
import { assert } from '../../core/assert.js';

export type RegisterValue = string | null;

export type KvOperation =
  | { readonly kind: 'read'; readonly key: string; readonly output: { readonly value: RegisterValue } | undefined }
  | { readonly kind: 'write'; readonly key: string; readonly value: RegisterValue; readonly output: object | undefined }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: RegisterValue; readonly value: RegisterValue; readonly output: { readonly succeeded: boolean } | undefined };

export type HistoryOperation = KvOperation & {
  readonly client: number;
  readonly callAt: number;
  /** Infinity when the outcome is unknown. */
  readonly returnAt: number;
};

/** The register model: the next state, or undefined if `operation` cannot happen in `state`. */
export function stepRegister(state: RegisterValue, operation: KvOperation): RegisterValue | undefined {
  switch (operation.kind) {
    case 'read':
      return operation.output === undefined || operation.output.value === state ? state : undefined;
    case 'write':
      return operation.value;
    case 'cas': {
      const succeeds = state === operation.expected;
      if (operation.output !== undefined && operation.output.succeeded !== succeeds) return undefined;
      return succeeds ? operation.value : state;
    }
  }
}

export type KeyVerdict =
  | { readonly ok: true; readonly steps: number }
  | { readonly ok: false; readonly steps: number; readonly reason: 'notLinearizable' | 'searchLimit'; readonly longestPrefix: number };

export interface LinearizabilityReport {
  readonly ok: boolean;
  /** Keys whose history is not linearizable, with the operation count and a short explanation. */
  readonly violations: { key: string; operations: number; detail: string }[];
  /** Keys the search gave up on (stepsMax): neither proven nor refuted. */
  readonly undecided: string[];
  readonly steps: number;
}

/** Search steps (operations tried) per key before the search gives up and reports the key undecided. */
export const searchStepsMax = 1_000_000;

export function checkLinearizability(history: readonly HistoryOperation[], initial: RegisterValue = null, stepsMax = searchStepsMax): LinearizabilityReport {
  const byKey = new Map<string, HistoryOperation[]>();
  for (const operation of history) {
    assert(operation.returnAt >= operation.callAt, `operation of client ${operation.client} returns before it is called`);
    let list = byKey.get(operation.key);
    if (list === undefined) byKey.set(operation.key, (list = []));
    list.push(operation);
  }
  const violations: LinearizabilityReport['violations'] = [];
  const undecided: string[] = [];
  let steps = 0;
  for (const [key, operations] of [...byKey].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // A reduced history that passes proves the full one (see withoutUnobservedUnknownWrites); only if it fails is the full search needed.
    const reduced = withoutUnobservedUnknownWrites(operations);
    let verdict = checkKey(reduced, initial, stepsMax);
    if (!verdict.ok && reduced.length < operations.length) {
      const full = checkKey(operations, initial, stepsMax);
      verdict = { ...full, steps: full.steps + verdict.steps } as KeyVerdict;
    }
    steps += verdict.steps;
    if (verdict.ok) continue;
    if (verdict.reason === 'searchLimit') undecided.push(key);
    else violations.push({ key, operations: operations.length, detail: `no linearization; the longest linearizable prefix holds ${verdict.longestPrefix} of ${operations.length} operations` });
  }
  return { ok: violations.length === 0 && undecided.length === 0, violations, undecided, steps };
}

/**
 * Drops writes and compare-and-sets of unknown outcome whose value nobody observed (no read
 * returned it, no successful compare-and-set expected it). If what remains is linearizable,
 * so is the whole history: each dropped operation can be placed after everything else, where
 * it changes nothing anyone saw. (The converse does not hold, so a failure is re-checked on the
 * full history.) Values are unique per write in the simulator, which makes this cut deep: the
 * many unknown writes of a run with crashes otherwise multiply the search.
 */
export function withoutUnobservedUnknownWrites(operations: readonly HistoryOperation[]): HistoryOperation[] {
  const observed = new Set<RegisterValue>();
  for (const operation of operations) {
    if (operation.kind === 'read' && operation.output !== undefined) observed.add(operation.output.value);
    if (operation.kind === 'cas' && operation.output?.succeeded === true) observed.add(operation.expected);
  }
  return operations.filter((operation) => operation.kind === 'read' || operation.output !== undefined || observed.has(operation.value));
}

interface EventNode {
  readonly operation: number;
  readonly isCall: boolean;
  /** For a call, its return event. */
  match: EventNode | undefined;
  previous: EventNode | undefined;
  next: EventNode | undefined;
}

/** The history as a doubly linked list of call and return events in time order (calls first at equal times). */
function buildEventList(operations: readonly HistoryOperation[]): { head: EventNode } {
  const events: { time: number; isCall: boolean; operation: number }[] = [];
  operations.forEach((operation, index) => {
    events.push({ time: operation.callAt, isCall: true, operation: index });
    events.push({ time: operation.returnAt, isCall: false, operation: index });
  });
  // Infinity - Infinity is NaN, which is falsy: unknown returns fall through to the tie-breaks.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.operation - b.operation : a.isCall ? -1 : 1));
  const head: EventNode = { operation: -1, isCall: false, match: undefined, previous: undefined, next: undefined };
  let tail = head;
  const calls: EventNode[] = new Array(operations.length);
  const returns: EventNode[] = new Array(operations.length);
  for (const event of events) {
    const node: EventNode = { operation: event.operation, isCall: event.isCall, match: undefined, previous: tail, next: undefined };
    tail.next = node;
    tail = node;
    (event.isCall ? calls : returns)[event.operation] = node;
  }
  for (let index = 0; index < operations.length; index++) calls[index].match = returns[index];
  return { head };
}

/** The state a blank write leaves: a value no operation of the history mentions. */
const blankValue = '\u0000blank';

/**
 * Symmetry reduction: writes of unknown outcome whose value no operation mentions (no read
 * returned it, no compare-and-set expected it) are interchangeable. Each can be placed
 * anywhere after its call, so trying them in call order only, and giving them all one
 * stand-in value, loses no linearization. Returns, per operation, its rank among the blank
 * writes in call order, or -1.
 */
function blankWriteRanks(operations: readonly HistoryOperation[]): number[] {
  const mentioned = new Set<RegisterValue>();
  for (const operation of operations) {
    if (operation.kind === 'read' && operation.output !== undefined) mentioned.add(operation.output.value);
    if (operation.kind === 'cas') mentioned.add(operation.expected);
  }
  const blanks = operations
    .map((operation, index) => ({ operation, index }))
    .filter(({ operation }) => operation.kind === 'write' && operation.output === undefined && !mentioned.has(operation.value))
    .sort((a, b) => a.operation.callAt - b.operation.callAt || a.index - b.index);
  const ranks = new Array<number>(operations.length).fill(-1);
  blanks.forEach(({ index }, rank) => { ranks[index] = rank; });
  return ranks;
}

/** Lowe's WGL search over one key's operations. */
export function checkKey(operations: readonly HistoryOperation[], initial: RegisterValue, stepsMax = searchStepsMax): KeyVerdict {
  const { head } = buildEventList(operations);
  const blankRanks = blankWriteRanks(operations);
  const lift = (call: EventNode) => {
    call.previous!.next = call.next;
    if (call.next !== undefined) call.next.previous = call.previous;
    const ret = call.match!;
    ret.previous!.next = ret.next;
    if (ret.next !== undefined) ret.next.previous = ret.previous;
  };
  const unlift = (call: EventNode) => {
    const ret = call.match!;
    ret.previous!.next = ret;
    if (ret.next !== undefined) ret.next.previous = ret;
    call.previous!.next = call;
    if (call.next !== undefined) call.next.previous = call;
  };
  const linearized = new Uint32Array(Math.ceil(operations.length / 32) + 1);
  const flip = (operation: number) => { linearized[operation >>> 5] ^= 1 << (operation & 31); };
  const cache = new Set<string>();
  const stack: { call: EventNode; state: RegisterValue }[] = [];
  let state = initial;
  let blanksLinearized = 0;
  // Operations of unknown outcome can always go last, where nothing observes them: the search
  // is done when every operation with a known outcome is linearized.
  const isKnown = operations.map((operation) => operation.returnAt !== Number.POSITIVE_INFINITY);
  let knownLeft = isKnown.filter(Boolean).length;
  let entry = head.next;
  let steps = 0;
  let longestPrefix = 0;
  while (knownLeft > 0) {
    if (++steps > stepsMax) return { ok: false, steps, reason: 'searchLimit', longestPrefix };
    if (entry === undefined) return { ok: false, steps, reason: 'notLinearizable', longestPrefix };
    if (entry.isCall) {
      const rank = blankRanks[entry.operation];
      // Only the next blank write in call order may go now; the others are its interchangeable twins.
      let next = rank >= 0 ? (rank === blanksLinearized ? blankValue : undefined) : stepRegister(state, operations[entry.operation]);
      // An operation of unknown outcome that would change nothing here is better left for the end:
      // any linearization that places it here works as well with it moved last.
      if (!isKnown[entry.operation] && next === state) next = undefined;
      if (next !== undefined) {
        flip(entry.operation);
        const key = `${linearized.join(',')}|${next === null ? '\u0001' : next}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ call: entry, state });
          state = next;
          if (rank >= 0) blanksLinearized++;
          if (isKnown[entry.operation]) knownLeft--;
          lift(entry);
          longestPrefix = Math.max(longestPrefix, stack.length);
          entry = head.next;
          continue;
        }
        flip(entry.operation);
      }
      entry = entry.next;
    } else {
      // A return event whose call is not linearized yet: undo the last choice and try the next candidate.
      const top = stack.pop();
      if (top === undefined) return { ok: false, steps, reason: 'notLinearizable', longestPrefix };
      state = top.state;
      if (blankRanks[top.call.operation] >= 0) blanksLinearized--;
      if (isKnown[top.call.operation]) knownLeft++;
      flip(top.call.operation);
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return { ok: true, steps };
}

/**
 * The dumb reference: tries every order of all the operations (all keys together, one map as
 * the state, no splitting), keeps those that respect real time, and runs the model over each.
 * Only for a handful of operations (n! orders).
 */
export function bruteForceLinearizable(operations: readonly HistoryOperation[], initial: RegisterValue = null): boolean {
  assert(operations.length <= 8, 'the brute-force reference is for at most 8 operations');
  const used = new Array<boolean>(operations.length).fill(false);
  let placed = 0;
  const search = (state: ReadonlyMap<string, RegisterValue>): boolean => {
    if (placed === operations.length) return true;
    for (let candidate = 0; candidate < operations.length; candidate++) {
      if (used[candidate]) continue;
      // Every operation that returned before this one was called must already be placed.
      const blocked = operations.some((other, index) => !used[index] && index !== candidate && other.returnAt < operations[candidate].callAt);
      if (blocked) continue;
      const operation = operations[candidate];
      const current = state.has(operation.key) ? state.get(operation.key)! : initial;
      const next = stepRegister(current, operation);
      if (next === undefined) continue;
      used[candidate] = true;
      placed++;
      if (search(new Map(state).set(operation.key, next))) return true;
      placed--;
      used[candidate] = false;
    }
    return false;
  };
  return search(new Map());
}
