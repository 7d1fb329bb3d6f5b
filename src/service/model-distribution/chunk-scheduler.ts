/**
 * Which chunk to ask of which provider: the download's bookkeeping, without I/O or clock
 * (the shell passes the time in), so that every rule below is tested on its own.
 *
 * - Chunks go out lowest index first; a chunk that came back bad or was lost goes out again
 *   before fresh ones, so the file fills from the front and a resume wastes little.
 * - Each request goes to the usable provider with the fewest requests in flight, then the
 *   one that has been asked least so far: the download spreads across every provider.
 * - Limits: `chunksInFlightPerProviderMax` per provider, `chunksInFlightMax` in total.
 * - A chunk whose bytes do not match its hash is asked of another provider (never again of
 *   the one that sent it wrong), and the provider is counted; at
 *   `corruptChunksPerProviderMax` it is dropped for good.
 * - A provider that errors or times out loses every chunk it has in flight to the others at
 *   once, and rests for a while that doubles with each failure in a row. One that answers
 *   busy rests briefly and is not counted.
 *
 * Every request the scheduler hands out is settled exactly once by the shell (delivered,
 * corrupt or failed). A request whose chunk has meanwhile gone to another provider is stale:
 * it still frees its provider's slot, and its bytes are still welcome if they verify.
 */
import { assert } from '../../core/assert.js';
import {
  chunksInFlightMax,
  chunksInFlightPerProviderMax,
  corruptChunksPerProviderMax,
  providerBusyMs,
  providerRetryMsMax,
  providerRetryMsMin,
} from './constants.js';

export interface SchedulerLimits {
  chunksInFlightPerProviderMax: number;
  chunksInFlightMax: number;
  corruptChunksPerProviderMax: number;
  providerRetryMsMin: number;
  providerRetryMsMax: number;
  providerBusyMs: number;
}

export const schedulerLimitsDefault: SchedulerLimits = {
  chunksInFlightPerProviderMax, chunksInFlightMax, corruptChunksPerProviderMax, providerRetryMsMin, providerRetryMsMax, providerBusyMs,
};

/** Wanted chunks `next` looks at for one that a free provider may take. */
const chunksLookAheadMax = 64;

export type FailureKind = 'error' | 'busy' | 'cancelled';

/** One chunk request handed to the shell. */
export interface Assignment {
  readonly request: number;
  readonly index: number;
  readonly provider: string;
}

interface ProviderState {
  readonly id: string;
  readonly requests: Set<number>;
  assigned: number;
  delivered: number;
  corrupt: number;
  failuresInRow: number;
  restingUntilMs: number;
  dropped: boolean;
}

interface ChunkState {
  done: boolean;
  /** The request that currently owns the chunk; undefined while nobody is fetching it. */
  owner: number | undefined;
  /** Providers that sent this chunk wrong. */
  refusedBy: Set<string> | undefined;
}

export class ChunkScheduler {
  readonly limits: SchedulerLimits;
  private readonly chunks: ChunkState[];
  private readonly providers = new Map<string, ProviderState>();
  private readonly requests = new Map<number, Assignment>();
  /** Chunks to send out again, before any fresh one; a chunk may appear twice (skipped when taken). */
  private readonly again: number[] = [];
  private fresh = 0;
  private nextRequest = 1;
  private doneCount = 0;

  /** `done[i]` marks chunk i as already verified (a resumed download). */
  constructor(done: readonly boolean[], limits: Partial<SchedulerLimits> = {}) {
    this.limits = { ...schedulerLimitsDefault, ...limits };
    assert(this.limits.chunksInFlightPerProviderMax >= 1 && this.limits.chunksInFlightMax >= this.limits.chunksInFlightPerProviderMax, 'in-flight limits must allow at least one request');
    this.chunks = done.map((isDone) => ({ done: isDone, owner: undefined, refusedBy: undefined }));
    this.doneCount = done.filter(Boolean).length;
  }

  get chunksTotal(): number {
    return this.chunks.length;
  }

  get chunksDone(): number {
    return this.doneCount;
  }

  get complete(): boolean {
    return this.doneCount === this.chunks.length;
  }

  get requestsInFlight(): number {
    return this.requests.size;
  }

  isDone(index: number): boolean {
    return this.chunks[index].done;
  }

  /** Adds a provider (one that serves the same manifest); a known one is left as it is. */
  addProvider(id: string): void {
    if (this.providers.has(id)) return;
    this.providers.set(id, { id, requests: new Set(), assigned: 0, delivered: 0, corrupt: 0, failuresInRow: 0, restingUntilMs: 0, dropped: false });
  }

  hasProvider(id: string): boolean {
    return this.providers.has(id);
  }

  /** Providers not dropped for bad chunks (some may be resting). */
  get providersActive(): number {
    let count = 0;
    for (const provider of this.providers.values()) if (!provider.dropped) count++;
    return count;
  }

  /** Chunks each provider has delivered, verified. */
  deliveredByProvider(): Map<string, number> {
    return new Map([...this.providers.values()].map((provider) => [provider.id, provider.delivered]));
  }

  /** The requests to send now, as many as the limits allow. */
  next(nowMs: number): Assignment[] {
    const assignments: Assignment[] = [];
    while (this.requests.size < this.limits.chunksInFlightMax) {
      const choice = this.choose(nowMs);
      if (choice === undefined) break;
      const { index, provider } = choice;
      const assignment: Assignment = { request: this.nextRequest++, index, provider: provider.id };
      this.chunks[index].owner = assignment.request;
      provider.requests.add(assignment.request);
      provider.assigned++;
      this.requests.set(assignment.request, assignment);
      assignments.push(assignment);
    }
    return assignments;
  }

  /** The bytes of `request` verified. Returns true when they complete their chunk (write them), false when the chunk was done already. */
  delivered(request: number): boolean {
    const { index, provider } = this.settle(request);
    const state = this.providers.get(provider)!;
    state.delivered++;
    state.failuresInRow = 0;
    const chunk = this.chunks[index];
    if (chunk.done) return false;
    chunk.done = true;
    chunk.owner = undefined;
    this.doneCount++;
    return true;
  }

  /** The bytes of `request` did not match the chunk's hash. Returns true when this dropped the provider. */
  corrupt(request: number): boolean {
    const { index, provider } = this.settle(request);
    const state = this.providers.get(provider)!;
    const chunk = this.chunks[index];
    (chunk.refusedBy ??= new Set()).add(provider);
    this.release(index, request);
    state.corrupt++;
    if (state.corrupt < this.limits.corruptChunksPerProviderMax || state.dropped) return false;
    state.dropped = true;
    this.loseChunksOf(state);
    return true;
  }

  /**
   * `request` failed. An `error` (including a timeout) makes the provider lose its chunks in
   * flight and rest, longer with each failure in a row; `busy` makes it rest briefly, uncounted;
   * `cancelled` (the shell gave up on the request itself) only frees the chunk.
   */
  failed(request: number, nowMs: number, kind: FailureKind): void {
    const { index, provider } = this.settle(request);
    const state = this.providers.get(provider)!;
    this.release(index, request);
    if (kind === 'cancelled') return;
    if (kind === 'busy') {
      state.restingUntilMs = Math.max(state.restingUntilMs, nowMs + this.limits.providerBusyMs);
      return;
    }
    state.failuresInRow++;
    const restMs = Math.min(this.limits.providerRetryMsMin * 2 ** (state.failuresInRow - 1), this.limits.providerRetryMsMax);
    state.restingUntilMs = Math.max(state.restingUntilMs, nowMs + restMs);
    this.loseChunksOf(state);
  }

  /** The requests of `provider` still in flight (the shell aborts them when the provider fails). */
  requestsOf(provider: string): number[] {
    return [...(this.providers.get(provider)?.requests ?? [])];
  }

  /**
   * Why nothing can be sent although chunks are missing: undefined while a request is in
   * flight or a provider will be usable again (`wakeAtMs` says when); otherwise a sentence.
   */
  blocked(nowMs: number): { wakeAtMs?: number; reason?: string } {
    if (this.complete || this.requests.size > 0) return {};
    const index = this.peekWanted();
    if (index === undefined) return {};
    const chunk = this.chunks[index];
    const candidates = [...this.providers.values()].filter((provider) => !provider.dropped && chunk.refusedBy?.has(provider.id) !== true);
    if (candidates.length === 0) {
      const dropped = [...this.providers.values()].filter((provider) => provider.dropped).length;
      return { reason: `no provider left for chunk ${index}: ${this.providers.size} known, ${dropped} dropped for sending bad chunks, the rest sent this chunk wrong` };
    }
    return { wakeAtMs: Math.max(nowMs, Math.min(...candidates.map((provider) => provider.restingUntilMs))) };
  }

  private settle(request: number): Assignment {
    const assignment = this.requests.get(request);
    assert(assignment !== undefined, `request ${request} was settled twice or never made`);
    this.requests.delete(request);
    this.providers.get(assignment.provider)!.requests.delete(request);
    return assignment;
  }

  /** The chunk goes back to be asked again, if `request` still owned it. */
  private release(index: number, request: number): void {
    const chunk = this.chunks[index];
    if (chunk.done || chunk.owner !== request) return;
    chunk.owner = undefined;
    this.again.push(index);
  }

  private loseChunksOf(provider: ProviderState): void {
    for (const request of provider.requests) this.release(this.requests.get(request)!.index, request);
  }

  /**
   * The first wanted chunk (chunks to ask again first, then fresh ones) that some provider can
   * take now. Looking past a chunk that must wait (only a busy provider may send it) keeps the
   * others working; the look ahead is bounded so that a call stays cheap on a large file.
   */
  private choose(nowMs: number): { index: number; provider: ProviderState } | undefined {
    let looked = 0;
    for (const index of this.wanted()) {
      const provider = this.pickProvider(index, nowMs);
      if (provider !== undefined) return { index, provider };
      if (++looked >= chunksLookAheadMax) return undefined;
    }
    return undefined;
  }

  /** Chunks nobody is fetching, in the order they should go out. */
  private *wanted(): Generator<number> {
    const isWanted = (index: number) => !this.chunks[index].done && this.chunks[index].owner === undefined;
    // Forget entries of chunks that were taken or finished since they were queued again.
    while (this.again.length > 0 && !isWanted(this.again[0])) this.again.shift();
    for (const index of this.again) if (isWanted(index)) yield index;
    while (this.fresh < this.chunks.length && !isWanted(this.fresh)) this.fresh++;
    for (let index = this.fresh; index < this.chunks.length; index++) if (isWanted(index)) yield index;
  }

  /** The first wanted chunk, for `blocked`. */
  private peekWanted(): number | undefined {
    for (const index of this.wanted()) return index;
    return undefined;
  }

  private pickProvider(index: number, nowMs: number): ProviderState | undefined {
    const chunk = this.chunks[index];
    let best: ProviderState | undefined;
    for (const provider of this.providers.values()) {
      if (provider.dropped || provider.restingUntilMs > nowMs || provider.requests.size >= this.limits.chunksInFlightPerProviderMax) continue;
      if (chunk.refusedBy?.has(provider.id) === true) continue;
      if (best === undefined || provider.requests.size < best.requests.size || (provider.requests.size === best.requests.size && provider.assigned < best.assigned)) best = provider;
    }
    return best;
  }
}
