import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { signedValueBytes, type SignedValue } from '../../../src/p2p/kademlia/messages.js';
import { randomId, type NodeId } from '../../../src/p2p/kademlia/node-id.js';
import type { KademliaSettings } from '../../../src/p2p/kademlia/settings.js';
import { contactOf, xorDistance } from './helpers.js';
import { fakeSign, LocalNetwork } from './local-network.js';

/** Short record lifetimes, so that expiry and republishing happen within a few hundred ticks. */
const quickRecords: Partial<KademliaSettings> = { recordTtlTicks: 300, republishIntervalTicks: 100, housekeepingIntervalTicks: 10 };

function buildNetwork(size: number, settings: Partial<KademliaSettings> = {}, seed = 1): { network: LocalNetwork; ids: NodeId[]; rng: Rng } {
  const rng = new Rng(seed);
  const network = new LocalNetwork(settings);
  const ids = Array.from({ length: size }, () => randomId(rng));
  network.add(ids[0], 0).bootstrap([]);
  for (let i = 1; i < size; i++) {
    network.add(ids[i], i).bootstrap([contactOf(ids[0])]);
    network.settle();
  }
  return { network, ids, rng };
}

function trueClosest(ids: readonly NodeId[], key: NodeId, count: number, except?: NodeId): NodeId[] {
  return ids.filter((nodeId) => nodeId !== except).sort((a, b) => (xorDistance(key, a) < xorDistance(key, b) ? -1 : 1)).slice(0, count);
}

function sign(key: NodeId, publisher: number, sequence: number, text: string): SignedValue {
  const value = new TextEncoder().encode(text);
  const publicKey = new Uint8Array([publisher, publisher]);
  return { key, value, publicKey, sequence, signature: fakeSign(publicKey, signedValueBytes(key, sequence, value)) };
}

describe('Kademlia over a small network', () => {
  it('converges: every lookup returns exactly the k closest peers, sorted', () => {
    const { network, ids, rng } = buildNetwork(80);
    for (let i = 0; i < 40; i++) {
      const origin = ids[rng.nextInt(ids.length)];
      const key = randomId(rng);
      const operationId = network.node(origin).lookup(key);
      network.settle();
      const result = network.result(origin, operationId)!;
      expect(result.ok).toBe(true);
      expect(result.closest.map((contact) => contact.nodeId)).toEqual(trueClosest(ids, key, 20, origin));
      expect(result.hops).toBeGreaterThanOrEqual(1);
    }
  });

  it('fills the far buckets when joining, so that no bucket with peers in its range stays empty', () => {
    const { network, ids } = buildNetwork(80);
    for (const nodeId of ids) {
      const fill = network.node(nodeId).bucketFill();
      // Buckets 0 and 1 cover half and a quarter of the id space: with 80 peers both hold someone.
      expect(fill[0]).toBeGreaterThan(0);
      expect(fill[1]).toBeGreaterThan(0);
    }
  });

  it('stores a provider record on the k closest peers, where another peer finds it', () => {
    const { network, ids, rng } = buildNetwork(60, quickRecords);
    const key = randomId(rng);
    const provider = ids[5];
    const provideId = network.node(provider).provide(key);
    network.settle();
    expect(network.result(provider, provideId)).toMatchObject({ ok: true, stored: 20, refusals: [] });
    for (const holder of trueClosest(ids, key, 20, provider)) {
      expect(network.node(holder).storedProviders(key).map((contact) => contact.nodeId)).toEqual([provider]);
    }
    const seeker = ids[40];
    const findId = network.node(seeker).findProviders(key);
    network.settle();
    expect(network.result(seeker, findId)!.providers.map((contact) => contact.nodeId)).toEqual([provider]);
  });

  it('lets records expire after their TTL when nobody republishes them', () => {
    const { network, ids, rng } = buildNetwork(40, quickRecords);
    const key = randomId(rng);
    network.node(ids[3]).provide(key);
    network.settle();
    network.node(ids[3]).stopProviding(key);
    expect(ids.filter((nodeId) => network.node(nodeId).storedProviders(key).length > 0).length).toBeGreaterThanOrEqual(20);
    network.tick(quickRecords.recordTtlTicks! - 1);
    expect(ids.filter((nodeId) => network.node(nodeId).storedProviders(key).length > 0).length).toBeGreaterThanOrEqual(20);
    network.tick(1 + quickRecords.housekeepingIntervalTicks!);
    expect(ids.filter((nodeId) => network.node(nodeId).storedProviders(key).length > 0)).toEqual([]);
    expect(ids.every((nodeId) => network.node(nodeId).storedRecordCount === 0)).toBe(true);
  });

  it('republishes provided keys, so records outlive the TTL and reach peers that joined closer to the key', () => {
    const { network, ids, rng } = buildNetwork(40, quickRecords);
    const key = randomId(rng);
    const provider = ids[3];
    network.node(provider).provide(key);
    network.settle();
    // A newcomer whose id is the key itself: it becomes the closest peer to the key.
    network.add(key, 99).bootstrap([contactOf(ids[0])]);
    network.settle();
    expect(network.node(key).storedProviders(key)).toEqual([]);
    network.tick(3 * quickRecords.recordTtlTicks!);
    expect(network.results.get(provider)!.filter((result) => result.kind === 'republishProvider' && result.ok).length).toBeGreaterThanOrEqual(8);
    expect(network.node(key).storedProviders(key).map((contact) => contact.nodeId)).toEqual([provider]);
    const findId = network.node(ids[20]).findProviders(key);
    network.settle();
    expect(network.result(ids[20], findId)!.providers.map((contact) => contact.nodeId)).toEqual([provider]);
  });

  it('refuses providers over the per-key cap, and the provider is told why', () => {
    const { network, ids, rng } = buildNetwork(30, { ...quickRecords, providersPerKeyMax: 2 });
    const key = randomId(rng);
    const operations = ids.slice(1, 4).map((provider) => {
      const operationId = network.node(provider).provide(key);
      network.settle();
      return network.result(provider, operationId)!;
    });
    expect(operations[0].refusals).toEqual([]);
    expect(operations[2].refusals.filter((refusal) => refusal === 'key-full').length).toBeGreaterThanOrEqual(15);
    const findId = network.node(ids[20]).findProviders(key);
    network.settle();
    expect(network.result(ids[20], findId)!.providers.length).toBeLessThanOrEqual(3);
  });

  it('stores signed values, returns the newest per publisher, and refuses stale and forged ones', () => {
    const { network, ids, rng } = buildNetwork(40, quickRecords);
    const key = randomId(rng);
    const publisher = network.node(ids[2]);
    publisher.putValue(sign(key, 1, 1, 'first'));
    network.settle();
    publisher.putValue(sign(key, 1, 2, 'second'));
    network.node(ids[3]).putValue(sign(key, 2, 1, 'other publisher'));
    network.settle();
    const getId = network.node(ids[30]).getValue(key);
    network.settle();
    const found = network.result(ids[30], getId)!;
    expect(found.ok).toBe(true);
    expect(found.values.map((record) => new TextDecoder().decode(record.value)).sort()).toEqual(['other publisher', 'second']);
    // The publisher stores its newest value again every republish interval.
    network.tick(quickRecords.republishIntervalTicks! + quickRecords.housekeepingIntervalTicks!);
    const republished = network.results.get(ids[2])!.filter((result) => result.kind === 'republishValue');
    expect(republished.length).toBeGreaterThanOrEqual(1);
    expect(republished.every((result) => result.ok && result.stored >= 15)).toBe(true);

    // A stale sequence is refused by the holders.
    const staleId = network.node(ids[4]).putValue(sign(key, 1, 1, 'first'));
    network.settle();
    expect(network.result(ids[4], staleId)!.refusals.filter((refusal) => refusal === 'stale-sequence').length).toBeGreaterThanOrEqual(15);

    // A forged value sent straight to a holder is refused and counted.
    const holder = network.node(trueClosest(ids, key, 1)[0]);
    const forged = { ...sign(key, 3, 1, 'forged'), signature: new Uint8Array([3, 3, 0, 0, 0, 0]) };
    holder.step(contactOf(ids[5]), { type: 'putValue', requestId: 4, record: forged });
    expect(holder.ready().messages.find((message) => message.message.type === 'stored')!.message).toMatchObject({ refusal: 'invalid-signature' });
    holder.advance();
    expect(holder.stats.invalidSignatures).toBe(1);
    expect(() => publisher.putValue(forged)).toThrow(/signature does not verify/);
  });

  it('drops forged values from answers to getValue', () => {
    const { network, ids, rng } = buildNetwork(2);
    const key = randomId(rng);
    const asker = network.node(ids[1]);
    const operationId = asker.getValue(key);
    const request = asker.ready().messages[0];
    asker.advance();
    const good = sign(key, 1, 1, 'good');
    const forged = { ...sign(key, 2, 1, 'forged'), signature: new Uint8Array([2, 2, 9, 9, 9, 9]) };
    const otherKey = sign(randomId(rng), 3, 1, 'wrong key');
    asker.step(request.to, { type: 'values', requestId: request.message.requestId, records: [good, forged, otherKey], contacts: [] });
    const result = asker.ready().results.find((candidate) => candidate.operationId === operationId)!;
    expect(result.values).toEqual([good]);
    expect(asker.stats.invalidSignatures).toBe(2);
  });
});
