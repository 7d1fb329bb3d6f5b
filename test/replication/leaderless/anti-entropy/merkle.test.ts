import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bucketIndex, emptyTreeHash, innerHash, leafHash, leafIndex, MerkleTree, stateDigest } from '../../../../src/replication/leaderless/anti-entropy/index.js';

/** The dumb reference: every node hash computed from scratch, straight from a key -> digest map. */
function referenceHashes(contents: Map<string, string>, depth: number): string[][] {
  const leaves: Array<Array<[string, string]>> = Array.from({ length: 2 ** depth }, () => []);
  for (const [key, digest] of contents) leaves[leafIndex(key, depth)].push([key, digest]);
  const levels: string[][] = [];
  levels[depth] = leaves.map((entries) => leafHash(entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))));
  for (let level = depth - 1; level >= 0; level--) {
    levels[level] = Array.from({ length: 2 ** level }, (_, index) => innerHash(levels[level + 1][2 * index], levels[level + 1][2 * index + 1]));
  }
  return levels;
}

function allHashes(tree: MerkleTree): string[][] {
  return Array.from({ length: tree.depth + 1 }, (_, level) => Array.from({ length: 2 ** level }, (_, index) => tree.nodeHash(level, index)));
}

const operation = fc.record({
  key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'key/1', 'key/2', 'key/10', 'ключ', '🔑'),
  digest: fc.option(fc.constantFrom('d1', 'd2', 'd3', stateDigest(new Uint8Array([1]))), { nil: null }),
  /** Reading hashes between updates exercises the lazy recomputation of dirty paths. */
  readAfter: fc.boolean(),
});

describe('MerkleTree', () => {
  it('gives the same hashes after any sequence of inserts, updates and removals as a tree rebuilt from scratch', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.array(operation, { maxLength: 60 }), (depth, operations) => {
        const tree = new MerkleTree(depth);
        const contents = new Map<string, string>();
        for (const { key, digest, readAfter } of operations) {
          tree.update(key, digest);
          if (digest === null) contents.delete(key);
          else contents.set(key, digest);
          if (readAfter) expect(tree.rootHash()).toBe(referenceHashes(contents, depth)[0][0]);
        }
        expect(allHashes(tree)).toEqual(referenceHashes(contents, depth));
        expect(tree.keyCount()).toBe(contents.size);
        const rebuilt = new MerkleTree(depth);
        for (const [key, digest] of contents) rebuilt.update(key, digest);
        expect(allHashes(tree)).toEqual(allHashes(rebuilt));
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on the order keys arrive in', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 40 }), fc.integer(), (keys, seed) => {
        const forward = new MerkleTree(3);
        const shuffled = new MerkleTree(3);
        for (const key of keys) forward.update(key, `digest-of-${key}`);
        const order = [...keys].sort((a, b) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7) || (a < b ? 1 : -1));
        for (const key of order) shuffled.update(key, `digest-of-${key}`);
        expect(shuffled.rootHash()).toBe(forward.rootHash());
      }),
    );
  });

  it('after removing a key is exactly the tree that never had it', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 30 }), fc.nat(), (keys, pick) => {
        const removed = keys[pick % keys.length];
        const withRemoval = new MerkleTree(2);
        const without = new MerkleTree(2);
        for (const key of keys) {
          withRemoval.update(key, 'x');
          if (key !== removed) without.update(key, 'x');
        }
        withRemoval.rootHash();
        withRemoval.update(removed, null);
        expect(allHashes(withRemoval)).toEqual(allHashes(without));
        expect(withRemoval.digest(removed)).toBeUndefined();
      }),
    );
  });

  it('has the fixed empty hash when empty, and a different root as soon as one digest changes', () => {
    const tree = new MerkleTree(10);
    expect(tree.rootHash()).toBe(emptyTreeHash);
    tree.update('k', 'one');
    const one = tree.rootHash();
    expect(one).not.toBe(emptyTreeHash);
    tree.update('k', 'two');
    expect(tree.rootHash()).not.toBe(one);
    tree.update('k', null);
    expect(tree.rootHash()).toBe(emptyTreeHash);
    expect(tree.keyCount()).toBe(0);
  });

  it('lists a leaf sorted by key', () => {
    const tree = new MerkleTree(0);
    for (const key of ['m', 'b', 'z', 'a']) tree.update(key, `d-${key}`);
    expect(tree.leafEntries(0)).toEqual([['a', 'd-a'], ['b', 'd-b'], ['m', 'd-m'], ['z', 'd-z']]);
  });

  it('spreads sequential keys evenly over the leaves', () => {
    const depth = 8;
    const counts = new Array<number>(2 ** depth).fill(0);
    const keys = 256 * 64;
    for (let i = 0; i < keys; i++) counts[leafIndex(`conversation/${i}`, depth)]++;
    // 64 keys expected per leaf (Poisson-like, standard deviation 8): nothing near empty or doubled.
    expect(Math.min(...counts)).toBeGreaterThan(32);
    expect(Math.max(...counts)).toBeLessThan(100);
  });

  it('splits a leaf into buckets below it: halves that partition the leaf, hashed like leaves', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 50 }), fc.nat(), (depth, keys, pick) => {
        const tree = new MerkleTree(depth);
        for (const key of keys) tree.update(key, `d-${key}`);
        const leaf = pick % 2 ** depth;
        expect(tree.hashAt(depth, leaf)).toBe(tree.nodeHash(depth, leaf));
        expect(tree.bucketEntries(depth, leaf)).toEqual(tree.leafEntries(leaf));
        const level = depth + 1 + (pick % 3);
        const under = Array.from({ length: 2 ** (level - depth) }, (_, i) => leaf * 2 ** (level - depth) + i);
        const parts = under.flatMap((bucket) => tree.bucketEntries(level, bucket));
        expect(parts.sort((a, b) => (a[0] < b[0] ? -1 : 1))).toEqual(tree.leafEntries(leaf));
        for (const bucket of under) {
          const entries = tree.bucketEntries(level, bucket);
          expect(entries.every(([key]) => bucketIndex(key, level) === bucket)).toBe(true);
          expect(tree.bucketKeyCount(level, bucket)).toBe(entries.length);
          expect(tree.hashAt(level, bucket)).toBe(leafHash(entries));
        }
      }),
    );
  });

  it('refuses a depth outside [0, 20]', () => {
    expect(() => new MerkleTree(21)).toThrow(/depth/);
    expect(() => new MerkleTree(-1)).toThrow(/depth/);
  });
});
