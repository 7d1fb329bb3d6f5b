/**
 * What this peer announces about itself and keeps announcing: the keys it provides and the
 * values it published. Each is stored again on the k closest peers every republish
 * interval, so records outlive the churn of the peers that hold them and the TTL that
 * would otherwise expire them.
 */
import { bytesToHex } from './bytes.js';
import type { SignedValue } from './messages.js';
import type { NodeId } from './node-id.js';

export type DuePublication = { readonly kind: 'provider'; readonly key: NodeId } | { readonly kind: 'value'; readonly record: SignedValue };

export class Publications {
  /** Provided keys -> tick of the next republish. */
  private readonly provided = new Map<NodeId, number>();
  /** Published values by key and public key -> the record and the tick of its next republish. */
  private readonly published = new Map<string, { record: SignedValue; nextTick: number }>();

  constructor(
    private readonly providedKeysMax: number,
    private readonly publishedValuesMax: number,
    private readonly republishIntervalTicks: number,
  ) {}

  /** Starts (or restarts) providing `key`; false when `providedKeysMax` other keys are provided already. */
  provide(key: NodeId, nowTick: number): boolean {
    if (!this.provided.has(key) && this.provided.size >= this.providedKeysMax) return false;
    this.provided.set(key, nowTick + this.republishIntervalTicks);
    return true;
  }

  stopProviding(key: NodeId): void {
    this.provided.delete(key);
  }

  /** Starts republishing `record`, replacing an older value of the same publisher under the same key; false when full. */
  publish(record: SignedValue, nowTick: number): boolean {
    const id = `${record.key}/${bytesToHex(record.publicKey)}`;
    if (!this.published.has(id) && this.published.size >= this.publishedValuesMax) return false;
    this.published.set(id, { record, nextTick: nowTick + this.republishIntervalTicks });
    return true;
  }

  /** Up to `countMax` publications whose republish time has come, each rescheduled one interval later. */
  takeDue(nowTick: number, countMax: number): DuePublication[] {
    const due: DuePublication[] = [];
    for (const [key, nextTick] of this.provided) {
      if (due.length >= countMax) return due;
      if (nextTick > nowTick) continue;
      this.provided.set(key, nowTick + this.republishIntervalTicks);
      due.push({ kind: 'provider', key });
    }
    for (const entry of this.published.values()) {
      if (due.length >= countMax) return due;
      if (entry.nextTick > nowTick) continue;
      entry.nextTick = nowTick + this.republishIntervalTicks;
      due.push({ kind: 'value', record: entry.record });
    }
    return due;
  }
}
