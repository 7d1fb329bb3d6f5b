/**
 * The records a peer stores for others: provider records (key -> peers that serve it: a
 * model, a chunk) and small signed values, each living `recordTtlTicks` after it was last
 * stored. Every way in has a cap: providers per key, values per key, records per storing
 * peer and records in all. A store over a cap is refused with the cap's name, never
 * silently dropped, so the storing peer can count it.
 *
 * Signatures are checked by the node before a value gets here; this store only keeps
 * and expires what it is given.
 */
import { bytesToHex, sameBytes } from './bytes.js';
import type { Contact } from './contact.js';
import type { SignedValue, StoreRefusal } from './messages.js';
import type { NodeId } from './node-id.js';

export interface RecordLimits {
  providersPerKeyMax: number;
  valuesPerKeyMax: number;
  recordsPerPeerMax: number;
  recordsStoredMax: number;
  recordTtlTicks: number;
}

interface ProviderEntry {
  provider: Contact;
  expiresTick: number;
}

interface ValueEntry {
  record: SignedValue;
  storedBy: NodeId;
  expiresTick: number;
}

export class RecordStore {
  private readonly limits: RecordLimits;
  private readonly providers = new Map<NodeId, Map<NodeId, ProviderEntry>>();
  /** key -> publisher public key (hex) -> value. */
  private readonly values = new Map<NodeId, Map<string, ValueEntry>>();
  private readonly recordsPerPeer = new Map<NodeId, number>();
  private recordCount = 0;

  constructor(limits: RecordLimits) {
    this.limits = limits;
  }

  /** Records stored in all, expired ones included until the next `expire`. */
  get size(): number {
    return this.recordCount;
  }

  /** Records stored on behalf of one peer. */
  recordsOf(peer: NodeId): number {
    return this.recordsPerPeer.get(peer) ?? 0;
  }

  /** Stores, or refreshes, the record "`provider` serves `key`". The provider is the peer that asked. */
  addProvider(key: NodeId, provider: Contact, nowTick: number): StoreRefusal | null {
    const expiresTick = nowTick + this.limits.recordTtlTicks;
    let entries = this.providers.get(key);
    const existing = entries?.get(provider.nodeId);
    if (existing !== undefined && existing.expiresTick > nowTick) {
      existing.provider = provider;
      existing.expiresTick = expiresTick;
      return null;
    }
    if (existing !== undefined) this.removeProvider(key, provider.nodeId);
    entries = this.providers.get(key);
    const refusal = this.capRefusal(entries?.size ?? 0, this.limits.providersPerKeyMax, provider.nodeId);
    if (refusal !== null) return refusal;
    if (entries === undefined) {
      entries = new Map();
      this.providers.set(key, entries);
    }
    entries.set(provider.nodeId, { provider, expiresTick });
    this.countRecord(provider.nodeId, 1);
    return null;
  }

  /** Unexpired providers of `key`, at most `countMax`, in the order they were first stored. */
  providersOf(key: NodeId, nowTick: number, countMax: number): Contact[] {
    const result: Contact[] = [];
    const entries = this.providers.get(key);
    if (entries === undefined) return result;
    for (const entry of entries.values()) {
      if (result.length >= countMax) break;
      if (entry.expiresTick > nowTick) result.push(entry.provider);
    }
    return result;
  }

  /**
   * Stores a value whose signature the caller has checked, on behalf of `storedBy`. A value
   * from the same publisher with a lower sequence is replaced; one with a higher sequence, or
   * the same sequence and a different signature, wins and the new one is refused as stale.
   */
  putValue(record: SignedValue, storedBy: NodeId, nowTick: number): StoreRefusal | null {
    const publisher = bytesToHex(record.publicKey);
    let existing = this.values.get(record.key)?.get(publisher);
    if (existing !== undefined && existing.expiresTick <= nowTick) {
      this.removeValue(record.key, publisher);
      existing = undefined;
    }
    const expiresTick = nowTick + this.limits.recordTtlTicks;
    if (existing !== undefined) {
      const existingSequence = existing.record.sequence;
      if (existingSequence > record.sequence) return 'stale-sequence';
      if (existingSequence === record.sequence) {
        // The same record again is a refresh; a different one under the same sequence is an equivocation, and the first one stays.
        if (!sameBytes(existing.record.signature, record.signature) || !sameBytes(existing.record.value, record.value)) return 'stale-sequence';
        existing.expiresTick = expiresTick;
        return null;
      }
      // A newer value from the same publisher takes the old one's place; it counts against whoever stored it.
      if (existing.storedBy !== storedBy && this.recordsOf(storedBy) >= this.limits.recordsPerPeerMax) return 'peer-full';
      this.removeValue(record.key, publisher);
    } else {
      const refusal = this.capRefusal(this.values.get(record.key)?.size ?? 0, this.limits.valuesPerKeyMax, storedBy);
      if (refusal !== null) return refusal;
    }
    let entries = this.values.get(record.key);
    if (entries === undefined) {
      entries = new Map();
      this.values.set(record.key, entries);
    }
    entries.set(publisher, { record, storedBy, expiresTick });
    this.countRecord(storedBy, 1);
    return null;
  }

  /** Unexpired values stored under `key`, one per publisher. */
  valuesOf(key: NodeId, nowTick: number): SignedValue[] {
    const result: SignedValue[] = [];
    const entries = this.values.get(key);
    if (entries === undefined) return result;
    for (const entry of entries.values()) if (entry.expiresTick > nowTick) result.push(entry.record);
    return result;
  }

  /** Forgets every record whose TTL ran out; returns how many. */
  expire(nowTick: number): number {
    let removed = 0;
    for (const [key, entries] of this.providers) {
      for (const [providerId, entry] of entries) {
        if (entry.expiresTick > nowTick) continue;
        this.removeProvider(key, providerId);
        removed++;
      }
    }
    for (const [key, entries] of this.values) {
      for (const [publisher, entry] of entries) {
        if (entry.expiresTick > nowTick) continue;
        this.removeValue(key, publisher);
        removed++;
      }
    }
    return removed;
  }

  /** The cap a new record would break, checked from the narrowest to the widest. */
  private capRefusal(keyCount: number, keyCountMax: number, storedBy: NodeId): StoreRefusal | null {
    if (keyCount >= keyCountMax) return 'key-full';
    if (this.recordsOf(storedBy) >= this.limits.recordsPerPeerMax) return 'peer-full';
    if (this.recordCount >= this.limits.recordsStoredMax) return 'store-full';
    return null;
  }

  private countRecord(peer: NodeId, change: number): void {
    const count = (this.recordsPerPeer.get(peer) ?? 0) + change;
    if (count === 0) this.recordsPerPeer.delete(peer);
    else this.recordsPerPeer.set(peer, count);
    this.recordCount += change;
  }

  private removeProvider(key: NodeId, providerId: NodeId): void {
    const entries = this.providers.get(key)!;
    entries.delete(providerId);
    if (entries.size === 0) this.providers.delete(key);
    this.countRecord(providerId, -1);
  }

  private removeValue(key: NodeId, publisher: string): void {
    const entries = this.values.get(key)!;
    const entry = entries.get(publisher)!;
    entries.delete(publisher);
    if (entries.size === 0) this.values.delete(key);
    this.countRecord(entry.storedBy, -1);
  }
}
