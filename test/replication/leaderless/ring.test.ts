import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HashRing, rangeId } from '../../../src/replication/leaderless/index.js';

const peerNames = (count: number) => Array.from({ length: count }, (_, index) => `peer-${index}`);
const keys = Array.from({ length: 2_000 }, (_, index) => `key-${index}`);

describe('HashRing', () => {
  it('gives each key n distinct peers, the same on every peer whatever order the peers were listed in', () => {
    const peers = peerNames(6);
    const ring = new HashRing(peers, 32);
    const shuffled = new HashRing([...peers].reverse(), 32);
    for (const key of keys.slice(0, 200)) {
      const list = ring.walk(key, 3);
      expect(new Set(list).size).toBe(3);
      expect(shuffled.walk(key, 3)).toEqual(list);
      // The preference list is a prefix of the full walk (the stand-ins come after it, in ring order).
      expect(ring.walk(key, 6).slice(0, 3)).toEqual(list);
    }
    expect(ring.walk('k', 10)).toHaveLength(6);
  });

  it('spreads keys roughly evenly over the peers with virtual nodes', () => {
    const ring = new HashRing(peerNames(5), 64);
    const counts = new Map<string, number>();
    for (const key of keys) for (const peer of ring.walk(key, 1)) counts.set(peer, (counts.get(peer) ?? 0) + 1);
    for (const count of counts.values()) expect(count).toBeGreaterThan(keys.length / 5 / 2);
  });

  it('moves only about 1/(p+1) of the replicas when one peer joins, and only keys whose list changed (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 3, max: 10 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1_000 }), (peerCount, n, salt) => {
      const peers = peerNames(peerCount).map((peer) => `${peer}-${salt}`);
      const joining = `joiner-${salt}`;
      const before = new HashRing(peers, 64);
      const after = new HashRing([...peers, joining], 64);
      let movedReplicas = 0;
      for (const key of keys) {
        const old = before.walk(key, n);
        const next = after.walk(key, n);
        const gained = next.filter((peer) => !old.includes(peer));
        const lost = old.filter((peer) => !next.includes(peer));
        // A changed list changed in exactly one way: the new peer took the place of one old replica.
        expect(gained.length).toBe(lost.length);
        if (gained.length > 0) expect(gained).toEqual([joining]);
        movedReplicas += gained.length;
      }
      const fraction = movedReplicas / (keys.length * n);
      const expected = 1 / (peerCount + 1);
      expect(fraction).toBeGreaterThan(expected * 0.5);
      expect(fraction).toBeLessThan(expected * 1.6);
    }), { numRuns: 25 });
  });

  it('names a range by its replica set, whatever the order, and lists every range some arc of the ring has', () => {
    expect(rangeId(['a', 'b', 'c'])).toBe(rangeId(['c', 'a', 'b']));
    expect(rangeId(['a', 'b', 'c'])).not.toBe(rangeId(['a', 'b', 'd']));
    const ring = new HashRing(peerNames(5), 16);
    const ranges = ring.ranges(3);
    expect(ranges.size).toBeLessThanOrEqual(10);
    for (const key of keys.slice(0, 300)) expect(ranges.has(rangeId(ring.walk(key, 3)))).toBe(true);
  });
});
