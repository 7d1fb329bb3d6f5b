/**
 * The consistent-hash ring (Karger et al. 1997; Dynamo section 4.2). Each peer takes
 * `virtualNodesPerPeer` points, at the hashes of `peer#0`, `peer#1`, ...; a key's preference
 * list is the first n distinct peers met walking clockwise from the key's hash. Adding a peer
 * only inserts its points, so only keys whose walk now meets the new peer among the first n
 * change lists: about n / (p + 1) of the keys, one replica each.
 *
 * Keys whose preference lists hold the same peers form one anti-entropy range: every replica
 * of such a key holds every other key of the range, so two replicas can compare the range's
 * Merkle trees and expect equality. A 5-peer, n = 3 ring has at most 10 of them.
 */
import { createHash } from 'node:crypto';
import { assert } from '../../core/assert.js';

interface RingPoint {
  readonly position: number;
  readonly peer: string;
}

/** A 52-bit ring position: the first 13 hex digits of SHA-256, exact in a double. */
export function ringPosition(text: string): number {
  return Number.parseInt(createHash('sha256').update(text).digest('hex').slice(0, 13), 16);
}

export class HashRing {
  readonly peers: readonly string[];
  private readonly points: RingPoint[];

  constructor(peers: readonly string[], virtualNodesPerPeer: number) {
    assert(new Set(peers).size === peers.length, 'ring peers must be distinct');
    this.peers = [...peers].sort();
    this.points = [];
    for (const peer of this.peers) {
      for (let index = 0; index < virtualNodesPerPeer; index++) this.points.push({ position: ringPosition(`${peer}#${index}`), peer });
    }
    // Ties (astronomically rare at 52 bits) break on the peer id, so every peer builds the same ring.
    this.points.sort((left, right) => left.position - right.position || (left.peer < right.peer ? -1 : left.peer > right.peer ? 1 : 0));
  }

  /** The first `count` distinct peers clockwise from the key's hash (all peers, in ring order, if count is larger). */
  walk(key: string, count: number): string[] {
    return this.walkFromPoint(this.firstPointAtOrAfter(ringPosition(key)), count);
  }

  /** Every range (a set of n peers that holds some arc of the ring) with its peers; for anti-entropy. */
  ranges(n: number): Map<string, string[]> {
    const ranges = new Map<string, string[]>();
    for (let index = 0; index < this.points.length; index++) {
      const replicas = this.walkFromPoint(index, n);
      const id = rangeId(replicas);
      if (!ranges.has(id)) ranges.set(id, [...replicas].sort());
    }
    return ranges;
  }

  private walkFromPoint(start: number, count: number): string[] {
    const found: string[] = [];
    const seen = new Set<string>();
    const wanted = Math.min(count, this.peers.length);
    for (let step = 0; step < this.points.length && found.length < wanted; step++) {
      const peer = this.points[(start + step) % this.points.length].peer;
      if (seen.has(peer)) continue;
      seen.add(peer);
      found.push(peer);
    }
    return found;
  }

  /** Binary search: the index of the first point at or after `position`, wrapping to 0 past the last. */
  private firstPointAtOrAfter(position: number): number {
    let low = 0;
    let high = this.points.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.points[middle].position < position) low = middle + 1;
      else high = middle;
    }
    return low === this.points.length ? 0 : low;
  }
}

/** The anti-entropy range id of a replica set: independent of the set's order. */
export function rangeId(replicas: readonly string[]): string {
  const sorted = [...replicas].sort();
  return `range-${createHash('sha256').update(sorted.join('\n')).digest('hex').slice(0, 16)}`;
}
