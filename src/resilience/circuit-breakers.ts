/**
 * One circuit breaker per peer and RPC path, built on opossum.
 *
 * A breaker counts its calls' failures over a rolling window. When at least
 * `volumeThreshold` calls were made in the window and more than
 * `errorThresholdPercentage` of them failed, it opens: calls fail at once with
 * CircuitOpenError and routing skips the peer. After `resetTimeoutMs` it turns
 * half-open and lets a single trial call through; success closes it, failure opens it
 * again for another `resetTimeoutMs`.
 *
 * Time: opossum keeps its rolling window on timers of its own unless it is handed a
 * "rotate" event source, so each breaker gets one and the registry rotates it lazily
 * from the injected clock before every call and every status read; no interval runs.
 * The open -> half-open step is opossum's own (unref'd) reset timer, which is why the
 * tests drive this file with fake timers whose clock is also the injected one.
 */
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import { assert } from '../core/assert.js';
import { type Clock } from './clock.js';
import {
  errorThresholdPercentageDefault,
  pathsPerPeerMax,
  peersTrackedMax,
  resetTimeoutMsDefault,
  rollingBucketsDefault,
  rollingWindowMsDefault,
  volumeThresholdDefault,
} from './constants.js';
import { CircuitOpenError } from './errors.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerTransition {
  peerId: string;
  path: string;
  from: BreakerState;
  to: BreakerState;
  atMs: number;
}

export interface BreakerStatus {
  peerId: string;
  path: string;
  state: BreakerState;
  /** Counts over the rolling window. */
  calls: number;
  failures: number;
  rejected: number;
  /** When the breaker last opened, on the registry's clock; undefined if it never did. */
  openedAtMs: number | undefined;
}

export interface CircuitBreakersOptions {
  errorThresholdPercentage?: number;
  volumeThreshold?: number;
  resetTimeoutMs?: number;
  rollingWindowMs?: number;
  rollingBuckets?: number;
  peersTrackedMax?: number;
  /**
   * Fails a call that has not settled after this long and counts it as a failure; off by
   * default because the RPC layer already puts a deadline on every request it sends.
   */
  callTimeoutMs?: number | false;
  /** Errors for which this returns false (a peer's well-formed refusal) do not count against the peer. */
  isFailure?: (error: unknown) => boolean;
  /** Defaults to Date.now, the clock opossum's own timers run on. */
  now?: Clock;
}

type Action = () => Promise<unknown>;

interface BreakerEntry {
  readonly peerId: string;
  readonly path: string;
  readonly breaker: CircuitBreaker<[Action], unknown>;
  readonly rotator: EventEmitter;
  rotatedAtMs: number;
  state: BreakerState;
  openedAtMs: number | undefined;
}

export type TransitionListener = (transition: BreakerTransition) => void;

export class CircuitBreakers {
  private readonly errorThresholdPercentage: number;
  private readonly volumeThreshold: number;
  private readonly resetTimeoutMs: number;
  private readonly bucketMs: number;
  private readonly rollingBuckets: number;
  private readonly peersMax: number;
  private readonly callTimeoutMs: number | false;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly now: Clock;
  /** Peers in least-recently-used order, each with its breakers by path. */
  private readonly peers = new Map<string, Map<string, BreakerEntry>>();
  private readonly listeners = new Set<TransitionListener>();

  constructor(options: CircuitBreakersOptions = {}) {
    this.errorThresholdPercentage = options.errorThresholdPercentage ?? errorThresholdPercentageDefault;
    this.volumeThreshold = options.volumeThreshold ?? volumeThresholdDefault;
    this.resetTimeoutMs = options.resetTimeoutMs ?? resetTimeoutMsDefault;
    const rollingWindowMs = options.rollingWindowMs ?? rollingWindowMsDefault;
    this.rollingBuckets = options.rollingBuckets ?? rollingBucketsDefault;
    this.peersMax = options.peersTrackedMax ?? peersTrackedMax;
    this.callTimeoutMs = options.callTimeoutMs ?? false;
    this.isFailure = options.isFailure ?? (() => true);
    this.now = options.now ?? Date.now;
    assert(this.errorThresholdPercentage > 0 && this.errorThresholdPercentage < 100, 'errorThresholdPercentage must lie strictly between 0 and 100');
    assert(Number.isInteger(this.volumeThreshold) && this.volumeThreshold >= 1, 'volumeThreshold must be a positive integer');
    assert(Number.isInteger(this.rollingBuckets) && this.rollingBuckets >= 1, 'rollingBuckets must be a positive integer');
    assert(Number.isInteger(this.peersMax) && this.peersMax >= 1, 'peersTrackedMax must be a positive integer');
    // The failures that opened a breaker must have left the window by the time its trial
    // call runs; otherwise the first failure after closing would reopen it at once.
    assert(rollingWindowMs <= this.resetTimeoutMs, `rollingWindowMs (${rollingWindowMs}) must not exceed resetTimeoutMs (${this.resetTimeoutMs})`);
    this.bucketMs = rollingWindowMs / this.rollingBuckets;
  }

  /**
   * Runs `fn` through the breaker of this peer and path. Rejects with CircuitOpenError
   * without calling `fn` when the breaker is open (or half-open with its trial call
   * still running); otherwise settles as `fn` does.
   */
  async call<T>(peerId: string, path: string, fn: () => Promise<T>): Promise<T> {
    const entry = this.entry(peerId, path);
    this.rotate(entry);
    try {
      return (await entry.breaker.fire(fn)) as T;
    } catch (error) {
      if (error instanceof Error && CircuitBreaker.isOurError(error) && (error as { code?: string }).code === 'EOPENBREAKER') {
        const reopensAtMs = (entry.openedAtMs ?? this.now()) + this.resetTimeoutMs;
        throw new CircuitOpenError(peerId, path, Math.max(0, reopensAtMs - this.now()));
      }
      throw error;
    }
  }

  /**
   * Whether routing should skip this peer: true if the breaker of `path` is open, or,
   * without a path, if any of the peer's breakers is. A half-open breaker is not open:
   * it is waiting for the trial call that may close it.
   */
  isOpen(peerId: string, path?: string): boolean {
    const breakers = this.peers.get(peerId);
    if (breakers === undefined) return false;
    if (path !== undefined) return breakers.get(path)?.state === 'open';
    for (const entry of breakers.values()) if (entry.state === 'open') return true;
    return false;
  }

  states(): BreakerStatus[] {
    const result: BreakerStatus[] = [];
    for (const breakers of this.peers.values()) {
      for (const entry of breakers.values()) {
        this.rotate(entry);
        const stats = entry.breaker.stats;
        result.push({
          peerId: entry.peerId,
          path: entry.path,
          state: entry.state,
          calls: stats.fires,
          failures: stats.failures,
          rejected: stats.rejects,
          openedAtMs: entry.openedAtMs,
        });
      }
    }
    return result;
  }

  /** Calls `listener` on every state change of every breaker; returns the function that stops it. */
  onTransition(listener: TransitionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Drops a peer's breakers (the peer left the cluster) and stops their timers. */
  forget(peerId: string): void {
    const breakers = this.peers.get(peerId);
    if (breakers === undefined) return;
    for (const entry of breakers.values()) entry.breaker.shutdown();
    this.peers.delete(peerId);
  }

  /** Drops every breaker; for shutdown. */
  close(): void {
    for (const peerId of [...this.peers.keys()]) this.forget(peerId);
  }

  get trackedPeers(): number {
    return this.peers.size;
  }

  private entry(peerId: string, path: string): BreakerEntry {
    let breakers = this.peers.get(peerId);
    if (breakers === undefined) {
      if (this.peers.size >= this.peersMax) this.evictOnePeer();
      breakers = new Map();
    } else {
      this.peers.delete(peerId);
    }
    // Re-inserting moves the peer to the most recently used end.
    this.peers.set(peerId, breakers);
    const existing = breakers.get(path);
    if (existing !== undefined) return existing;
    assert(breakers.size < pathsPerPeerMax, `more than ${pathsPerPeerMax} RPC paths for one peer: paths must be method names, not per-request values`);
    const created = this.createEntry(peerId, path);
    breakers.set(path, created);
    return created;
  }

  private createEntry(peerId: string, path: string): BreakerEntry {
    const rotator = new EventEmitter();
    const breaker = new CircuitBreaker<[Action], unknown>((action: Action) => action(), {
      name: `${peerId}:${path}`,
      timeout: this.callTimeoutMs,
      errorThresholdPercentage: this.errorThresholdPercentage,
      volumeThreshold: this.volumeThreshold,
      resetTimeout: this.resetTimeoutMs,
      rollingCountTimeout: this.bucketMs * this.rollingBuckets,
      rollingCountBuckets: this.rollingBuckets,
      rotateBucketController: rotator,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      // opossum's filter marks errors that are NOT failures.
      errorFilter: (error: unknown) => !this.isFailure(error),
    });
    const entry: BreakerEntry = { peerId, path, breaker, rotator, rotatedAtMs: this.now(), state: 'closed', openedAtMs: undefined };
    breaker.on('open', () => {
      entry.openedAtMs = this.now();
      this.transition(entry, 'open');
    });
    breaker.on('halfOpen', () => this.transition(entry, 'half-open'));
    breaker.on('close', () => this.transition(entry, 'closed'));
    return entry;
  }

  private transition(entry: BreakerEntry, to: BreakerState): void {
    const from = entry.state;
    if (from === to) return;
    entry.state = to;
    const event: BreakerTransition = { peerId: entry.peerId, path: entry.path, from, to, atMs: this.now() };
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // A listener's bug must not break the breaker's own bookkeeping inside opossum,
        // so it is rethrown outside this call stack, where it still crashes loudly.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** Slides the breaker's rolling window forward to the injected clock's present. */
  private rotate(entry: BreakerEntry): void {
    const elapsedBuckets = Math.floor((this.now() - entry.rotatedAtMs) / this.bucketMs);
    if (elapsedBuckets <= 0) return;
    const rotations = Math.min(elapsedBuckets, this.rollingBuckets);
    for (let index = 0; index < rotations; index += 1) entry.rotator.emit('rotate');
    entry.rotatedAtMs += elapsedBuckets * this.bucketMs;
  }

  /** Forgets the least recently used peer whose breakers are all closed, or failing that the least recently used peer. */
  private evictOnePeer(): void {
    let victim: string | undefined;
    for (const [peerId, breakers] of this.peers) {
      if ([...breakers.values()].every((entry) => entry.state === 'closed')) {
        victim = peerId;
        break;
      }
    }
    victim ??= this.peers.keys().next().value;
    if (victim !== undefined) this.forget(victim);
  }
}
