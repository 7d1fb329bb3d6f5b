/**
 * What a gateway answered its clients, kept two ways: summed into fixed windows that become
 * 'requests' health events in the store (client-observed availability), and per second in a
 * ring of the last recentRequestsSecondsMax seconds for the dashboard's live plots.
 */
import { Rng } from '../../core/rng.js';
import type { RequestsEvent } from '../../availability/index.js';
import { latencySamplesPerSecondMax, recentRequestsSecondsMax } from './constants.js';

export type RequestOutcome = 'ok' | 'failed' | 'rejected';

export interface RequestOutcomeReport {
  outcome: RequestOutcome;
  latencyMs: number;
}

/** One second of requests, for plots. Percentiles are null in a second without requests. */
export interface RequestSecond {
  atMs: number;
  ok: number;
  failed: number;
  rejected: number;
  latencyMsP50: number | null;
  latencyMsP99: number | null;
}

interface Counts {
  ok: number;
  failed: number;
  rejected: number;
}

/** Sums outcomes over windows aligned to multiples of `windowMs` since the epoch. */
export class RequestsWindow {
  private startMs: number | undefined;
  private counts: Counts = { ok: 0, failed: 0, rejected: 0 };
  private latencyMsSum = 0;
  private latencyMsMax = 0;

  constructor(
    private readonly gateway: string,
    private readonly windowMs: number,
  ) {}

  /** Adds one outcome; returns the window it closed, if its time had passed. */
  add(report: RequestOutcomeReport, nowMs: number): RequestsEvent | undefined {
    const closed = this.closeIfDue(nowMs);
    if (this.startMs === undefined) this.startMs = Math.floor(nowMs / this.windowMs) * this.windowMs;
    this.counts[report.outcome]++;
    this.latencyMsSum += report.latencyMs;
    this.latencyMsMax = Math.max(this.latencyMsMax, report.latencyMs);
    return closed;
  }

  /** The current window as an event once its time has passed (or now, cut short, when `force`). */
  closeIfDue(nowMs: number, force = false): RequestsEvent | undefined {
    if (this.startMs === undefined) return undefined;
    const endMs = this.startMs + this.windowMs;
    if (nowMs < endMs && !force) return undefined;
    const event: RequestsEvent = {
      kind: 'requests',
      atMs: this.startMs,
      windowMs: Math.max(1, Math.min(this.windowMs, nowMs - this.startMs)),
      gateway: this.gateway,
      ...this.counts,
      latencyMsSum: this.latencyMsSum,
      latencyMsMax: this.latencyMsMax,
    };
    this.startMs = undefined;
    this.counts = { ok: 0, failed: 0, rejected: 0 };
    this.latencyMsSum = 0;
    this.latencyMsMax = 0;
    return event;
  }
}

interface SecondBucket extends Counts {
  second: number;
  seen: number;
  latencies: number[];
}

function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  // Nearest rank: the smallest value with at least `fraction` of the values at or below it.
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)]!;
}

/** The last recentRequestsSecondsMax seconds, one bucket per second in a ring. */
export class RecentRequests {
  private readonly ring: (SecondBucket | undefined)[] = new Array(recentRequestsSecondsMax).fill(undefined);
  // Reservoir sampling keeps a fair sample of a busy second's latencies in bounded memory.
  private readonly rng = new Rng(0x5eed);

  add(report: RequestOutcomeReport, nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    const slot = second % recentRequestsSecondsMax;
    let bucket = this.ring[slot];
    if (bucket === undefined || bucket.second !== second) {
      bucket = { second, ok: 0, failed: 0, rejected: 0, seen: 0, latencies: [] };
      this.ring[slot] = bucket;
    }
    bucket[report.outcome]++;
    bucket.seen++;
    if (bucket.latencies.length < latencySamplesPerSecondMax) bucket.latencies.push(report.latencyMs);
    else {
      const index = this.rng.nextInt(bucket.seen);
      if (index < latencySamplesPerSecondMax) bucket.latencies[index] = report.latencyMs;
    }
  }

  /** One entry per second for the last `seconds` seconds up to now, oldest first, quiet seconds included. */
  recent(seconds: number, nowMs: number): RequestSecond[] {
    const count = Math.max(0, Math.min(Math.floor(seconds), recentRequestsSecondsMax));
    const nowSecond = Math.floor(nowMs / 1000);
    const result: RequestSecond[] = [];
    for (let second = nowSecond - count + 1; second <= nowSecond; second++) {
      const bucket = this.ring[((second % recentRequestsSecondsMax) + recentRequestsSecondsMax) % recentRequestsSecondsMax];
      if (bucket === undefined || bucket.second !== second) {
        result.push({ atMs: second * 1000, ok: 0, failed: 0, rejected: 0, latencyMsP50: null, latencyMsP99: null });
        continue;
      }
      const sorted = [...bucket.latencies].sort((left, right) => left - right);
      result.push({ atMs: second * 1000, ok: bucket.ok, failed: bucket.failed, rejected: bucket.rejected, latencyMsP50: percentile(sorted, 0.5), latencyMsP99: percentile(sorted, 0.99) });
    }
    return result;
  }
}
