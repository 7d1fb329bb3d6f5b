/**
 * The tracker's memory: the peers that announced themselves, each forgotten once it has not
 * announced for `ttlMs`. Pure: time arrives as an argument and randomness as an Rng, so that
 * expiry and sampling are tested without clocks.
 */
import type { Rng } from '../../core/rng.js';
import type { Contact } from '../kademlia/index.js';

export type AnnounceOutcome = 'added' | 'renewed' | 'full';

interface Entry {
  contact: Contact;
  lastAnnouncedMs: number;
}

export class TrackerRegistry {
  /** Entries in the order of their last announcement, oldest first, so expiry stops at the first live one. */
  private readonly entries = new Map<string, Entry>();

  /** @param onForget told of every peer forgotten for silence, whichever call noticed it */
  constructor(
    readonly ttlMs: number,
    readonly peersMax: number,
    private readonly onForget: (contact: Contact) => void = () => undefined,
  ) {
    if (!(ttlMs > 0)) throw new RangeError(`the tracker's TTL must be positive, got ${ttlMs} ms`);
    if (!(Number.isInteger(peersMax) && peersMax >= 1)) throw new RangeError(`peersMax must be a positive integer, got ${peersMax}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Records (or renews) a peer's announcement; a new peer is refused while the tracker is full. */
  announce(contact: Contact, nowMs: number): AnnounceOutcome {
    this.expire(nowMs);
    const existing = this.entries.get(contact.nodeId);
    if (existing === undefined && this.entries.size >= this.peersMax) return 'full';
    this.entries.delete(contact.nodeId);
    // The contact is replaced too: a peer that restarted on another port announces its new one.
    this.entries.set(contact.nodeId, { contact, lastAnnouncedMs: nowMs });
    return existing === undefined ? 'added' : 'renewed';
  }

  /** Forgets peers whose last announcement is `ttlMs` old or older; returns them. */
  expire(nowMs: number): Contact[] {
    const expired: Contact[] = [];
    for (const [nodeId, entry] of this.entries) {
      if (nowMs - entry.lastAnnouncedMs < this.ttlMs) break;
      this.entries.delete(nodeId);
      expired.push(entry.contact);
      this.onForget(entry.contact);
    }
    return expired;
  }

  /** Up to `countMax` live peers other than `excludeNodeId`, a uniform random sample when there are more. */
  peers(nowMs: number, excludeNodeId: string | undefined, countMax: number, rng: Rng): Contact[] {
    this.expire(nowMs);
    const live = [...this.entries.values()].map((entry) => entry.contact).filter((contact) => contact.nodeId !== excludeNodeId);
    if (live.length <= countMax) return live;
    // A partial Fisher-Yates shuffle: the first countMax places are a uniform sample.
    for (let index = 0; index < countMax; index++) {
      const pick = index + rng.nextInt(live.length - index);
      [live[index], live[pick]] = [live[pick], live[index]];
    }
    return live.slice(0, countMax);
  }
}
