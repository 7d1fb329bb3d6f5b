/**
 * The leaderless simulation under `npm test`: 500 seeds, each a random 5-peer cluster (n=3,
 * r and w from 1..3, sloppy or strict quorum, sometimes a sixth peer joining), clients, and a fault schedule, held to: no
 * acknowledged write lost, convergence after healing within the bound, and read-your-writes
 * where a strict quorum with r + w > n promises it. Then the checkers' own test: broken
 * stores (no repair at all; acknowledgements before fsync) must be caught.
 */
import { describe, expect, it } from 'vitest';
import { runLeaderlessWorkload } from '../../../src/sim/leaderless/workload.js';

const seedCount = 500;

describe('leaderless simulation', () => {
  it(`keeps every promise over ${seedCount} seeds`, () => {
    const failing: string[] = [];
    const totals = { acknowledgedPuts: 0, gets: 0, crashes: 0, partitions: 0, lostTransactions: 0, hintsWritten: 0, readRepairs: 0, exchanges: 0, promisedReads: 0, unpromisedReads: 0, strictRuns: 0, sloppyRuns: 0, weakRuns: 0, membershipChanges: 0, convergenceMsMax: 0 };
    for (let seed = 1; seed <= seedCount; seed++) {
      const report = runLeaderlessWorkload(seed);
      if (report.failures.length > 0) failing.push(`seed ${seed}: ${report.failures.join('; ')}`);
      const { store } = report.settings;
      totals.acknowledgedPuts += report.acknowledgedPuts;
      totals.gets += report.gets;
      totals.crashes += report.crashes;
      totals.partitions += report.partitions;
      totals.lostTransactions += report.lostTransactions;
      totals.hintsWritten += report.hintsWritten;
      totals.readRepairs += report.readRepairs;
      totals.exchanges += report.antiEntropyExchanges;
      if (report.membershipChanged) totals.membershipChanges++;
      totals.convergenceMsMax = Math.max(totals.convergenceMsMax, report.convergenceMs ?? 0);
      if (report.readYourWrites.guaranteed) totals.promisedReads += report.readYourWrites.checked;
      else totals.unpromisedReads += report.readYourWrites.checked;
      if (store.r + store.w <= store.n) totals.weakRuns++;
      else if (store.sloppyQuorum) totals.sloppyRuns++;
      else totals.strictRuns++;
    }
    expect(failing).toEqual([]);
    // The runs must exercise what they claim to: faults, lost unsynced writes, stand-ins, repairs, every quorum shape.
    expect(totals.crashes).toBeGreaterThan(seedCount);
    expect(totals.partitions).toBeGreaterThan(seedCount);
    expect(totals.lostTransactions).toBeGreaterThan(10);
    expect(totals.hintsWritten).toBeGreaterThan(seedCount / 2);
    expect(totals.readRepairs).toBeGreaterThan(seedCount);
    expect(totals.exchanges).toBeGreaterThan(seedCount * 10);
    expect(totals.acknowledgedPuts).toBeGreaterThan(seedCount * 5);
    expect(totals.promisedReads).toBeGreaterThan(seedCount);
    expect(totals.membershipChanges).toBeGreaterThan(seedCount / 10);
    expect(Math.min(totals.strictRuns, totals.sloppyRuns, totals.weakRuns)).toBeGreaterThan(seedCount / 10);
    console.log(`leaderless simulation, ${seedCount} seeds: ${totals.acknowledgedPuts} acknowledged puts, none lost; convergence after healing within ${totals.convergenceMsMax} ms (simulated) at worst; ${totals.promisedReads} reads checked for read-your-writes where promised`);
  }, 120_000);

  it('replays a seed exactly', () => {
    const first = runLeaderlessWorkload(77);
    const second = runLeaderlessWorkload(77);
    expect(second.traceHash).toBe(first.traceHash);
    expect(second).toEqual(first);
    expect(runLeaderlessWorkload(78).traceHash).not.toBe(first.traceHash);
  });

  it('catches a store without read repair, hinted handoff and anti-entropy: replicas never converge', () => {
    let caught = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const report = runLeaderlessWorkload(seed, { noRepair: true });
      if (report.failures.some((failure) => failure.startsWith('no convergence'))) caught++;
    }
    expect(caught).toBeGreaterThan(5);
  });

  it('catches a shell that acknowledges before fsync: acknowledged writes are lost in crashes', () => {
    const faults = { crashMeanGapMs: 60, fsyncTicks: 2 };
    let caught = 0;
    for (let seed = 1; seed <= 150 && caught < 2; seed++) {
      const report = runLeaderlessWorkload(seed, { ...faults, ackBeforePersist: true });
      if (report.lostAcknowledgedWrites > 0 && report.failures.some((failure) => failure.startsWith('acknowledged put'))) caught++;
    }
    expect(caught).toBe(2);
    // The same faults with a correct shell lose nothing.
    for (let seed = 1; seed <= 20; seed++) expect(runLeaderlessWorkload(seed, faults).failures).toEqual([]);
  }, 60_000);
});
