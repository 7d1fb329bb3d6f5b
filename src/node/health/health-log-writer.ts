/**
 * The writer of one peer's health log (layout in health-log.ts). It appends to the current
 * segment, starts a new one (carrying the latest state) when it is full, and moves the head.
 *
 * A peer that crashed could not record its own end. So the first append of a new life looks at
 * what the previous one left: if its last word about itself was 'up', the previous life ended
 * in a crash, and the writer records it 'down' (with its services) at the last moment it is
 * known to have been alive: the later of its last event and its last flush (`alive` key). That
 * keeps a whole-cluster outage, which no surviving observer could see, in the report.
 */
import { assert } from '../../core/assert.js';
import { sortEvents, type HealthEvent } from '../../availability/index.js';
import { carriedEventsMax, healthPeersMax, peersUpdateAttemptsMax, segmentEventsMax } from './constants.js';
import { HealthPeersContendedError, HealthPeersFullError } from './errors.js';
import { foldLatest, healthAliveKey, healthHeadKey, healthPeersKey, healthSegmentKey, parseHead, parsePeers, parseSegment } from './health-log.js';
import type { HealthStore, StoredValue } from './health-store.js';

assert(carriedEventsMax < segmentEventsMax, 'a new segment has room for new events after the carried state');

interface SegmentState {
  segment: number;
  events: HealthEvent[];
  stored: StoredValue;
  head: StoredValue;
}

/**
 * Appends one peer's events to its own segments. Not safe for two writers of the same node ID
 * at once (there is one recorder per peer); calls must not overlap (the recorder serialises them).
 */
export class HealthLogWriter {
  /** What the last successful append left in the store; dropped on any failure and read again. */
  private cache: SegmentState | undefined;
  private readonly latest = new Map<string, HealthEvent>();
  private registered = false;
  /** The end of the previous life, once worked out: added to every append until one succeeds. */
  private previousLifeEnd: HealthEvent[] | undefined;
  private alive: StoredValue | undefined;

  constructor(
    private readonly store: HealthStore,
    readonly nodeId: string,
  ) {}

  /**
   * Appends events (already in the log are not added twice) and, with `aliveAtMs`, notes that
   * the peer was alive then. Resolves once everything is stored; on failure nothing is assumed
   * stored and the caller appends the same events again later.
   */
  async append(events: readonly HealthEvent[], aliveAtMs?: number): Promise<void> {
    if (!this.registered) await this.register();
    let state = this.cache ?? (await this.load());
    this.cache = undefined;
    this.previousLifeEnd ??= await this.endOfPreviousLife(state);
    let pending = sortEvents([...this.previousLifeEnd, ...events]);
    for (;;) {
      const room = segmentEventsMax - state.events.length;
      const taken = pending.slice(0, room);
      pending = pending.slice(room);
      // Events already in the segment (a retried flush whose write did land) are not added twice.
      const merged = sortEvents([...state.events, ...taken]);
      const key = healthSegmentKey(this.nodeId, state.segment);
      if (taken.length > 0) state = { ...state, events: merged, stored: (await this.store.write(key, JSON.stringify(merged), state.stored, false))! };
      foldLatest(this.latest, taken);
      if (pending.length === 0) break;
      state = await this.startSegment(state);
    }
    // The first append of a peer writes its head too, so readers find segment 0 through it.
    if (state.head.values.length === 0) {
      state = { ...state, head: (await this.store.write(healthHeadKey(this.nodeId), JSON.stringify(state.segment), state.head, false))! };
    }
    if (aliveAtMs !== undefined) this.alive = (await this.store.write(healthAliveKey(this.nodeId), JSON.stringify(aliveAtMs), this.alive!, false))!;
    this.previousLifeEnd = [];
    this.cache = state;
  }

  /**
   * The events that close a previous life that ended in a crash: this peer and the services it
   * last had up, 'down' at the last moment it was known alive. None after a clean stop (its last
   * word was 'down') or on a first start.
   */
  private async endOfPreviousLife(state: SegmentState): Promise<HealthEvent[]> {
    const key = healthAliveKey(this.nodeId);
    this.alive = await this.store.read(key, true);
    const self = this.latest.get(`peer ${this.nodeId}`);
    if (self?.kind !== 'peer' || self.state !== 'up') return [];
    const aliveAtMs = this.alive.values.map((text) => Number(text)).filter((value) => Number.isFinite(value) && value >= 0);
    const atMs = Math.max(...aliveAtMs, ...state.events.map((event) => event.atMs));
    if (!Number.isFinite(atMs)) return [];
    const ended: HealthEvent[] = [{ kind: 'peer', atMs, observer: this.nodeId, subject: this.nodeId, state: 'down' }];
    for (const event of this.latest.values()) {
      if (event.kind === 'service' && event.peer === this.nodeId && event.state === 'up') ended.push({ ...event, atMs, state: 'down' });
    }
    return ended;
  }

  /** Writes the next segment with the carried state, then moves the head to it. */
  private async startSegment(state: SegmentState): Promise<SegmentState> {
    const segment = state.segment + 1;
    const carried = sortEvents([...this.latest.values()]).slice(-carriedEventsMax);
    const key = healthSegmentKey(this.nodeId, segment);
    const previous = await this.store.read(key, true);
    // A segment may exist already if an earlier writer died between writing it and moving the head.
    const existing = parseSegment(previous.values, key).value;
    const events = sortEvents([...carried, ...existing]).slice(-segmentEventsMax);
    const stored = (await this.store.write(key, JSON.stringify(events), previous, false))!;
    const head = (await this.store.write(healthHeadKey(this.nodeId), JSON.stringify(segment), state.head, false))!;
    return { segment, events, stored, head };
  }

  /** Finds the current segment: the head's, or a later one a writer that died left behind. */
  private async load(): Promise<SegmentState> {
    const head = await this.store.read(healthHeadKey(this.nodeId), true);
    let segment = parseHead(head.values, healthHeadKey(this.nodeId)).value ?? 0;
    let stored = await this.store.read(healthSegmentKey(this.nodeId, segment), true);
    for (;;) {
      const next = await this.store.read(healthSegmentKey(this.nodeId, segment + 1), true);
      if (next.values.length === 0) break;
      segment++;
      stored = next;
    }
    const events = parseSegment(stored.values, healthSegmentKey(this.nodeId, segment)).value.slice(-segmentEventsMax);
    foldLatest(this.latest, events);
    return { segment, events, stored, head };
  }

  /** Adds this node to `health/peers`, so that readers find its segments. */
  private async register(): Promise<void> {
    for (let attempt = 0; attempt < peersUpdateAttemptsMax; attempt++) {
      const stored = await this.store.read(healthPeersKey, true);
      const peers = parsePeers(stored.values).value;
      // A single value that already names us is done; siblings are merged into one even then.
      if (peers.includes(this.nodeId) && stored.values.length <= 1) {
        this.registered = true;
        return;
      }
      if (!peers.includes(this.nodeId) && peers.length >= healthPeersMax) {
        throw new HealthPeersFullError(`${healthPeersKey} already lists ${healthPeersMax} peers (healthPeersMax); this peer's health events cannot be found by readers`);
      }
      const next = [...new Set([...peers, this.nodeId])].sort();
      if ((await this.store.write(healthPeersKey, JSON.stringify(next), stored, true)) !== undefined) {
        this.registered = true;
        return;
      }
    }
    throw new HealthPeersContendedError(`could not add ${this.nodeId} to ${healthPeersKey} in ${peersUpdateAttemptsMax} compare-and-set rounds; other peers kept writing it`);
  }
}

