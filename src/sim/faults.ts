/**
 * Random faults from the seed: partitions that come and go, and peers that crash and come
 * back. Faults arrive as Poisson processes (exponential gaps with the given mean), so a long
 * run sees them overlap and cluster the way real outages do, and the same seed brings the
 * same faults at the same instants.
 */
import { assert } from '../core/assert.js';
import type { Rng } from '../core/rng.js';
import type { Simulation } from './simulation.js';

export interface FaultPlan {
  /** Simulated window in which faults start, in milliseconds; every fault is over by `untilMs` plus its duration. */
  fromMs: number;
  untilMs: number;
  /** Mean gap between two partitions, in milliseconds (0 = none). */
  partitionMeanGapMs: number;
  /** How long a partition lasts, uniformly in [min, max] milliseconds. */
  partitionDurationMsMin: number;
  partitionDurationMsMax: number;
  /** Mean gap between two crashes, in milliseconds (0 = none). */
  crashMeanGapMs: number;
  /** How long a crashed peer stays down, uniformly in [min, max] milliseconds. */
  downtimeMsMin: number;
  downtimeMsMax: number;
}

/** What the plan did, for a test or report to check. */
export interface FaultLog {
  partitions: number;
  crashes: number;
}

function exponential(rng: Rng, meanMs: number): number {
  return -meanMs * Math.log(1 - rng.nextFloat());
}

function uniform(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng.nextFloat() * (max - min + 1));
}

/**
 * Schedules the plan's faults on `sim`. `addresses` is asked, when each fault starts, for
 * the peers it may hit (so peers added later can be hit too). A partition splits those
 * peers in two random groups; while one partition is in force the next waits for it to heal.
 */
export function scheduleFaults<Message>(sim: Simulation<Message>, addresses: () => readonly string[], plan: FaultPlan, rng: Rng): FaultLog {
  assert(plan.fromMs <= plan.untilMs, 'fault plan: fromMs must not be after untilMs');
  assert(plan.partitionDurationMsMin <= plan.partitionDurationMsMax && plan.downtimeMsMin <= plan.downtimeMsMax, 'fault plan: each minimum must not exceed its maximum');
  const log: FaultLog = { partitions: 0, crashes: 0 };
  if (plan.partitionMeanGapMs > 0) {
    const nextPartition = (atMs: number) => {
      if (atMs > plan.untilMs) return;
      sim.at(atMs, () => {
        const candidates = [...addresses()];
        if (candidates.length >= 2) {
          rng.shuffle(candidates);
          const cut = 1 + rng.nextInt(candidates.length - 1);
          sim.partition([candidates.slice(0, cut), candidates.slice(cut)]);
          log.partitions++;
          const durationMs = uniform(rng, plan.partitionDurationMsMin, plan.partitionDurationMsMax);
          sim.after(durationMs, () => {
            sim.heal();
            nextPartition(sim.now + exponential(rng, plan.partitionMeanGapMs));
          });
        } else {
          nextPartition(sim.now + exponential(rng, plan.partitionMeanGapMs));
        }
      });
    };
    nextPartition(plan.fromMs + exponential(rng, plan.partitionMeanGapMs));
  }
  if (plan.crashMeanGapMs > 0) {
    const nextCrash = (atMs: number) => {
      if (atMs > plan.untilMs) return;
      sim.at(atMs, () => {
        const up = addresses().filter((address) => sim.isUp(address));
        if (up.length > 0) {
          const victim = up[rng.nextInt(up.length)];
          sim.crash(victim);
          log.crashes++;
          sim.after(uniform(rng, plan.downtimeMsMin, plan.downtimeMsMax), () => sim.restart(victim));
        }
        nextCrash(sim.now + exponential(rng, plan.crashMeanGapMs));
      });
    };
    nextCrash(plan.fromMs + exponential(rng, plan.crashMeanGapMs));
  }
  return log;
}
