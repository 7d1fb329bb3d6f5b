import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { downPeersMax, exponentialDelayMs, planChaos, type ChaosPlanOptions } from '../../src/chaos/index.js';

const base: ChaosPlanOptions = { seed: 1, peers: 5, durationMs: 600_000, mtbfMs: 30_000, repairMs: 10_000, killsMax: 10_000 };

/** The most peers down at once under a plan, checked at every kill (the only moments the count grows). */
function mostDown(plan: ReturnType<typeof planChaos>): number {
  return Math.max(0, ...plan.kills.map((kill) => plan.kills.filter((other) => other.atMs <= kill.atMs && kill.atMs < other.restartAtMs).length));
}

describe('planChaos', () => {
  it('is the same plan for the same seed, and another for another seed', () => {
    expect(planChaos(base)).toEqual(planChaos(base));
    expect(planChaos({ ...base, seed: 2 }).kills).not.toEqual(planChaos(base).kills);
  });

  it('never leaves a majority down, restarts every kill inside the run, and keeps to --kills-max', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 0, max: 2 ** 31 }),
          peers: fc.integer({ min: 1, max: 9 }),
          durationMs: fc.integer({ min: 0, max: 3_600_000 }),
          mtbfMs: fc.integer({ min: 1_000, max: 120_000 }),
          repairMs: fc.integer({ min: 100, max: 60_000 }),
          killsMax: fc.integer({ min: 0, max: 200 }),
        }),
        (options) => {
          const plan = planChaos(options);
          expect(plan.downPeersMax).toBe(Math.floor((options.peers - 1) / 2));
          expect(mostDown(plan)).toBeLessThanOrEqual(plan.downPeersMax);
          expect(plan.kills.length).toBeLessThanOrEqual(options.killsMax);
          for (const kill of plan.kills) {
            expect(kill.restartAtMs).toBe(kill.atMs + options.repairMs);
            expect(kill.restartAtMs).toBeLessThanOrEqual(options.durationMs + 1);
            expect(kill.peer).toBeGreaterThanOrEqual(0);
            expect(kill.peer).toBeLessThan(options.peers);
            // A peer is never killed while it is down.
            expect(plan.kills.some((other) => other !== kill && other.peer === kill.peer && other.atMs <= kill.atMs && kill.atMs < other.restartAtMs)).toBe(false);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('plans no kill at all when a minority is no peer (one or two peers), and says why', () => {
    for (const peers of [1, 2]) {
      const plan = planChaos({ ...base, peers });
      expect(plan.kills).toEqual([]);
      expect(plan.skipped.length).toBeGreaterThan(0);
      expect(plan.skipped[0].reason).toMatch(/no kill leaves a majority up/);
    }
  });

  it('skips a kill that would take a second of three peers down, with the reason', () => {
    const plan = planChaos({ ...base, peers: 3, mtbfMs: 2_000, repairMs: 10_000, durationMs: 120_000 });
    expect(plan.skipped.length).toBeGreaterThan(0);
    expect(plan.skipped[0].reason).toMatch(/1 of 3 peers are down already/);
    expect(mostDown(plan)).toBe(1);
  });

  it('draws kill gaps with the configured mean, picking every peer about equally', () => {
    const plan = planChaos({ ...base, peers: 9, durationMs: 40_000_000, mtbfMs: 10_000, repairMs: 100 });
    const gaps = plan.kills.slice(1).map((kill, index) => kill.atMs - plan.kills[index].atMs);
    const mean = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
    // About 4,000 gaps: the standard error of the mean is 10 s / sqrt(4000), about 0.16 s.
    expect(mean).toBeGreaterThan(9_500);
    expect(mean).toBeLessThan(10_500);
    const perPeer = Array.from({ length: 9 }, (_, peer) => plan.kills.filter((kill) => kill.peer === peer).length);
    for (const count of perPeer) expect(count / plan.kills.length).toBeCloseTo(1 / 9, 1);
  });
});

describe('exponentialDelayMs', () => {
  it('has the mean it is given and the exponential variance (mean squared)', () => {
    const rng = new Rng(7);
    const draws = Array.from({ length: 50_000 }, () => exponentialDelayMs(rng, 30_000));
    const mean = draws.reduce((sum, draw) => sum + draw, 0) / draws.length;
    const variance = draws.reduce((sum, draw) => sum + (draw - mean) ** 2, 0) / draws.length;
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(mean / 30_000).toBeGreaterThan(0.98);
    expect(mean / 30_000).toBeLessThan(1.02);
    expect(Math.sqrt(variance) / 30_000).toBeGreaterThan(0.95);
    expect(Math.sqrt(variance) / 30_000).toBeLessThan(1.05);
  });
});

describe('downPeersMax', () => {
  it('is the largest minority', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 9].map(downPeersMax)).toEqual([0, 0, 1, 1, 2, 2, 3, 4]);
  });
});
