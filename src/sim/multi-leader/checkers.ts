/**
 * What multi-leader replication promises (DESIGN.md section 5, issue 6), as checks over what
 * the simulation observed:
 *
 * 1. No acknowledged write is lost. A peer acknowledges after its own fsync, so an acknowledged
 *    put's dot must end up on every peer, as a sibling holding the value written or superseded
 *    by a durable write that had seen it (and whose own dot that peer also holds); an
 *    acknowledged append's element, with its value, must be in the set on every peer.
 * 2. Convergence: once the network heals and clients stop, every peer holds the same state for
 *    every key (and has applied the same changes) within a bounded simulated time.
 * 3. Read-your-writes: a client reading at the peer it wrote to sees its acknowledged writes
 *    (or successors that saw them); a session read at any peer, answered once that peer's
 *    applied vector descends the client's token, sees them too.
 */
import type { KeyState } from '../../replication/multi-leader/index.js';
import { counterOf, type Dot, type VersionVector } from '../../replication/versions/index.js';

export interface AcknowledgedPut {
  client: number;
  peer: string;
  key: string;
  dot: Dot;
  /** What the client wrote (null: a delete); a sibling with the put's dot must hold exactly this. */
  value: string | null;
}

/**
 * A put that reached its peer's disk (acknowledged or not: a crash may keep a transaction whose
 * reply never left), with what it had seen: the context its client gave, or on a
 * last-writer-wins key everything its peer held. It supersedes exactly those dots. `seen` is
 * taken from the client's request, not from the core's delta, so that a delta that drops
 * what its write never saw is caught rather than trusted.
 */
export interface DurablePut {
  key: string;
  dot: Dot;
  seen: VersionVector;
}

export interface AcknowledgedAppend {
  client: number;
  peer: string;
  key: string;
  id: string;
  value: string;
}

const describeDot = (dot: Dot) => `${dot.node}:${dot.counter}`;

function covers(clock: VersionVector, dot: Dot): boolean {
  return counterOf(clock, dot.node) >= dot.counter;
}

const sameDot = (left: Dot, right: Dot) => left.node === right.node && left.counter === right.counter;

export function supersedes(later: DurablePut, dot: Dot): boolean {
  return !sameDot(later.dot, dot) && covers(later.seen, dot);
}

/** Whether `state` holds the put as a sibling, or holds a durable put that superseded it. */
export function holdsPut(state: KeyState | undefined, put: AcknowledgedPut, durablePuts: readonly DurablePut[]): boolean {
  if (state?.kind !== 'register') return false;
  const register = state.state;
  if (!covers(register.clock, put.dot)) return false;
  const sibling = register.siblings.find((candidate) => sameDot(candidate.dot, put.dot));
  if (sibling !== undefined) return sibling.value === put.value;
  return durablePuts.some((later) => supersedes(later, put.dot) && covers(register.clock, later.dot));
}

export function holdsAppend(state: KeyState | undefined, append: AcknowledgedAppend): boolean {
  return state?.kind === 'set' && state.elements.some((element) => element.id === append.id && element.value === append.value);
}

/** Checker 1 over the final state of every peer: one line per acknowledged write missing somewhere (at most `limit`). */
export function lostAcknowledgedWrites(
  finalStates: ReadonlyMap<string, (key: string) => KeyState | undefined>,
  puts: readonly AcknowledgedPut[],
  appends: readonly AcknowledgedAppend[],
  durablePuts: readonly DurablePut[],
  limit = 10,
): string[] {
  const lost: string[] = [];
  const putsByKey = new Map<string, DurablePut[]>();
  for (const put of durablePuts) putsByKey.set(put.key, [...(putsByKey.get(put.key) ?? []), put]);
  for (const [peer, read] of finalStates) {
    for (const put of puts) {
      if (lost.length >= limit) return lost;
      if (!holdsPut(read(put.key), put, putsByKey.get(put.key) ?? [])) lost.push(`acknowledged put ${describeDot(put.dot)} to ${put.key} (client ${put.client} at ${put.peer}) is missing on ${peer}`);
    }
    for (const append of appends) {
      if (lost.length >= limit) return lost;
      if (!holdsAppend(read(append.key), append)) lost.push(`acknowledged append ${append.id} to ${append.key} (client ${append.client} at ${append.peer}) is missing on ${peer}`);
    }
  }
  return lost;
}

/** Checker 2: the first difference between peers' states, or undefined when they are all equal. */
export function divergence(states: ReadonlyMap<string, { keys: ReadonlyMap<string, string>; applied: string }>): string | undefined {
  const [first, ...others] = [...states];
  if (first === undefined) return undefined;
  const [firstPeer, reference] = first;
  for (const [peer, state] of others) {
    if (state.applied !== reference.applied) return `${peer} has applied ${state.applied}, ${firstPeer} ${reference.applied}`;
    for (const key of new Set([...reference.keys.keys(), ...state.keys.keys()])) {
      if (state.keys.get(key) !== reference.keys.get(key)) return `key ${key} differs between ${firstPeer} and ${peer}`;
    }
  }
  return undefined;
}

/** Checker 3: which of a client's own acknowledged writes a read missed (empty when it saw them all). */
export function missedOwnWrites(state: KeyState | undefined, puts: readonly AcknowledgedPut[], appends: readonly AcknowledgedAppend[]): string[] {
  const missed: string[] = [];
  for (const put of puts) if (!(state?.kind === 'register' && covers(state.state.clock, put.dot))) missed.push(`put ${describeDot(put.dot)}`);
  for (const append of appends) if (!holdsAppend(state, append)) missed.push(`append ${append.id}`);
  return missed;
}
