/**
 * What one key holds, and how a change merges into it. Both kinds of key merge as
 * join-semilattices (commutative, associative, idempotent), so peers that apply the same
 * changes in any order, any number of times, hold the same state:
 *
 * - a register merges with `mergeRegisters` (dotted version vectors, siblings);
 * - an append-only set merges by union of elements, listed in (timestamp, id) order;
 * - a key that one peer made a register and another a set (each refused the other kind
 *   locally, but they did not know of each other yet) becomes the set: a set outranks a
 *   register, so every peer picks the same, and the conversation's messages survive. The
 *   register's values are lost in that case; callers keep the two kinds under distinct keys.
 */
import { compareTimestamps, counterOf, emptyRegister, joinVectors, mergeRegisters, registerCovers, registerProblem, siblingsMax, timestampProblem, type Dot, type RegisterState, type VersionVector } from '../versions/index.js';
import type { Change, KeyState, SetElement } from './types.js';

/** Length of `text` in UTF-8 bytes, without encoding it. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit < 0xdc00 && index + 1 < text.length && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      index++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * The delta a write ships: what a replica must merge to have seen this write and nothing else
 * of the origin's state. Its clock is the context the write took effect with plus the new dot.
 * Because clocks count dots per node, that clock also covers the origin's own older dots at
 * this key, including ones the write had not seen and kept as siblings; the delta carries those
 * siblings too, or merging it elsewhere would drop them. Merging the delta into the origin's
 * state before the write gives exactly its state after it (the tests check that), so the
 * deltas of all writes merge to the same state on every peer.
 */
export function registerDelta(before: RegisterState, after: RegisterState, dot: Dot, context: VersionVector, lastWriterWins: boolean): RegisterState {
  // On a last-writer-wins key a write supersedes everything its replica had seen, as applyWrite does.
  const effective = lastWriterWins || before.lastWriterWins === true ? joinVectors(before.clock, context) : context;
  const clock = joinVectors(effective, { [dot.node]: dot.counter });
  const siblings = after.siblings.filter((sibling) => counterOf(clock, sibling.dot.node) >= sibling.dot.counter);
  return mergeRegisters(emptyRegister, { clock, siblings, ...(after.lastWriterWins === true && { lastWriterWins: true }) });
}

export function compareElements(left: SetElement, right: SetElement): number {
  const byTime = compareTimestamps(left.timestamp, right.timestamp);
  if (byTime !== 0) return byTime;
  return left.id < right.id ? -1 : left.id > right.id ? 1 : 0;
}

/** The set with `element` added in order (a new array), or the same array when it already holds that id. */
export function insertElement(elements: readonly SetElement[], element: SetElement): SetElement[] | undefined {
  let low = 0;
  let high = elements.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareElements(elements[middle], element) < 0) low = middle + 1;
    else high = middle;
  }
  if (low < elements.length && elements[low].id === element.id) return undefined;
  // An id is unique to one change, so the same id never comes with another timestamp; a linear check guards damaged input anyway.
  if (elements.some((other) => other.id === element.id)) return undefined;
  return [...elements.slice(0, low), element, ...elements.slice(low)];
}

/** The key's state after merging `change`, or undefined when the change adds nothing. */
export function mergeChange(current: KeyState | undefined, change: Change): KeyState | undefined {
  if (change.kind === 'put') {
    if (current?.kind === 'set') return undefined;
    const before = current?.state ?? emptyRegister;
    if (current !== undefined && registerCovers(before, change.delta)) return undefined;
    return { kind: 'register', state: mergeRegisters(before, change.delta) };
  }
  if (current === undefined || current.kind === 'register') return { kind: 'set', elements: [change.element] };
  const elements = insertElement(current.elements, change.element);
  return elements === undefined ? undefined : { kind: 'set', elements };
}

export function elementProblem(value: unknown): string | undefined {
  const element = value as Partial<SetElement> | null;
  if (typeof element !== 'object' || element === null) return 'a set element must be an object {id, timestamp, value}';
  if (typeof element.id !== 'string' || element.id.length === 0 || element.id.length > 256) return 'a set element needs id, a string of 1 to 256 characters';
  const timeProblem = timestampProblem(element.timestamp);
  if (timeProblem !== undefined) return `set element ${element.id}: ${timeProblem}`;
  if (typeof element.value !== 'string') return `set element ${element.id} needs value, a string`;
  return undefined;
}

/**
 * `registerProblem`, without its sibling limit: that limit bounds what one write may leave
 * (`applyWrite` refuses beyond it), but merging the writes several peers accepted concurrently
 * can legitimately hold more, and such a state must still load after a restart. The siblings
 * are checked in groups of siblingsMax against the same clock.
 */
function mergedRegisterProblem(value: unknown): string | undefined {
  const state = value as { siblings?: unknown } | null;
  if (typeof state !== 'object' || state === null || !Array.isArray(state.siblings) || state.siblings.length <= siblingsMax) return registerProblem(value);
  const siblings = state.siblings as unknown[];
  for (let start = 0; start < siblings.length; start += siblingsMax) {
    const problem = registerProblem({ ...state, siblings: siblings.slice(start, start + siblingsMax) });
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Why `value` is not a key's state (it came from a disk), or undefined. */
export function keyStateProblem(value: unknown): string | undefined {
  const state = value as Partial<{ kind: string; state: unknown; elements: unknown }> | null;
  if (typeof state !== 'object' || state === null) return 'a key state must be an object {kind, ...}';
  if (state.kind === 'register') return mergedRegisterProblem(state.state);
  if (state.kind !== 'set') return `a key state's kind is register or set, not ${JSON.stringify(state.kind)}`;
  if (!Array.isArray(state.elements)) return 'a set needs elements, an array';
  const elements = state.elements as unknown[];
  for (let index = 0; index < elements.length; index++) {
    const problem = elementProblem(elements[index]);
    if (problem !== undefined) return problem;
    if (index > 0 && compareElements(elements[index - 1] as SetElement, elements[index] as SetElement) >= 0) return `set elements must be in (timestamp, id) order without repeats; element ${index} is not`;
  }
  return undefined;
}
