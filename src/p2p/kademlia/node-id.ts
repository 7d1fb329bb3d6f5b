/**
 * Node ids and record keys: 160-bit numbers written as 40 lowercase hexadecimal characters.
 *
 * Strings are the one representation everywhere (contacts, messages, map keys), because
 * they are cheap map keys and survive msgpack and JSON unchanged. Distance work needs
 * numbers, so hot paths read an id as five unsigned 32-bit words, most significant first;
 * the XOR distance of two ids is then five word XORs compared lexicographically.
 */
import type { Rng } from '../../core/rng.js';
import { idBits, idHexLength } from './constants.js';
import { KademliaInputError } from './errors.js';

export type NodeId = string;

/** Words per id: 160 bits in unsigned 32-bit words. */
export const idWords = 5;

// Value of each ASCII code as a hex digit, or -1. Only lowercase is accepted, so that one id has one spelling.
const hexValue = new Int8Array(128).fill(-1);
for (let digit = 0; digit < 10; digit++) hexValue[48 + digit] = digit;
for (let digit = 0; digit < 6; digit++) hexValue[97 + digit] = 10 + digit;
const hexDigits = '0123456789abcdef';

export function isNodeId(value: unknown): value is NodeId {
  if (typeof value !== 'string' || value.length !== idHexLength) return false;
  for (let i = 0; i < idHexLength; i++) {
    const code = value.charCodeAt(i);
    if (code >= 128 || hexValue[code] < 0) return false;
  }
  return true;
}

/** `key` if it is a valid id; otherwise a `KademliaInputError` that says what an id looks like. */
export function checkKey(key: NodeId): NodeId {
  if (!isNodeId(key)) throw new KademliaInputError('key', `must be ${idHexLength} lowercase hexadecimal characters (a ${idBits}-bit id), got ${JSON.stringify(key)}`);
  return key;
}

/** Word `index` (0 = most significant) of a valid id. */
export function idWord(id: NodeId, index: number): number {
  let word = 0;
  const start = index * 8;
  for (let i = start; i < start + 8; i++) word = (word << 4) | hexValue[id.charCodeAt(i)];
  return word >>> 0;
}

/** All five words of a valid id, written into `out` at `offset`. */
export function writeIdWords(id: NodeId, out: Uint32Array, offset: number): void {
  for (let index = 0; index < idWords; index++) out[offset + index] = idWord(id, index);
}

export function idFromWords(words: ArrayLike<number>): NodeId {
  let id = '';
  for (let index = 0; index < idWords; index++) {
    const word = words[index] >>> 0;
    for (let shift = 28; shift >= 0; shift -= 4) id += hexDigits[(word >>> shift) & 15];
  }
  return id;
}

export function idFromBytes(bytes: Uint8Array): NodeId {
  if (bytes.length !== idBits / 8) throw new RangeError(`a node id is ${idBits / 8} bytes, got ${bytes.length}`);
  let id = '';
  for (const byte of bytes) id += hexDigits[byte >>> 4] + hexDigits[byte & 15];
  return id;
}

export function idToBytes(id: NodeId): Uint8Array {
  const bytes = new Uint8Array(idBits / 8);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (hexValue[id.charCodeAt(2 * i)] << 4) | hexValue[id.charCodeAt(2 * i + 1)];
  return bytes;
}

/**
 * Length of the common prefix of two ids, in bits: 160 for equal ids, otherwise the
 * index of the highest bit in which they differ, counted from the most significant.
 * It is the routing-table bucket that `b` falls into for a peer whose id is `a`.
 */
export function commonPrefixLength(a: Uint32Array, aOffset: number, b: Uint32Array, bOffset: number): number {
  for (let index = 0; index < idWords; index++) {
    const difference = (a[aOffset + index] ^ b[bOffset + index]) >>> 0;
    if (difference !== 0) return index * 32 + Math.clz32(difference);
  }
  return idBits;
}

/**
 * Compares the XOR distances of `a` and `b` from `target` (all as word arrays): negative
 * when `a` is closer, positive when `b` is, zero when they are the same id.
 */
export function compareDistance(target: Uint32Array, a: Uint32Array, aOffset: number, b: Uint32Array, bOffset: number): number {
  for (let index = 0; index < idWords; index++) {
    const distanceA = (a[aOffset + index] ^ target[index]) >>> 0;
    const distanceB = (b[bOffset + index] ^ target[index]) >>> 0;
    if (distanceA !== distanceB) return distanceA < distanceB ? -1 : 1;
  }
  return 0;
}

/** The words of one id, for targets and other one-off uses. */
export function idToWords(id: NodeId): Uint32Array {
  const words = new Uint32Array(idWords);
  writeIdWords(id, words, 0);
  return words;
}

/** A uniformly random id. */
export function randomId(rng: Rng): NodeId {
  const words = new Uint32Array(idWords);
  for (let index = 0; index < idWords; index++) words[index] = rng.nextUint32();
  return idFromWords(words);
}

/**
 * A random id that falls into bucket `bucketIndex` of the peer `self`: it shares the first
 * `bucketIndex` bits with `self`, differs in the next, and is random after that. Refreshing a
 * bucket means looking up such an id.
 */
export function randomIdInBucket(self: Uint32Array, bucketIndex: number, rng: Rng): NodeId {
  if (!Number.isInteger(bucketIndex) || bucketIndex < 0 || bucketIndex >= idBits) {
    throw new RangeError(`bucket index must be an integer in [0, ${idBits - 1}], got ${bucketIndex}`);
  }
  const words = new Uint32Array(idWords);
  for (let index = 0; index < idWords; index++) {
    const firstBit = index * 32;
    const random = rng.nextUint32();
    if (firstBit + 32 <= bucketIndex) {
      words[index] = self[index];
    } else if (firstBit > bucketIndex) {
      words[index] = random;
    } else {
      // The word holding the flipped bit: self's bits before it, the flipped bit, random bits after.
      const bit = bucketIndex - firstBit;
      const prefixMask = bit === 0 ? 0 : (0xffff_ffff << (32 - bit)) >>> 0;
      const flipMask = (0x8000_0000 >>> bit) >>> 0;
      const randomMask = (flipMask - 1) >>> 0;
      words[index] = ((self[index] & prefixMask) | (~self[index] & flipMask) | (random & randomMask)) >>> 0;
    }
  }
  return idFromWords(words);
}
