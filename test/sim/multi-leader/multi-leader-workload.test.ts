/**
 * The multi-leader simulation under `npm test`: 500 seeds, each a random cluster of 3 to 5
 * peers, settings and fault schedule, held to no lost acknowledged write, convergence within
 * a bound after healing, read-your-writes (same peer and session token), and liveness after
 * healing. Each deliberate bug a mutation switches on must be caught. `npm run
 * sim:multileader` runs many more seeds.
 */
import { describe, expect, it } from 'vitest';
import { MultiLeaderNode, type MultiLeaderReady } from '../../../src/replication/multi-leader/index.js';
import { runMultiLeaderWorkload, type MultiLeaderMutation } from '../../../src/sim/multi-leader/index.js';

/**
 * A broken core: it hands over the keys that received changes touched one Ready late, while the
 * applied cursor (and so the acks) go out at once. A crash in between leaves a cursor that
 * claims changes the disk does not hold, and nobody ships them again.
 */
class CursorBeforeStateNode extends MultiLeaderNode {
  private held: MultiLeaderReady['keysToPersist'] = [];

  override ready(): MultiLeaderReady {
    const ready = super.ready();
    const own = new Set(ready.logToAppend.map((entry) => entry.key));
    const now = ready.keysToPersist.filter((item) => own.has(item.key));
    const late = ready.keysToPersist.filter((item) => !own.has(item.key));
    const keysToPersist = [...this.held, ...now];
    this.held = late;
    return { ...ready, keysToPersist };
  }

  override hasReady(): boolean {
    return super.hasReady() || this.held.length > 0;
  }
}

const seedCount = 500;

describe('multi-leader simulation', () => {
  it(`keeps every promise over ${seedCount} seeds`, () => {
    const failing: string[] = [];
    const totals = { acknowledged: 0, appends: 0, crashes: 0, partitions: 0, lostTransactions: 0, samePeerReads: 0, sessionReads: 0, unavailable: 0, convergenceMsMax: 0 };
    for (let seed = 1; seed <= seedCount; seed++) {
      const report = runMultiLeaderWorkload(seed);
      if (report.failures.length > 0) failing.push(`seed ${seed}: ${report.failures.join('; ')}`);
      totals.acknowledged += report.acknowledgedPuts + report.acknowledgedAppends;
      totals.appends += report.acknowledgedAppends;
      totals.crashes += report.crashes;
      totals.partitions += report.partitions;
      totals.lostTransactions += report.lostUnsyncedTransactions;
      totals.samePeerReads += report.samePeerReads;
      totals.sessionReads += report.sessionReads - report.sessionReadsTimedOut;
      totals.unavailable += report.refusals.KV_UNAVAILABLE ?? 0;
      totals.convergenceMsMax = Math.max(totals.convergenceMsMax, report.convergenceMs);
    }
    expect(failing).toEqual([]);
    // The runs must exercise what they claim to: faults, lost unsynced transactions, full logs, reads of both kinds.
    expect(totals.crashes).toBeGreaterThan(seedCount);
    expect(totals.partitions).toBeGreaterThan(seedCount);
    expect(totals.lostTransactions).toBeGreaterThan(seedCount / 4);
    expect(totals.unavailable).toBeGreaterThan(0);
    expect(totals.acknowledged).toBeGreaterThan(seedCount * 50);
    expect(totals.appends).toBeGreaterThan(seedCount * 10);
    expect(totals.samePeerReads).toBeGreaterThan(seedCount * 5);
    expect(totals.sessionReads).toBeGreaterThan(seedCount * 5);
    console.log(`multi-leader: ${seedCount} seeds, ${totals.acknowledged} acknowledged writes, ${totals.crashes} crashes, ${totals.partitions} partitions; slowest convergence after the clients stopped: ${totals.convergenceMsMax} simulated ms`);
  }, 120_000);

  it('replays a seed exactly', () => {
    const first = runMultiLeaderWorkload(42);
    const second = runMultiLeaderWorkload(42);
    expect(second.traceHash).toBe(first.traceHash);
    expect(second).toEqual(first);
    expect(runMultiLeaderWorkload(43).traceHash).not.toBe(first.traceHash);
  });

  it('catches a broken core that persists its cursor before the state it covers', () => {
    let caught = 0;
    for (let seed = 1; seed <= 60 && caught < 3; seed++) {
      const report = runMultiLeaderWorkload(seed, {}, { makeNode: (options) => new CursorBeforeStateNode(options) });
      if (report.failures.some((failure) => failure.startsWith('lost') || failure.startsWith('convergence'))) caught++;
    }
    expect(caught).toBe(3);
  });

  const mutations: Array<[MultiLeaderMutation, string]> = [
    ['ackBeforeFsync', 'lost'],
    ['loseKeysOnRestart', 'lost'],
    ['sessionReadsIgnoreToken', 'read-your-writes'],
  ];
  for (const [mutation, checker] of mutations) {
    it(`catches a broken shell (${mutation}) with the ${checker} checker`, () => {
      let caught = 0;
      for (let seed = 1; seed <= 30 && caught < 3; seed++) {
        if (runMultiLeaderWorkload(seed, { mutation }).failures.some((failure) => failure.startsWith(checker))) caught++;
      }
      expect(caught).toBe(3);
    });
  }
});
