/**
 * The overload scenario of issue 7, simulated: ten times more requests than the
 * gateway can serve, for one simulated minute. Accepted requests must finish within
 * their deadlines, the rest must be refused (almost always at once), the queue must
 * never grow past its bound, and the slots must not sit idle while work is refused.
 */
import { describe, expect, it } from 'vitest';
import { AdmissionQueue, type Priority } from '../../src/resilience/admission-queue.js';
import { DeadlineExceededError, QueueFullError } from '../../src/resilience/errors.js';
import { Rng } from '../../src/core/rng.js';
import { ManualClock } from './manual-clock.js';

const concurrencyMax = 4;
const serviceMs = 100;
const requestBudgetMs = 1_000;
// Deeper than the deadline allows (64 waiting = 1.6 s of work), so deadlines, not the bound alone, keep answers on time.
const queueDepthMax = 64;
const simulatedMs = 60_000;
/** Slots x (1 / service time): 40 requests per second. */
const capacityPerSecond = (concurrencyMax * 1_000) / serviceMs;
const offeredPerSecond = 10 * capacityPerSecond;

interface Outcome {
  arrivedAtMs: number;
  endedAtMs?: number;
  refusedAtMs?: number;
  refusal?: string;
}

describe('overload at 10x capacity over a simulated minute', () => {
  it('serves what fits within deadlines, refuses the rest at once, and stays bounded', async () => {
    const clock = new ManualClock(0);
    const admission = new AdmissionQueue({ concurrencyMax, queueDepthMax, now: clock.now, scheduler: clock });
    const rng = new Rng(7);
    const outcomes: Outcome[] = [];
    let depthMax = 0;
    let alarmsMax = 0;
    let busySlotMs = 0;
    let inService = 0;
    const arrivalGapMs = 1_000 / offeredPerSecond;
    let nextArrivalMs = 0;

    for (let stepMs = 0; stepMs < simulatedMs; stepMs += 1) {
      clock.advanceTo(stepMs);
      while (nextArrivalMs <= stepMs) {
        const outcome: Outcome = { arrivedAtMs: clock.now() };
        outcomes.push(outcome);
        const priority: Priority = rng.nextFloat() < 0.2 ? 'low' : 'normal';
        // The queue gets the latest start that still finishes within the budget.
        const deadlineMs = outcome.arrivedAtMs + requestBudgetMs - serviceMs;
        admission.admit({ deadlineMs, priority }).then(
          (ticket) => {
            inService += 1;
            clock.setAlarm(ticket.startedAtMs + serviceMs - clock.now(), () => {
              outcome.endedAtMs = clock.now();
              inService -= 1;
              ticket.release();
            });
          },
          (error: unknown) => {
            outcome.refusedAtMs = clock.now();
            outcome.refusal = error instanceof QueueFullError ? 'full' : (error as DeadlineExceededError).reason;
          },
        );
        nextArrivalMs += arrivalGapMs;
      }
      // Let the admissions' callbacks run before time moves on.
      for (let index = 0; index < 4; index += 1) await Promise.resolve();
      depthMax = Math.max(depthMax, admission.depth);
      alarmsMax = Math.max(alarmsMax, clock.pendingAlarms);
      busySlotMs += inService;
    }

    const finished = outcomes.filter((outcome) => outcome.endedAtMs !== undefined);
    const refused = outcomes.filter((outcome) => outcome.refusedAtMs !== undefined);
    expect(outcomes.length).toBe(Math.ceil((simulatedMs * offeredPerSecond) / 1_000));
    // Every finished request met its deadline.
    for (const outcome of finished) expect(outcome.endedAtMs! - outcome.arrivedAtMs).toBeLessThanOrEqual(requestBudgetMs);
    // Nearly everything offered beyond capacity was refused, and refused at once.
    const refusedAtOnce = refused.filter((outcome) => outcome.refusedAtMs! - outcome.arrivedAtMs <= 50);
    expect(refusedAtOnce.length / refused.length).toBeGreaterThanOrEqual(0.99);
    for (const outcome of refused) expect(outcome.refusedAtMs! - outcome.arrivedAtMs).toBeLessThanOrEqual(requestBudgetMs - serviceMs);
    // The slots stayed busy: at least 95% of a minute of capacity was served.
    expect(finished.length).toBeGreaterThanOrEqual(0.95 * capacityPerSecond * (simulatedMs / 1_000) - concurrencyMax);
    expect(busySlotMs / (simulatedMs * concurrencyMax)).toBeGreaterThan(0.95);
    // Memory stayed bounded: never more waiting requests (or their alarms) than the queue allows.
    expect(depthMax).toBeLessThanOrEqual(queueDepthMax);
    expect(alarmsMax).toBeLessThanOrEqual(queueDepthMax + concurrencyMax);
    console.log(`overload: offered ${outcomes.length}, finished ${finished.length}, refused ${refused.length} (${refusedAtOnce.length} within 50 ms), slots busy ${(100 * busySlotMs / (simulatedMs * concurrencyMax)).toFixed(1)}%, depth max ${depthMax}`);
    // Everything offered has an outcome or is still in flight at the end of the minute.
    const stats = admission.stats();
    expect(finished.length + refused.length + stats.depth + stats.inService).toBe(outcomes.length);
  });
});
