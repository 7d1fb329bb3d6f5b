/**
 * web/src/poller.ts: the dashboard's polling runs every interval, never two runs at once,
 * runs at once on refreshNow (or right after the run in progress), and goes on after a
 * failed run.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Poller } from '../../web/src/poller.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('Poller', () => {
  it('runs now and then every interval, and never two runs at once', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const poller = new Poller(2_000, async () => {
      running++;
      most = Math.max(most, running);
      runs++;
      await new Promise((done) => setTimeout(done, 500));
      running--;
    });
    poller.start();
    poller.refreshNow();
    poller.refreshNow();
    await vi.advanceTimersByTimeAsync(499);
    expect(runs).toBe(1);
    // The refreshes asked during the first run make one more run right after it, not two.
    await vi.advanceTimersByTimeAsync(2);
    expect(runs).toBe(2);
    // The second run began at about 500 ms and ended at about 1000 ms: the next is due an interval later, not before.
    await vi.advanceTimersByTimeAsync(2_490);
    expect(runs).toBe(2);
    await vi.advanceTimersByTimeAsync(20);
    expect(runs).toBe(3);
    expect(most).toBe(1);
  });

  it('runs at once on refreshNow between runs, and keeps polling after a run that throws', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let runs = 0;
    const poller = new Poller(2_000, async () => {
      runs++;
      if (runs === 1) throw new Error('the peer is down');
    });
    poller.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(runs).toBe(1);
    expect(errors).toHaveBeenCalledTimes(1);
    poller.refreshNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(runs).toBe(3);
    errors.mockRestore();
  });
});
