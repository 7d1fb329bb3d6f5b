/**
 * The thread policy on scripted timings: threads that beat the calling thread alone stay
 * in use (with a solo probe now and then); threads that lose are set aside for a while,
 * then tried again.
 */
import { describe, expect, it } from 'vitest';
import { ThreadPolicy, soloBackoffJobs, soloProbeEveryJobs, threadSpeedupMin } from '../../../src/model/parallel/thread-policy.js';

/** Runs `jobs` jobs of 1e6 multiply-adds that take `soloMs` alone and `threadedMs` on the threads; returns how many used the threads. */
function simulate(policy: ThreadPolicy, jobs: number, soloMs: number, threadedMs: number): number {
  let threaded = 0;
  for (let job = 0; job < jobs; job++) {
    const useThreads = policy.useThreads();
    if (useThreads) threaded++;
    policy.record(useThreads, 1e6, useThreads ? threadedMs : soloMs);
  }
  return threaded;
}

describe('thread policy', () => {
  it('keeps threads that pay, probing the calling thread alone every soloProbeEveryJobs jobs', () => {
    const policy = new ThreadPolicy();
    const jobs = 10 * soloProbeEveryJobs;
    expect(simulate(policy, jobs, 1, 0.6)).toBe(jobs - jobs / soloProbeEveryJobs);
    expect(policy.solo).toBe(false);
  });

  it('sets threads aside when they are not threadSpeedupMin times faster, and tries them again after the backoff', () => {
    const policy = new ThreadPolicy();
    const threadedMs = 1 / (threadSpeedupMin * 0.95);
    const threadedEarly = simulate(policy, 4 * soloProbeEveryJobs, 1, threadedMs);
    expect(policy.solo).toBe(true);
    expect(threadedEarly).toBeLessThan(4 * soloProbeEveryJobs);
    // During the backoff no job goes to the threads.
    expect(simulate(policy, soloBackoffJobs / 2, 1, threadedMs)).toBe(0);
    // After it, they are tried again, and set aside again while they still lose.
    const later = simulate(policy, soloBackoffJobs, 1, threadedMs);
    expect(later).toBeGreaterThan(0);
    expect(later).toBeLessThan(3 * soloProbeEveryJobs);
  });

  it('ignores jobs too short to time', () => {
    const policy = new ThreadPolicy();
    for (let job = 0; job < 100; job++) policy.record(policy.useThreads(), 1e6, 0);
    expect(policy.solo).toBe(false);
  });
});
