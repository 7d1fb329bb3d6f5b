/**
 * The bounded admission queue in front of the gateway's generation slots.
 *
 * A request either gets one of `concurrencyMax` slots at once, waits in a queue of at
 * most `queueDepthMax` requests, or is refused at once. It never waits past its
 * deadline: a waiting request whose deadline passes is dropped before it is given a
 * slot, so it costs no compute, and one whose deadline is nearer than the queue's
 * estimate of its wait is refused on arrival instead of waiting only to be dropped.
 * Normal-priority requests are served before low-priority ones, each class in arrival
 * order; when the queue is full a normal request takes the place of the newest
 * low-priority one.
 *
 * The decisions are synchronous and read time through the injected clock; the only
 * timer is the alarm that wakes a waiting request at its deadline, and the check that
 * keeps an expired request from getting a slot does not depend on that alarm firing.
 */
import { assert } from '../core/assert.js';
import { monotonicClock, realScheduler, type CancelAlarm, type Clock, type Scheduler } from './clock.js';
import {
  concurrencyMaxDefault,
  queueDepthMaxDefault,
  retryAfterMsMax,
  retryAfterMsMin,
  serviceSamplesMax,
  serviceTimeMsInitial,
  waitSamplesMax,
  waitWindowMsDefault,
} from './constants.js';
import { AdmissionAbortedError, DeadlineExceededError, QueueFullError, type DeadlineReason } from './errors.js';
import { SampleWindow, type Percentiles } from './sample-window.js';
import { WaitingList, type WaitingNode } from './waiting-list.js';

export type Priority = 'normal' | 'low';

export interface AdmitRequest {
  /**
   * The time, on the queue's clock, after which the request must not start. The gateway
   * passes the client's deadline minus the time it needs to serve, so that a request
   * that starts also finishes in time.
   */
  deadlineMs: number;
  priority?: Priority;
  /** Fires when the client goes away; a waiting request then leaves the queue. */
  signal?: AbortSignal;
}

/** A held slot. release() gives it back; it is safe to call from several cleanup paths. */
export interface Ticket {
  readonly priority: Priority;
  readonly waitedMs: number;
  readonly startedAtMs: number;
  release(): void;
}

export interface AdmissionQueueOptions {
  concurrencyMax?: number;
  queueDepthMax?: number;
  /** Refuse on arrival a request whose deadline is nearer than its estimated wait (default true). */
  refuseUnreachable?: boolean;
  /** Completed requests needed before the wait estimate is trusted enough to refuse on it. */
  serviceSamplesMin?: number;
  waitWindowMs?: number;
  now?: Clock;
  scheduler?: Scheduler;
}

export interface AdmissionStats {
  depth: number;
  depthNormal: number;
  depthLow: number;
  inService: number;
  concurrencyMax: number;
  queueDepthMax: number;
  admitted: number;
  rejected: { queueFull: number; deadline: number; aborted: number };
  /** Mean time a slot was held, over recent requests (the initial guess before any completed). */
  serviceTimeMsMean: number;
  /** Time spent waiting for a slot by requests that got one, over the recent window. */
  waitMs: Percentiles;
}

type RejectionReason = keyof AdmissionStats['rejected'];

interface Waiter {
  readonly priority: Priority;
  readonly deadlineMs: number;
  readonly enqueuedAtMs: number;
  readonly resolve: (ticket: Ticket) => void;
  readonly reject: (error: Error) => void;
  cancelAlarm: CancelAlarm;
  detachSignal: () => void;
  node: WaitingNode<Waiter> | undefined;
}

export class AdmissionQueue {
  readonly concurrencyMax: number;
  readonly queueDepthMax: number;
  private readonly refuseUnreachable: boolean;
  private readonly serviceSamplesMin: number;
  private readonly waitWindowMs: number;
  private readonly now: Clock;
  private readonly scheduler: Scheduler;
  private readonly normal = new WaitingList<Waiter>();
  private readonly low = new WaitingList<Waiter>();
  private readonly serviceTimes = new SampleWindow(serviceSamplesMax);
  private readonly waitTimes = new SampleWindow(waitSamplesMax);
  private inService = 0;
  private admitted = 0;
  private readonly rejected = { queueFull: 0, deadline: 0, aborted: 0 };

  constructor(options: AdmissionQueueOptions = {}) {
    this.concurrencyMax = options.concurrencyMax ?? concurrencyMaxDefault;
    this.queueDepthMax = options.queueDepthMax ?? queueDepthMaxDefault;
    assert(Number.isInteger(this.concurrencyMax) && this.concurrencyMax >= 1, `concurrencyMax must be a positive integer, got ${this.concurrencyMax}`);
    assert(Number.isInteger(this.queueDepthMax) && this.queueDepthMax >= 0, `queueDepthMax must be a non-negative integer, got ${this.queueDepthMax}`);
    this.refuseUnreachable = options.refuseUnreachable ?? true;
    this.serviceSamplesMin = options.serviceSamplesMin ?? Math.min(serviceSamplesMax, 2 * this.concurrencyMax);
    assert(this.serviceSamplesMin >= 1 && this.serviceSamplesMin <= serviceSamplesMax, 'serviceSamplesMin must lie between 1 and the samples kept');
    this.waitWindowMs = options.waitWindowMs ?? waitWindowMsDefault;
    this.now = options.now ?? monotonicClock;
    this.scheduler = options.scheduler ?? realScheduler;
  }

  /**
   * Resolves with a ticket once the request holds a slot. Rejects at once with
   * QueueFullError when the queue is full, with DeadlineExceededError when the deadline
   * has passed or cannot be met, and later with DeadlineExceededError or
   * AdmissionAbortedError if the request leaves the queue before it gets a slot.
   */
  admit(request: AdmitRequest): Promise<Ticket> {
    const priority = request.priority ?? 'normal';
    assert(Number.isFinite(request.deadlineMs), `deadlineMs must be a finite time on the queue's clock, got ${request.deadlineMs}`);
    assert(priority === 'normal' || priority === 'low', `priority must be 'normal' or 'low', got ${String(priority)}`);
    const nowMs = this.now();
    if (request.signal?.aborted === true) return this.refuse(new AdmissionAbortedError(0), 'aborted');
    if (nowMs >= request.deadlineMs) return this.refuse(this.deadlineError('expired-on-arrival', 0), 'deadline');
    if (this.inService < this.concurrencyMax) {
      assert(this.depth === 0, 'a free slot with requests still waiting means a release did not dispatch');
      this.admitted += 1;
      return Promise.resolve(this.grant(priority, nowMs, nowMs));
    }
    const full = this.depth >= this.queueDepthMax;
    if (full && (priority === 'low' || this.low.length === 0)) {
      return this.refuse(new QueueFullError(this.queueDepthMax, this.retryAfterMs()), 'queueFull');
    }
    const ahead = priority === 'normal' ? this.normal.length : this.depth;
    if (this.refuseUnreachable && this.serviceTimes.size >= this.serviceSamplesMin && nowMs + this.estimatedWaitMs(ahead) > request.deadlineMs) {
      return this.refuse(this.deadlineError('unreachable', 0), 'deadline');
    }
    // Only a request that will wait displaces anyone: a full queue gives the newest low-priority place to it.
    if (full) this.displaceNewestLow();
    return new Promise<Ticket>((resolve, reject) => this.enqueue(request, priority, nowMs, resolve, reject));
  }

  /** Requests waiting for a slot, both priorities. */
  get depth(): number {
    return this.normal.length + this.low.length;
  }

  stats(): AdmissionStats {
    return {
      depth: this.depth,
      depthNormal: this.normal.length,
      depthLow: this.low.length,
      inService: this.inService,
      concurrencyMax: this.concurrencyMax,
      queueDepthMax: this.queueDepthMax,
      admitted: this.admitted,
      rejected: { ...this.rejected },
      serviceTimeMsMean: this.serviceTimeMs(),
      waitMs: this.waitTimes.percentilesSince(this.now() - this.waitWindowMs),
    };
  }

  /**
   * The Retry-After to suggest to a refused client: the time the slots need to work
   * through everything admitted so far, at the recent service rate.
   */
  retryAfterMs(): number {
    const drainMs = ((this.depth + this.inService) * this.serviceTimeMs()) / this.concurrencyMax;
    return Math.round(Math.min(retryAfterMsMax, Math.max(retryAfterMsMin, drainMs)));
  }

  private enqueue(request: AdmitRequest, priority: Priority, nowMs: number, resolve: (ticket: Ticket) => void, reject: (error: Error) => void): void {
    const waiter: Waiter = {
      priority,
      deadlineMs: request.deadlineMs,
      enqueuedAtMs: nowMs,
      resolve,
      reject,
      cancelAlarm: () => {},
      detachSignal: () => {},
      node: undefined,
    };
    waiter.node = (priority === 'normal' ? this.normal : this.low).pushBack(waiter);
    waiter.cancelAlarm = this.scheduler.setAlarm(request.deadlineMs - nowMs, () => {
      this.drop(waiter, this.deadlineError('expired-in-queue', this.now() - waiter.enqueuedAtMs), 'deadline');
    });
    const signal = request.signal;
    if (signal !== undefined) {
      const onAbort = (): void => this.drop(waiter, new AdmissionAbortedError(this.now() - waiter.enqueuedAtMs), 'aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      waiter.detachSignal = () => signal.removeEventListener('abort', onAbort);
    }
  }

  /** Gives free slots to waiting requests, normal priority first, skipping any whose deadline passed. */
  private dispatch(): void {
    while (this.inService < this.concurrencyMax) {
      const waiter = this.normal.peekFront() ?? this.low.peekFront();
      if (waiter === undefined) return;
      const nowMs = this.now();
      if (nowMs >= waiter.deadlineMs) {
        this.drop(waiter, this.deadlineError('expired-in-queue', nowMs - waiter.enqueuedAtMs), 'deadline');
        continue;
      }
      this.leave(waiter);
      this.admitted += 1;
      waiter.resolve(this.grant(waiter.priority, waiter.enqueuedAtMs, nowMs));
    }
  }

  private grant(priority: Priority, enqueuedAtMs: number, nowMs: number): Ticket {
    this.inService += 1;
    const waitedMs = nowMs - enqueuedAtMs;
    this.waitTimes.add(nowMs, waitedMs);
    let released = false;
    return {
      priority,
      waitedMs,
      startedAtMs: nowMs,
      release: () => {
        // Streams end, fail and get cancelled on different paths that may each release.
        if (released) return;
        released = true;
        this.inService -= 1;
        const releasedAtMs = this.now();
        this.serviceTimes.add(releasedAtMs, releasedAtMs - nowMs);
        this.dispatch();
      },
    };
  }

  /** Takes a waiting request out of the queue and rejects it; does nothing if it already left. */
  private drop(waiter: Waiter, error: Error, reason: RejectionReason): void {
    if (waiter.node === undefined || !waiter.node.linked) return;
    this.leave(waiter);
    this.rejected[reason] += 1;
    waiter.reject(error);
  }

  private leave(waiter: Waiter): void {
    assert(waiter.node !== undefined, 'a waiter is always in a list');
    (waiter.priority === 'normal' ? this.normal : this.low).remove(waiter.node);
    waiter.cancelAlarm();
    waiter.detachSignal();
  }

  /** Makes room for a normal request by refusing the newest low-priority one. */
  private displaceNewestLow(): void {
    const newest = this.low.peekBack();
    assert(newest !== undefined, 'a full queue displaces only when a low-priority request waits');
    this.drop(newest.value, new QueueFullError(this.queueDepthMax, this.retryAfterMs()), 'queueFull');
  }

  private refuse(error: Error, reason: RejectionReason): Promise<never> {
    this.rejected[reason] += 1;
    return Promise.reject(error);
  }

  private deadlineError(reason: DeadlineReason, waitedMs: number): DeadlineExceededError {
    return new DeadlineExceededError(reason, waitedMs, this.retryAfterMs());
  }

  private serviceTimeMs(): number {
    return this.serviceTimes.mean() ?? serviceTimeMsInitial;
  }

  /**
   * When a request with `ahead` requests in front of it may expect a slot: with every
   * slot busy, one frees every serviceTime / concurrencyMax on average, and it needs
   * ahead + 1 of them.
   */
  private estimatedWaitMs(ahead: number): number {
    return ((ahead + 1) * this.serviceTimeMs()) / this.concurrencyMax;
  }
}
