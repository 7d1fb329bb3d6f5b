/**
 * The per-range Merkle tree (Merkle 1987; Dynamo section 4.7). Keys fall into 2^depth leaf
 * buckets by a hash of the key; a leaf's hash covers its (key, digest) pairs sorted by key; an
 * inner node hashes its two children; every empty subtree has the same fixed hash, so a tree
 * depends only on the set of pairs, never on the order they arrived in.
 *
 * Updates are incremental: `update` changes one bucket and marks the path to the root dirty
 * (O(depth), stopping at the first ancestor already dirty); hashes are recomputed lazily when
 * read, so loading a hundred thousand keys hashes each node once rather than once per key.
 */
import { createHash } from 'node:crypto';
import { assert } from '../../../core/assert.js';
import { keyHashBits, shortHashHexDigits, treeDepthMax } from './settings.js';

/** The hash of every empty subtree, at any level: 64 hex zeros. */
export const emptyTreeHash = '0'.repeat(64);

/** The digest the node records for a key: SHA-256 of the key's encoded register state, in hex. */
export function stateDigest(encodedState: Uint8Array): string {
  return createHash('sha256').update(encodedState).digest('hex');
}

/**
 * A 32-bit hash of a key that places it in the tree: leaves take its top `depth` bits, and the
 * finer buckets an exchange descends into below the leaves take more of them. Placement needs
 * only a good spread, not a cryptographic hash, so this is FNV-1a over the key's UTF-16 code
 * units followed by MurmurHash3's finalizer (which spreads nearby keys like `item/1`, `item/2`
 * over the top bits); it is many times cheaper than SHA-256, and every replica computes it alike.
 */
export function keyHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** The bucket of `key` at `level` (0 to keyHashBits): the top `level` bits of its hash. At level = depth, its leaf. */
export function bucketIndex(key: string, level: number): number {
  return level === 0 ? 0 : keyHash(key) >>> (keyHashBits - level);
}

/** The leaf bucket of `key` in a tree of the given depth. */
export function leafIndex(key: string, depth: number): number {
  return bucketIndex(key, depth);
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A leaf's hash: SHA-256 over its pairs sorted by key. Each field is prefixed by its length in
 * UTF-16 code units, so no two lists encode alike; the encoding is one string, hashed in one call.
 */
export function leafHash(entries: ReadonlyArray<readonly [string, string]>): string {
  if (entries.length === 0) return emptyTreeHash;
  let encoded = 'leaf';
  for (const [key, digest] of entries) encoded += `${key.length}:${key}${digest.length}:${digest}`;
  return createHash('sha256').update(encoded).digest('hex');
}

/** An inner node's hash; two empty children make an empty node, so emptiness needs no special case above. */
export function innerHash(left: string, right: string): string {
  if (left === emptyTreeHash && right === emptyTreeHash) return emptyTreeHash;
  return createHash('sha256').update('node').update(left).update(right).digest('hex');
}

/**
 * The short hash an exchange sends in place of a full one: SHA-256(salt, value) cut to
 * `shortHashHexDigits`. Equal values always agree; different ones collide with probability
 * 2^-32, and a fresh salt per exchange keeps such a miss from repeating.
 */
export function saltedShortHash(salt: string, value: string): string {
  return createHash('sha256').update(salt).update('\n').update(value).digest('hex').slice(0, shortHashHexDigits);
}

export class MerkleTree {
  readonly depth: number;
  /** Node hashes in heap order: node (level, index) lives at (1 << level) + index; slot 0 is unused. */
  private readonly hashes: string[];
  /** 1 where a node's hash is stale; an ancestor of a dirty node is always dirty too. */
  private readonly dirty: Uint8Array;
  /** One map key -> digest per leaf, made when the leaf gets its first key. */
  private readonly buckets: Array<Map<string, string> | undefined>;
  private keys = 0;

  constructor(depth: number) {
    assert(Number.isSafeInteger(depth) && depth >= 0 && depth <= treeDepthMax, `tree depth must be an integer in [0, ${treeDepthMax}], got ${depth}`);
    this.depth = depth;
    const nodes = 2 ** (depth + 1);
    this.hashes = new Array<string>(nodes).fill(emptyTreeHash);
    this.dirty = new Uint8Array(nodes);
    this.buckets = new Array<Map<string, string> | undefined>(2 ** depth).fill(undefined);
  }

  /** Sets the digest of `key`, or removes the key when `digest` is null. */
  update(key: string, digest: string | null): void {
    assert(typeof key === 'string' && key.length > 0, 'a Merkle tree key must be a non-empty string');
    assert(digest === null || (typeof digest === 'string' && digest.length > 0), 'a digest must be a non-empty string or null');
    const leaf = leafIndex(key, this.depth);
    let bucket = this.buckets[leaf];
    if (digest === null) {
      if (bucket === undefined || !bucket.delete(key)) return;
      this.keys--;
      if (bucket.size === 0) this.buckets[leaf] = undefined;
    } else {
      if (bucket === undefined) {
        bucket = new Map();
        this.buckets[leaf] = bucket;
      }
      const previous = bucket.get(key);
      if (previous === digest) return;
      if (previous === undefined) this.keys++;
      bucket.set(key, digest);
    }
    for (let node = (1 << this.depth) + leaf; node >= 1 && this.dirty[node] === 0; node >>= 1) this.dirty[node] = 1;
  }

  rootHash(): string {
    return this.clean(1);
  }

  /** The hash of node `index` at `level` (0 is the root, `depth` the leaves). */
  nodeHash(level: number, index: number): string {
    assert(Number.isInteger(level) && level >= 0 && level <= this.depth, `level must be in [0, ${this.depth}], got ${level}`);
    assert(Number.isInteger(index) && index >= 0 && index < 2 ** level, `index must be in [0, 2^${level}), got ${index}`);
    return this.clean((1 << level) + index);
  }

  /** The leaf's pairs, sorted by key. */
  leafEntries(index: number): Array<[key: string, digest: string]> {
    assert(Number.isInteger(index) && index >= 0 && index < 2 ** this.depth, `leaf index must be in [0, 2^${this.depth}), got ${index}`);
    const bucket = this.buckets[index];
    if (bucket === undefined) return [];
    return [...bucket.entries()].sort((a, b) => compareKeys(a[0], b[0]));
  }

  /**
   * The hash of node (level, index) at any level up to keyHashBits. Down to the leaves this is
   * the tree's node; below them it is a bucket made on demand, the leafHash of the leaf's pairs
   * whose key hash starts with `index`, so an exchange can keep halving a crowded leaf without
   * the tree storing more levels.
   */
  hashAt(level: number, index: number): string {
    return level <= this.depth ? this.nodeHash(level, index) : leafHash(this.bucketEntries(level, index));
  }

  /** The pairs of bucket (level, index) for depth <= level <= keyHashBits, sorted by key. */
  bucketEntries(level: number, index: number): Array<[key: string, digest: string]> {
    const leaf = this.leafOfBucket(level, index);
    if (level === this.depth) return this.leafEntries(leaf);
    // Filter before sorting: a bucket below the leaves is usually a small part of its leaf.
    const entries: Array<[string, string]> = [];
    for (const [key, digest] of this.buckets[leaf] ?? []) if (bucketIndex(key, level) === index) entries.push([key, digest]);
    return entries.sort((a, b) => compareKeys(a[0], b[0]));
  }

  /** Keys in bucket (level, index) for depth <= level <= keyHashBits, counted without sorting. */
  bucketKeyCount(level: number, index: number): number {
    const bucket = this.buckets[this.leafOfBucket(level, index)];
    if (bucket === undefined || level === this.depth) return bucket?.size ?? 0;
    let count = 0;
    for (const key of bucket.keys()) if (bucketIndex(key, level) === index) count++;
    return count;
  }

  private leafOfBucket(level: number, index: number): number {
    assert(Number.isInteger(level) && level >= this.depth && level <= keyHashBits, `bucket level must be in [${this.depth}, ${keyHashBits}], got ${level}`);
    assert(Number.isInteger(index) && index >= 0 && index < 2 ** level, `bucket index must be in [0, 2^${level}), got ${index}`);
    return Math.floor(index / 2 ** (level - this.depth));
  }

  /** The digest the tree holds for `key`, if any. */
  digest(key: string): string | undefined {
    return this.buckets[leafIndex(key, this.depth)]?.get(key);
  }

  keyCount(): number {
    return this.keys;
  }

  /** Recomputes a stale node from its children (recursion is at most depth + 1 deep). */
  private clean(node: number): string {
    if (this.dirty[node] === 0) return this.hashes[node];
    const leafStart = 1 << this.depth;
    const hash = node >= leafStart ? leafHash(this.leafEntries(node - leafStart)) : innerHash(this.clean(2 * node), this.clean(2 * node + 1));
    this.hashes[node] = hash;
    this.dirty[node] = 0;
    return hash;
  }
}
