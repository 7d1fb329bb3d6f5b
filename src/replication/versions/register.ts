/**
 * A replicated register with dotted version vectors (Preguiça et al., "Dotted Version
 * Vectors", 2012): the state a replica keeps for one key, in both multi-leader and
 * leaderless mode.
 *
 * The state is a causal context `clock` (every write to this key the replica has seen) and
 * the `siblings`: values that no seen write has superseded. Each sibling carries the dot
 * (node, counter) of the write that made it. A write made with a context removes exactly the
 * siblings that context had seen and adds one new sibling; writes that did not see each other
 * both survive, as siblings, and the client's next write with the merged context resolves
 * them. Nothing is dropped silently — unless the writer asked for last-writer-wins, in which
 * case the sibling with the largest hybrid-logical-clock timestamp wins everywhere.
 *
 * `mergeRegisters` is commutative, associative and idempotent, so replicas that exchange
 * states in any order, any number of times, converge: the property tests check that.
 */
import { compareTimestamps, timestampProblem, type HlcTimestamp } from './hlc.js';
import { canonicalVector, counterOf, descends, joinVectors, versionVectorNodesMax, versionVectorProblem, type VersionVector } from './version-vector.js';

export interface Dot {
  node: string;
  counter: number;
}

export interface Sibling {
  dot: Dot;
  /** null: the key was deleted (a tombstone, kept so the deletion replicates and wins over what it saw). */
  value: string | null;
  timestamp: HlcTimestamp;
  /** The writer asked for last-writer-wins on this key. */
  lastWriterWins: boolean;
}

export interface RegisterState {
  clock: VersionVector;
  siblings: readonly Sibling[];
  /**
   * Set once any writer of this key asked for last-writer-wins: from then on the key always
   * collapses to its latest sibling. A key-wide flag (not only the winner's) keeps merging
   * associative: a collapse that dropped the flagged sibling still collapses the next merge.
   */
  lastWriterWins?: true;
}

/** Siblings of one key at most: a client that never resolves them is refused more rather than growing the key without bound. */
export const siblingsMax = 64;
/**
 * Siblings a register read from a disk or the network may hold. Merges are never refused (that
 * would stop replicas converging), so merging the siblings of several writers can go past
 * siblingsMax; this bound only keeps a forged state from costing unbounded memory.
 */
export const siblingsDecodedMax = siblingsMax * versionVectorNodesMax;

export const emptyRegister: RegisterState = Object.freeze({ clock: Object.freeze({}), siblings: Object.freeze([]) as readonly Sibling[] });

export interface RegisterWrite {
  /** The node that makes the write (the coordinator, or the multi-leader peer that accepted it). */
  node: string;
  /** What the writer had read: siblings this context covers are replaced. */
  context: VersionVector;
  value: string | null;
  timestamp: HlcTimestamp;
  lastWriterWins: boolean;
  /** The key, for the error a full register gives. */
  key: string;
}

export class TooManySiblingsError extends Error {
  readonly code = 'KV_TOO_MANY_SIBLINGS';
  constructor(readonly key: string) {
    super(`key ${JSON.stringify(key)} has ${siblingsMax} unresolved siblings: read it and write with the returned context to resolve them`);
  }
}

function covered(dot: Dot, clock: VersionVector): boolean {
  return counterOf(clock, dot.node) >= dot.counter;
}

function sameDot(left: Dot, right: Dot): boolean {
  return left.node === right.node && left.counter === right.counter;
}

/** A new write applied to the local state: the new state holds the write's sibling, whose dot is returned. */
export function applyWrite(state: RegisterState, write: RegisterWrite): { state: RegisterState; dot: Dot } {
  const counter = counterOf(state.clock, write.node) + 1;
  const dot = { node: write.node, counter };
  // On a last-writer-wins key a write supersedes everything its replica has seen, whatever the context said.
  const lastWriterWins = write.lastWriterWins || state.lastWriterWins === true;
  const context = lastWriterWins ? joinVectors(state.clock, write.context) : write.context;
  const kept = state.siblings.filter((sibling) => !covered(sibling.dot, context));
  if (kept.length >= siblingsMax) throw new TooManySiblingsError(write.key);
  const sibling: Sibling = { dot, value: write.value, timestamp: write.timestamp, lastWriterWins };
  const clock = { ...joinVectors(state.clock, context), [write.node]: counter };
  return { state: settle({ clock, siblings: [...kept, sibling], ...(lastWriterWins && { lastWriterWins: true }) }), dot };
}

/** The state that has seen everything either replica has seen. */
export function mergeRegisters(left: RegisterState, right: RegisterState): RegisterState {
  const siblings: Sibling[] = [];
  for (const sibling of left.siblings) {
    if (!covered(sibling.dot, right.clock) || right.siblings.some((other) => sameDot(other.dot, sibling.dot))) siblings.push(sibling);
  }
  for (const sibling of right.siblings) {
    if (siblings.some((other) => sameDot(other.dot, sibling.dot))) continue;
    if (!covered(sibling.dot, left.clock)) siblings.push(sibling);
  }
  const lastWriterWins = left.lastWriterWins === true || right.lastWriterWins === true;
  return settle({ clock: joinVectors(left.clock, right.clock), siblings, ...(lastWriterWins && { lastWriterWins: true }) });
}

/** True when `state` already holds everything `other` would add (merging it changes nothing). */
export function registerCovers(state: RegisterState, other: RegisterState): boolean {
  if (!descends(state.clock, other.clock)) return false;
  return registersEqual(mergeRegisters(state, other), settle(state));
}

/**
 * Canonical form: siblings sorted by dot, clock keys sorted. Concurrent siblings of a
 * last-writer-wins key are kept in the state and only hidden by `registerView`: collapsing them
 * while merging would let a sibling that is later superseded evict one that is not, and merges
 * would stop being associative (the property test found exactly that).
 */
function settle(state: RegisterState): RegisterState {
  const siblings = [...state.siblings];
  const lastWriterWins = state.lastWriterWins === true || siblings.some((sibling) => sibling.lastWriterWins);
  siblings.sort((left, right) => (left.dot.node < right.dot.node ? -1 : left.dot.node > right.dot.node ? 1 : left.dot.counter - right.dot.counter));
  return { clock: canonicalVector(state.clock), siblings, ...(lastWriterWins && { lastWriterWins: true as const }) };
}

export function registersEqual(left: RegisterState, right: RegisterState): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

/** What a read shows: the live values (tombstones left out), and the context to write back with. */
export function registerView(state: RegisterState): { values: string[]; context: VersionVector; deleted: boolean } {
  const live = state.lastWriterWins === true && state.siblings.length > 1 ? [latestSibling(state.siblings)] : state.siblings;
  const values = live.filter((sibling) => sibling.value !== null).map((sibling) => sibling.value!);
  return { values, context: state.clock, deleted: values.length === 0 };
}

function latestSibling(siblings: readonly Sibling[]): Sibling {
  return siblings.reduce((best, sibling) => (compareTimestamps(sibling.timestamp, best.timestamp) > 0 ? sibling : best));
}

/** The encoding digests and disks use: equal states give equal bytes. */
export function encodeRegister(state: RegisterState): Uint8Array {
  return Buffer.from(JSON.stringify(settle(state)));
}

export function decodeRegister(bytes: Uint8Array, source: string): RegisterState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new Error(`${source}: a stored register is not JSON; the database is damaged`);
  }
  const problem = registerProblem(parsed);
  if (problem !== undefined) throw new Error(`${source}: a stored register is invalid (${problem}); the database is damaged`);
  return parsed as RegisterState;
}

/** Why `value` is not a register state (it arrived from the network or a disk), or undefined. */
export function registerProblem(value: unknown): string | undefined {
  const state = value as Partial<RegisterState> | null;
  if (typeof state !== 'object' || state === null) return 'a register must be an object {clock, siblings}';
  const clockProblem = versionVectorProblem(state.clock);
  if (clockProblem !== undefined) return `register clock: ${clockProblem}`;
  if (state.lastWriterWins !== undefined && state.lastWriterWins !== true) return 'a register\'s lastWriterWins is true or absent';
  if (!Array.isArray(state.siblings)) return 'a register needs siblings, an array';
  if (state.siblings.length > siblingsDecodedMax) return `a register holds at most ${siblingsDecodedMax} siblings, this one ${state.siblings.length}`;
  for (const sibling of state.siblings as Partial<Sibling>[]) {
    if (typeof sibling !== 'object' || sibling === null) return 'a sibling must be an object';
    const dot = sibling.dot as Partial<Dot> | undefined;
    if (typeof dot?.node !== 'string' || !Number.isSafeInteger(dot.counter) || dot.counter! < 1) return 'a sibling needs a dot {node, counter >= 1}';
    if (!covered(dot as Dot, state.clock!)) return `sibling ${dot.node}:${dot.counter} is not covered by the register's clock`;
    if (sibling.value !== null && typeof sibling.value !== 'string') return 'a sibling value must be a string or null';
    const timeProblem = timestampProblem(sibling.timestamp);
    if (timeProblem !== undefined) return `sibling timestamp: ${timeProblem}`;
    if (typeof sibling.lastWriterWins !== 'boolean') return 'a sibling needs lastWriterWins, a boolean';
  }
  return undefined;
}
