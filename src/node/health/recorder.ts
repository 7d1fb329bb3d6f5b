/**
 * The health recorder of one peer: it buffers health events and writes them to the peer's
 * own health log in the replicated store every flushIntervalMs, and turns the request outcomes
 * a gateway reports into 'requests' events and per-second statistics.
 *
 * It records the peer 'up' (observer = subject = itself) and each of its services 'up' when it
 * is built, and both 'down' when it is stopped cleanly, so a planned restart counts as the
 * downtime it is. While the store is unavailable (no leader, no quorum) it keeps the events and
 * retries at every flush; beyond healthBufferEventsMax it drops the oldest and counts them.
 */
import { assert } from '../../core/assert.js';
import { parseHealthEvent, type HealthEvent, type Service } from '../../availability/index.js';
import type { Logger } from '../../net/index.js';
import { flushIntervalMsDefault, healthBufferEventsMax, requestsWindowMs, stopFlushTimeoutMs } from './constants.js';
import { HealthSettingsError } from './errors.js';
import { HealthLogWriter } from './health-log-writer.js';
import type { HealthStore } from './health-store.js';
import { RecentRequests, RequestsWindow, type RequestOutcomeReport, type RequestSecond } from './request-statistics.js';

export interface HealthRecorderOptions {
  nodeId: string;
  store: HealthStore;
  /** Milliseconds since the epoch: `Date.now` in a peer, a fake clock in tests. */
  now: () => number;
  logger: Logger;
  flushIntervalMs?: number;
  /** The services this peer offers, recorded 'up' now and 'down' on stop. */
  services?: readonly Service[];
  bufferEventsMax?: number;
}

export interface HealthRecorderStats {
  buffered: number;
  /** Events dropped (the oldest) because the buffer was full while the store was unavailable. */
  dropped: number;
  flushed: number;
  /** The last flush's error, while flushes keep failing; undefined once one succeeds. */
  lastFlushError: string | undefined;
}

export class HealthRecorder {
  readonly nodeId: string;
  private readonly options: HealthRecorderOptions;
  private readonly writer: HealthLogWriter;
  private readonly bufferEventsMax: number;
  private buffer: { sequence: number; event: HealthEvent }[] = [];
  private nextSequence = 0;
  private dropped = 0;
  private flushed = 0;
  private lastFlushError: string | undefined;
  private flushing: Promise<void> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private readonly requestsWindow: RequestsWindow;
  private readonly recent = new RecentRequests();

  constructor(options: HealthRecorderOptions) {
    const flushIntervalMs = options.flushIntervalMs ?? flushIntervalMsDefault;
    this.bufferEventsMax = options.bufferEventsMax ?? healthBufferEventsMax;
    if (!(Number.isFinite(flushIntervalMs) && flushIntervalMs > 0)) throw new HealthSettingsError(`flushIntervalMs must be a number of milliseconds above 0, got ${flushIntervalMs}`);
    if (!(Number.isSafeInteger(this.bufferEventsMax) && this.bufferEventsMax >= 1)) throw new HealthSettingsError(`bufferEventsMax must be a whole number >= 1, got ${this.bufferEventsMax}`);
    this.options = options;
    this.nodeId = options.nodeId;
    this.writer = new HealthLogWriter(options.store, options.nodeId);
    this.requestsWindow = new RequestsWindow(options.nodeId, requestsWindowMs);
    const atMs = options.now();
    this.record({ kind: 'peer', atMs, observer: this.nodeId, subject: this.nodeId, state: 'up' });
    for (const service of options.services ?? []) this.record({ kind: 'service', atMs, peer: this.nodeId, service, state: 'up' });
    this.timer = setInterval(() => void this.flush(), flushIntervalMs);
    // The flush timer alone must not keep a process alive that is otherwise done.
    this.timer.unref?.();
  }

  /** Buffers one event for the next flush. A malformed event is a programmer error and throws. */
  record(event: HealthEvent): void {
    const checked = parseHealthEvent(event);
    this.buffer.push({ sequence: this.nextSequence++, event: checked });
    const excess = this.buffer.length - this.bufferEventsMax;
    if (excess > 0) {
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
  }

  /** A gateway answered a client: counted in the current 'requests' window and the per-second ring. */
  requestOutcome(report: RequestOutcomeReport): void {
    assert(Number.isFinite(report.latencyMs) && report.latencyMs >= 0, `a latency is a number of milliseconds >= 0, got ${report.latencyMs}`);
    const nowMs = this.options.now();
    const closed = this.requestsWindow.add(report, nowMs);
    if (closed !== undefined) this.record(closed);
    this.recent.add(report, nowMs);
  }

  /** Per-second request counts and latency percentiles for the last `seconds` seconds (at most 600). */
  recentRequests(seconds: number): RequestSecond[] {
    return this.recent.recent(seconds, this.options.now());
  }

  stats(): HealthRecorderStats {
    return { buffered: this.buffer.length, dropped: this.dropped, flushed: this.flushed, lastFlushError: this.lastFlushError };
  }

  /** Writes the buffered events to the store; one flush at a time, a call during a flush waits for it and flushes again. */
  async flush(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
    this.flushing = this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const closed = this.requestsWindow.closeIfDue(this.options.now(), this.stopped);
    if (closed !== undefined) this.record(closed);
    const batch = this.buffer.slice();
    try {
      // Every flush, even without events, notes that this peer is alive: after a crash, the next
      // life records this peer down from about then (health-log-writer.ts).
      await this.writer.append(batch.map((entry) => entry.event), this.options.now());
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (this.lastFlushError === undefined) this.options.logger.warn({ code: (error as { code?: unknown }).code, detail: message, buffered: this.buffer.length }, 'health events not written to the store; retrying at the next flush');
      this.lastFlushError = message;
      return;
    }
    const lastSequence = batch.at(-1)?.sequence ?? -1;
    this.buffer = this.buffer.filter((entry) => entry.sequence > lastSequence);
    this.flushed += batch.length;
    if (this.lastFlushError !== undefined) this.options.logger.info({ flushed: batch.length, dropped: this.dropped }, 'health events written to the store again');
    this.lastFlushError = undefined;
  }

  /**
   * Stops the timer, records this peer and its services 'down', and flushes once more, waiting at
   * most stopFlushTimeoutMs: stopping a peer must not hang on a store that is gone.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    const atMs = this.options.now();
    for (const service of this.options.services ?? []) this.record({ kind: 'service', atMs, peer: this.nodeId, service, state: 'down' });
    this.record({ kind: 'peer', atMs, observer: this.nodeId, subject: this.nodeId, state: 'down' });
    let timeout: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => (timeout = setTimeout(resolve, stopFlushTimeoutMs)))]);
    clearTimeout(timeout);
  }
}
