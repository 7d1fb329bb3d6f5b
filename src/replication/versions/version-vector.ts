/**
 * Version vectors: for each node, how many of its events a replica has seen. One vector
 * descends from another when it has seen everything the other has; two vectors neither of
 * which descends from the other record concurrent histories — the case that becomes
 * siblings instead of a silent overwrite.
 *
 * A vector is plain data (node id -> counter, counters >= 1; a missing node counts 0), so it
 * travels in messages and session tokens as it is.
 */
export type VersionVector = Readonly<Record<string, number>>;

export type Causality = 'equal' | 'before' | 'after' | 'concurrent';

/** Nodes named in one vector at most: far above any cluster's storage peers, low enough to bound a token. */
export const versionVectorNodesMax = 1024;
/** A node id in a vector is at most this long (nines' node ids are 40 hex characters). */
export const versionVectorNodeCharactersMax = 128;

export const emptyVersionVector: VersionVector = Object.freeze({});

export function counterOf(vector: VersionVector, node: string): number {
  return Object.prototype.hasOwnProperty.call(vector, node) ? vector[node]! : 0;
}

/** The least vector that descends from both. */
export function joinVectors(left: VersionVector, right: VersionVector): VersionVector {
  const joined: Record<string, number> = { ...left };
  for (const [node, counter] of Object.entries(right)) {
    if (counter > counterOf(joined, node)) joined[node] = counter;
  }
  return joined;
}

/** True when `later` has seen every event `earlier` has. */
export function descends(later: VersionVector, earlier: VersionVector): boolean {
  for (const [node, counter] of Object.entries(earlier)) {
    if (counterOf(later, node) < counter) return false;
  }
  return true;
}

export function compareVectors(left: VersionVector, right: VersionVector): Causality {
  const leftSeesRight = descends(left, right);
  const rightSeesLeft = descends(right, left);
  if (leftSeesRight && rightSeesLeft) return 'equal';
  if (leftSeesRight) return 'after';
  if (rightSeesLeft) return 'before';
  return 'concurrent';
}

/** The same vector with its nodes in sorted order, so that equal vectors encode to equal bytes. */
export function canonicalVector(vector: VersionVector): VersionVector {
  const sorted: Record<string, number> = {};
  for (const node of Object.keys(vector).sort()) sorted[node] = vector[node]!;
  return sorted;
}

/** Why `value` is not a version vector, or undefined when it is one: vectors arrive from the network and from clients. */
export function versionVectorProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a version vector must be an object of node id -> counter';
  const entries = Object.entries(value);
  if (entries.length > versionVectorNodesMax) return `a version vector names at most ${versionVectorNodesMax} nodes, this one ${entries.length}`;
  for (const [node, counter] of entries) {
    if (node.length === 0 || node.length > versionVectorNodeCharactersMax) return `node id ${JSON.stringify(node.slice(0, 40))} must be 1 to ${versionVectorNodeCharactersMax} characters`;
    if (!Number.isSafeInteger(counter) || (counter as number) < 1) return `the counter of node ${node} must be a positive integer, got ${JSON.stringify(counter)}`;
  }
  return undefined;
}

/**
 * A vector as an opaque token for clients (a read's context, a session token): base64url of
 * its canonical JSON. `decodeVector` refuses anything that is not one, with the reason.
 */
export function encodeVector(vector: VersionVector): string {
  return Buffer.from(JSON.stringify(canonicalVector(vector))).toString('base64url');
}

export function decodeVector(token: string): VersionVector | { problem: string } {
  if (!/^[A-Za-z0-9_-]*$/.test(token)) return { problem: 'the token is not base64url text' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return { problem: 'the token does not decode to a version vector' };
  }
  const problem = versionVectorProblem(parsed);
  return problem === undefined ? (parsed as VersionVector) : { problem };
}
