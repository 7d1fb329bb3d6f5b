import { describe, expect, it } from 'vitest';
import type { SignedValue } from '../../../src/p2p/kademlia/messages.js';
import { RecordStore, type RecordLimits } from '../../../src/p2p/kademlia/records.js';
import { contactOf, id } from './helpers.js';

const limits: RecordLimits = { providersPerKeyMax: 2, valuesPerKeyMax: 2, recordsPerPeerMax: 3, recordsStoredMax: 5, recordTtlTicks: 100 };

function value(key: string, publisher: number, sequence: number, signature = sequence): SignedValue {
  return { key, value: new Uint8Array([sequence]), publicKey: new Uint8Array([publisher]), sequence, signature: new Uint8Array([signature]) };
}

describe('RecordStore', () => {
  it('refuses a provider over the per-key cap, and takes a refresh of a known one', () => {
    const store = new RecordStore(limits);
    expect(store.addProvider(id('a'), contactOf(id('1')), 0)).toBeNull();
    expect(store.addProvider(id('a'), contactOf(id('2')), 0)).toBeNull();
    expect(store.addProvider(id('a'), contactOf(id('3')), 0)).toBe('key-full');
    expect(store.addProvider(id('a'), contactOf(id('1')), 10)).toBeNull();
    expect(store.size).toBe(2);
    expect(store.providersOf(id('a'), 10, 20).map((contact) => contact.nodeId)).toEqual([id('1'), id('2')]);
  });

  it('refuses records over the per-peer cap and over the store cap', () => {
    const store = new RecordStore(limits);
    const provider = contactOf(id('1'));
    for (const key of ['a', 'b', 'c']) expect(store.addProvider(id(key), provider, 0)).toBeNull();
    expect(store.addProvider(id('d'), provider, 0)).toBe('peer-full');
    expect(store.recordsOf(id('1'))).toBe(3);
    expect(store.addProvider(id('d'), contactOf(id('2')), 0)).toBeNull();
    expect(store.addProvider(id('e'), contactOf(id('3')), 0)).toBeNull();
    expect(store.addProvider(id('f'), contactOf(id('4')), 0)).toBe('store-full');
    expect(store.putValue(value(id('f'), 9, 1), id('4'), 0)).toBe('store-full');
    expect(store.size).toBe(5);
  });

  it('forgets records when their TTL runs out, and hands out none that expired before the sweep', () => {
    const store = new RecordStore(limits);
    store.addProvider(id('a'), contactOf(id('1')), 0);
    store.addProvider(id('a'), contactOf(id('2')), 50);
    store.putValue(value(id('b'), 1, 1), id('1'), 0);
    expect(store.providersOf(id('a'), 99, 20)).toHaveLength(2);
    expect(store.providersOf(id('a'), 100, 20).map((contact) => contact.nodeId)).toEqual([id('2')]);
    expect(store.valuesOf(id('b'), 100)).toEqual([]);
    expect(store.size).toBe(3);
    expect(store.expire(100)).toBe(2);
    expect(store.size).toBe(1);
    expect(store.recordsOf(id('1'))).toBe(0);
    // An expired provider's slot is free again.
    expect(store.addProvider(id('a'), contactOf(id('3')), 100)).toBeNull();
  });

  it('keeps one value per publisher: a higher sequence replaces, a lower or equivocating one is refused', () => {
    const store = new RecordStore(limits);
    const key = id('a');
    expect(store.putValue(value(key, 1, 5), id('1'), 0)).toBeNull();
    expect(store.putValue(value(key, 1, 4), id('1'), 0)).toBe('stale-sequence');
    expect(store.putValue(value(key, 1, 5, 99), id('1'), 0)).toBe('stale-sequence');
    expect(store.putValue(value(key, 1, 5), id('2'), 10)).toBeNull();
    expect(store.putValue(value(key, 1, 6), id('2'), 10)).toBeNull();
    expect(store.valuesOf(key, 10).map((record) => record.sequence)).toEqual([6]);
    expect(store.recordsOf(id('1'))).toBe(0);
    expect(store.recordsOf(id('2'))).toBe(1);
    expect(store.putValue(value(key, 2, 1), id('3'), 10)).toBeNull();
    expect(store.putValue(value(key, 3, 1), id('3'), 10)).toBe('key-full');
    expect(store.size).toBe(2);
  });
});
