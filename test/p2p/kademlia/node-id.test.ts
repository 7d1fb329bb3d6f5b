import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from '../../../src/core/rng.js';
import {
  commonPrefixLength, compareDistance, idFromBytes, idFromWords, idToBytes, idToWords, isNodeId, randomIdInBucket,
} from '../../../src/p2p/kademlia/node-id.js';
import { arbitraryId, referenceBucket, xorDistance } from './helpers.js';

describe('node ids', () => {
  it('accepts exactly 40 lowercase hexadecimal characters', () => {
    expect(isNodeId('0123456789abcdef0123456789abcdef01234567')).toBe(true);
    expect(isNodeId('0123456789ABCDEF0123456789abcdef01234567')).toBe(false);
    expect(isNodeId('0123456789abcdef0123456789abcdef0123456')).toBe(false);
    expect(isNodeId('0123456789abcdef0123456789abcdef012345678')).toBe(false);
    expect(isNodeId('g123456789abcdef0123456789abcdef01234567')).toBe(false);
    expect(isNodeId('é123456789abcdef0123456789abcdef01234567')).toBe(false);
    expect(isNodeId(42)).toBe(false);
    expect(isNodeId(undefined)).toBe(false);
  });

  it('round-trips through words and bytes', () => {
    fc.assert(fc.property(arbitraryId, (nodeId) => {
      expect(idFromWords(idToWords(nodeId))).toBe(nodeId);
      expect(idFromBytes(idToBytes(nodeId))).toBe(nodeId);
    }));
  });

  it('computes the common prefix length like the BigInt reference', () => {
    fc.assert(fc.property(arbitraryId, arbitraryId, (a, b) => {
      expect(commonPrefixLength(idToWords(a), 0, idToWords(b), 0)).toBe(referenceBucket(a, b));
    }));
    const same = '00000000000000000000000000000000000000ff';
    expect(commonPrefixLength(idToWords(same), 0, idToWords(same), 0)).toBe(160);
  });

  it('compares XOR distances like the BigInt reference', () => {
    fc.assert(fc.property(arbitraryId, arbitraryId, arbitraryId, (target, a, b) => {
      const expected = Math.sign(Number(xorDistance(target, a) - xorDistance(target, b)));
      expect(Math.sign(compareDistance(idToWords(target), idToWords(a), 0, idToWords(b), 0))).toBe(expected);
    }));
  });

  it('draws random ids that fall into the requested bucket', () => {
    fc.assert(fc.property(arbitraryId, fc.integer({ min: 0, max: 159 }), fc.integer(), (self, bucket, seed) => {
      const drawn = randomIdInBucket(idToWords(self), bucket, new Rng(Math.abs(seed)));
      expect(isNodeId(drawn)).toBe(true);
      expect(referenceBucket(self, drawn)).toBe(bucket);
    }));
    expect(() => randomIdInBucket(idToWords(idFromWords([1, 2, 3, 4, 5])), 160, new Rng(1))).toThrow(/bucket index/);
  });
});
