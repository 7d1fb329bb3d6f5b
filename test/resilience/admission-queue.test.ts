import { describe, expect, it } from 'vitest';
import { AdmissionQueue, type Ticket } from '../../src/resilience/admission-queue.js';
import { AdmissionAbortedError, DeadlineExceededError, QueueFullError } from '../../src/resilience/errors.js';
import type { Scheduler } from '../../src/resilience/clock.js';
import { ManualClock } from './manual-clock.js';

/** Lets pending promise callbacks run, so that settled admissions are observed. */
async function settle(): Promise<void> {
  for (let index = 0; index < 5; index += 1) await Promise.resolve();
}

/** Records how an admission ended without leaving a rejection unhandled. */
function track(promise: Promise<Ticket>): { ticket?: Ticket; error?: unknown } {
  const outcome: { ticket?: Ticket; error?: unknown } = {};
  promise.then(
    (ticket) => {
      outcome.ticket = ticket;
    },
    (error: unknown) => {
      outcome.error = error;
    },
  );
  return outcome;
}

function queue(clock: ManualClock, concurrencyMax: number, queueDepthMax: number, scheduler: Scheduler = clock): AdmissionQueue {
  return new AdmissionQueue({ concurrencyMax, queueDepthMax, now: clock.now, scheduler });
}

describe('AdmissionQueue', () => {
  it('gives free slots at once and queues the rest', async () => {
    const clock = new ManualClock();
    const admission = queue(clock, 2, 4);
    const deadlineMs = clock.now() + 10_000;
    const first = await admission.admit({ deadlineMs });
    const second = await admission.admit({ deadlineMs });
    const third = track(admission.admit({ deadlineMs }));
    await settle();
    expect([first.waitedMs, second.waitedMs]).toEqual([0, 0]);
    expect(third.ticket).toBeUndefined();
    expect(admission.stats()).toMatchObject({ depth: 1, inService: 2, admitted: 2 });
    clock.advance(300);
    first.release();
    await settle();
    expect(third.ticket?.waitedMs).toBe(300);
    expect(admission.stats()).toMatchObject({ depth: 0, inService: 2, admitted: 3 });
  });

  it('refuses at once with QueueFullError when the queue is full (measured under 50 ms)', async () => {
    const clock = new ManualClock();
    const admission = queue(clock, 1, 2);
    const deadlineMs = clock.now() + 60_000;
    await admission.admit({ deadlineMs });
    track(admission.admit({ deadlineMs }));
    track(admission.admit({ deadlineMs }));
    const startedMs = performance.now();
    const error = await admission.admit({ deadlineMs }).catch((caught: unknown) => caught);
    const elapsedMs = performance.now() - startedMs;
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as QueueFullError).code).toBe('QUEUE_FULL');
    // Three requests ahead at the initial 1 s service estimate: 3 s to drain.
    expect((error as QueueFullError).retryAfterMs).toBe(3_000);
    expect(elapsedMs).toBeLessThan(50);
    expect(admission.stats().rejected).toEqual({ queueFull: 1, deadline: 0, aborted: 0 });
  });

  it('drops a waiting request at its deadline, before it ever gets a slot', async () => {
    const clock = new ManualClock();
    const admission = queue(clock, 1, 4);
    const holder = await admission.admit({ deadlineMs: clock.now() + 60_000 });
    const late = track(admission.admit({ deadlineMs: clock.now() + 100 }));
    clock.advance(99);
    await settle();
    expect(late.error).toBeUndefined();
    clock.advance(1);
    await settle();
    expect(late.error).toBeInstanceOf(DeadlineExceededError);
    expect((late.error as DeadlineExceededError).reason).toBe('expired-in-queue');
    expect((late.error as DeadlineExceededError).waitedMs).toBe(100);
    holder.release();
    await settle();
    expect(late.ticket).toBeUndefined();
    expect(admission.stats()).toMatchObject({ depth: 0, inService: 0, admitted: 1, rejected: { deadline: 1 } });
  });

  it('never grants a slot to an expired request even when its alarm is late', async () => {
    const clock = new ManualClock();
    const silent: Scheduler = { setAlarm: () => () => {} }; // alarms that never fire
    const admission = queue(clock, 1, 4, silent);
    const holder = await admission.admit({ deadlineMs: clock.now() + 60_000 });
    const late = track(admission.admit({ deadlineMs: clock.now() + 100 }));
    const onTime = track(admission.admit({ deadlineMs: clock.now() + 10_000 }));
    clock.advance(500);
    holder.release();
    await settle();
    expect(late.ticket).toBeUndefined();
    expect(late.error).toBeInstanceOf(DeadlineExceededError);
    expect(onTime.ticket?.waitedMs).toBe(500);
  });

  it('refuses a request whose deadline has already passed', async () => {
    const clock = new ManualClock();
    const admission = queue(clock, 1, 4);
    const error = await admission.admit({ deadlineMs: clock.now() }).catch((caught: unknown) => caught);
    expect((error as DeadlineExceededError).reason).toBe('expired-on-arrival');
  });

  it('removes a waiting request when its signal aborts, and refuses one aborted already', async () => {
    const clock = new ManualClock();
    const admission = queue(clock, 1, 4);
    const holder = await admission.admit({ deadlineMs: clock.now() + 60_000 });
    const controller = new AbortController();
    const waiting = track(admission.admit({ deadlineMs: clock.now() + 60_000, signal: controller.signal }));
    const next = track(admission.admit({ deadlineMs: clock.now() + 60_000 }));
    clock.advance(40);
    controller.abort();
    await settle();
    expect(waiting.error).toBeInstanceOf(AdmissionAbortedError);
    expect((waiting.error as AdmissionAbortedError).waitedMs).toBe(40);
    expect(admission.stats().depth).toBe(1);
    holder.release();
    await settle();
    expect(next.ticket).toBeDefined();
    const already = await admission.admit({ deadlineMs: clock.now() + 1_000, signal: AbortSignal.abort() }).catch((caught: unknown) => caught);
    expect(already).toBeInstanceOf(AdmissionAbortedError);
    expect(admission.stats().rejected.aborted).toBe(2);
    expect(clock.pendingAlarms).toBe(0);
  });

  it('serves each priority in arrival order, normal before low', async () => {
    const clock = new ManualClock();
    const admission = queue(clock, 1, 10);
    const deadlineMs = clock.now() + 60_000;
    let ticket = await admission.admit({ deadlineMs });
    const order: string[] = [];
    const names = ['low-1', 'normal-1', 'low-2', 'normal-2', 'normal-3'];
    const pending = names.map((name) =>
      admission.admit({ deadlineMs, priority: name.startsWith('low') ? 'low' : 'normal' }).then((granted) => {
        order.push(name);
        return granted;
      }),
    );
    for (let index = 0; index < names.length; index += 1) {
      ticket.release();
      await settle();
      ticket = await pending[names.indexOf(order[order.length - 1])];
    }
    expect(order).toEqual(['normal-1', 'normal-2', 'normal-3', 'low-1', 'low-2']);
  });

  it('lets a normal request take the place of the newest low one when full', async () => {
    const clock = new ManualClock();
    const admission = queue(clock, 1, 2);
    const deadlineMs = clock.now() + 60_000;
    await admission.admit({ deadlineMs });
    const lowOld = track(admission.admit({ deadlineMs, priority: 'low' }));
    const lowNew = track(admission.admit({ deadlineMs, priority: 'low' }));
    const normal = track(admission.admit({ deadlineMs, priority: 'normal' }));
    await settle();
    expect(lowNew.error).toBeInstanceOf(QueueFullError);
    expect(lowOld.error).toBeUndefined();
    expect(normal.error).toBeUndefined();
    expect(admission.stats()).toMatchObject({ depthNormal: 1, depthLow: 1 });
    // A second low request finds the queue full and no one it may displace.
    const another = await admission.admit({ deadlineMs, priority: 'low' }).catch((caught: unknown) => caught);
    expect(another).toBeInstanceOf(QueueFullError);
  });

  it('does not displace a low-priority request for a normal one that is refused anyway', async () => {
    const clock = new ManualClock();
    const admission = new AdmissionQueue({ concurrencyMax: 1, queueDepthMax: 1, now: clock.now, scheduler: clock, serviceSamplesMin: 1 });
    const first = await admission.admit({ deadlineMs: clock.now() + 60_000 });
    clock.advance(1_000);
    first.release(); // one service sample: 1 s per request
    await admission.admit({ deadlineMs: clock.now() + 60_000 });
    const low = track(admission.admit({ deadlineMs: clock.now() + 60_000, priority: 'low' }));
    const hurried = await admission.admit({ deadlineMs: clock.now() + 500 }).catch((caught: unknown) => caught);
    await settle();
    expect((hurried as DeadlineExceededError).reason).toBe('unreachable');
    expect(low.error).toBeUndefined();
    expect(admission.stats().depthLow).toBe(1);
  });

  it('refuses at once a request that could not start before its deadline, once it knows the service rate', async () => {
    const clock = new ManualClock();
    const admission = new AdmissionQueue({ concurrencyMax: 2, queueDepthMax: 100, now: clock.now, scheduler: clock, serviceSamplesMin: 2 });
    const far = clock.now() + 60_000;
    for (let round = 0; round < 2; round += 1) {
      const [first, second] = [await admission.admit({ deadlineMs: far }), await admission.admit({ deadlineMs: far })];
      clock.advance(200);
      first.release();
      second.release();
    }
    // Both slots busy; 200 ms per request on 2 slots: a slot frees every 100 ms on average.
    const held = [await admission.admit({ deadlineMs: far }), await admission.admit({ deadlineMs: far })];
    for (let index = 0; index < 4; index += 1) track(admission.admit({ deadlineMs: far }));
    // Fifth in line: expected to start in about 500 ms.
    const hopeless = await admission.admit({ deadlineMs: clock.now() + 400 }).catch((caught: unknown) => caught);
    expect((hopeless as DeadlineExceededError).reason).toBe('unreachable');
    const feasible = track(admission.admit({ deadlineMs: clock.now() + 600 }));
    await settle();
    expect(feasible.error).toBeUndefined();
    expect(held).toHaveLength(2);
    expect(admission.stats().serviceTimeMsMean).toBe(200);
  });

  it('reports wait-time percentiles over its window, and a second release changes nothing', async () => {
    const clock = new ManualClock();
    const admission = new AdmissionQueue({ concurrencyMax: 1, queueDepthMax: 200, now: clock.now, scheduler: clock, waitWindowMs: 60_000, refuseUnreachable: false });
    const far = clock.now() + 3_600_000;
    let ticket = await admission.admit({ deadlineMs: far });
    const waiting = Array.from({ length: 100 }, () => admission.admit({ deadlineMs: far }));
    for (const next of waiting) {
      clock.advance(10);
      ticket.release();
      ticket.release();
      ticket = await next;
    }
    // Request i waited 10 * i ms (i = 1..100); the first waited 0.
    expect(admission.stats().waitMs).toEqual({ count: 101, p50: 500, p90: 900, p99: 990, max: 1_000 });
    expect(admission.stats().inService).toBe(1);
    clock.advance(61_000);
    expect(admission.stats().waitMs.count).toBe(0);
  });
});
