/** Shared helpers for the Kademlia tests: ids as BigInt for the dumb references, contacts, and a fake signer. */
import fc from 'fast-check';
import type { Contact } from '../../../src/p2p/kademlia/contact.js';
import { idFromWords, type NodeId } from '../../../src/p2p/kademlia/node-id.js';

export function idToBigInt(id: NodeId): bigint {
  return BigInt(`0x${id}`);
}

export function bigIntToId(value: bigint): NodeId {
  return value.toString(16).padStart(40, '0');
}

/** Distance the slow, obviously right way. */
export function xorDistance(a: NodeId, b: NodeId): bigint {
  return idToBigInt(a) ^ idToBigInt(b);
}

/** Bucket index the slow way: 159 minus the position of the highest set bit of the distance. */
export function referenceBucket(self: NodeId, other: NodeId): number {
  const distance = xorDistance(self, other);
  if (distance === 0n) return 160;
  return 160 - distance.toString(2).length;
}

export const arbitraryId: fc.Arbitrary<NodeId> = fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { minLength: 5, maxLength: 5 }).map((words) => idFromWords(words));

/** Ids in bucket 0 to `bucketMax` of `self`: a small `bucketMax` crowds few buckets, so they fill and overflow in small tests. */
export function arbitraryIdNear(self: NodeId, bucketMax = 159): fc.Arbitrary<NodeId> {
  return fc.tuple(fc.integer({ min: 0, max: bucketMax }), fc.bigInt({ min: 0n, max: (1n << 160n) - 1n })).map(([bucket, random]) => {
    const selfValue = idToBigInt(self);
    const keepMask = ((1n << 160n) - 1n) ^ ((1n << BigInt(160 - bucket)) - 1n);
    const flip = 1n << BigInt(159 - bucket);
    const lowMask = flip - 1n;
    return bigIntToId((selfValue & keepMask) | ((selfValue & flip) ^ flip) | (random & lowMask));
  });
}

export function contactOf(nodeId: NodeId, port = 4000): Contact {
  return { nodeId, host: `host-${nodeId.slice(0, 6)}`, port };
}

export function id(prefixHex: string): NodeId {
  return prefixHex.padEnd(40, '0');
}
