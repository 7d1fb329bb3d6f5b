import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { TrackerRegistry } from '../../../src/p2p/discovery/index.js';
import type { Contact } from '../../../src/p2p/kademlia/index.js';

function contact(index: number, port = 4000 + index): Contact {
  return { nodeId: index.toString(16).padStart(40, '0'), host: '127.0.0.1', port };
}

describe('the tracker registry', () => {
  it('forgets a peer exactly when it has not announced for the TTL, and keeps one that renews', () => {
    const forgotten: Contact[] = [];
    const registry = new TrackerRegistry(1_000, 100, (gone) => forgotten.push(gone));
    expect(registry.announce(contact(1), 0)).toBe('added');
    expect(registry.announce(contact(2), 500)).toBe('added');
    expect(registry.announce(contact(2), 900)).toBe('renewed');
    expect(registry.expire(999)).toEqual([]);
    expect(registry.expire(1_000)).toEqual([contact(1)]);
    expect(forgotten).toEqual([contact(1)]);
    expect(registry.peers(1_899, undefined, 10, new Rng(1))).toEqual([contact(2)]);
    expect(registry.peers(1_900, undefined, 10, new Rng(1))).toEqual([]);
    expect(forgotten).toEqual([contact(1), contact(2)]);
    expect(registry.size).toBe(0);
  });

  it('refuses new peers when full, but still renews known ones and takes new ones after expiry', () => {
    const registry = new TrackerRegistry(1_000, 2);
    registry.announce(contact(1), 0);
    registry.announce(contact(2), 10);
    expect(registry.announce(contact(3), 20)).toBe('full');
    expect(registry.announce(contact(1), 30)).toBe('renewed');
    expect(registry.announce(contact(3), 1_010)).toBe('added');
    expect(registry.peers(1_010, undefined, 10, new Rng(1)).map((peer) => peer.nodeId).sort()).toEqual([contact(1).nodeId, contact(3).nodeId].sort());
  });

  it('takes the newest address of a peer that announces again from another port', () => {
    const registry = new TrackerRegistry(1_000, 10);
    registry.announce(contact(1, 4001), 0);
    registry.announce(contact(1, 5001), 10);
    expect(registry.peers(20, undefined, 10, new Rng(1))).toEqual([contact(1, 5001)]);
  });

  it('answers without the asker, at most countMax peers, each a uniform sample', () => {
    const registry = new TrackerRegistry(1_000_000, 1_000);
    for (let index = 1; index <= 100; index++) registry.announce(contact(index), index);
    const rng = new Rng(7);
    const picked = new Map<string, number>();
    for (let round = 0; round < 400; round++) {
      const peers = registry.peers(200, contact(1).nodeId, 10, rng);
      expect(peers).toHaveLength(10);
      expect(new Set(peers.map((peer) => peer.nodeId)).size).toBe(10);
      expect(peers.some((peer) => peer.nodeId === contact(1).nodeId)).toBe(false);
      for (const peer of peers) picked.set(peer.nodeId, (picked.get(peer.nodeId) ?? 0) + 1);
    }
    // 4,000 picks over 99 peers: about 40 each; a biased sample would starve some.
    expect(picked.size).toBe(99);
    expect(Math.min(...picked.values())).toBeGreaterThan(15);
  });

  it('refuses settings that cannot work', () => {
    expect(() => new TrackerRegistry(0, 10)).toThrow(/TTL must be positive/);
    expect(() => new TrackerRegistry(1_000, 0)).toThrow(/peersMax/);
  });
});
