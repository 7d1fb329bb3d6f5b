import { describe, expect, it } from 'vitest';
import { runDhtWorkload, type DhtWorkloadOptions } from '../../../src/sim/workloads/dht.js';

/** The workload at small size: 300 peers, 300 lookups, ten simulated minutes of 1%-per-minute churn. */
const small: DhtWorkloadOptions = {
  seed: 20_240_601,
  peers: 300,
  bootstrapPeers: 3,
  joinIntervalMs: 50,
  lookups: 300,
  lookupIntervalMs: 10,
  providerKeys: 30,
  providersPerKey: 3,
  churnDurationMs: 10 * 60_000,
  churnFractionPerMinute: 0.01,
  churnLookupIntervalMs: 2_000,
  churnProviderQueryIntervalMs: 2_000,
  settleMs: 30_000,
};

describe('DHT workload in the simulator', () => {
  it('meets the issue\'s thresholds at small size: joins, lookups, churn', () => {
    const lines: string[] = [];
    const report = runDhtWorkload({ ...small, log: (line) => lines.push(line) });
    expect(lines[0]).toMatch(/seed 20240601/);
    expect(report.joined.peers).toBe(300);
    expect(report.lookups.count).toBe(300);
    expect(report.lookups.successRate).toBeGreaterThanOrEqual(0.999);
    expect(report.lookups.hops.median).toBeLessThanOrEqual(4);
    expect(report.lookups.hops.p99).toBeLessThanOrEqual(7);
    expect(report.churn.replacedPeers).toBe(30);
    expect(report.churn.lookups.count).toBeGreaterThanOrEqual(290);
    expect(report.churn.lookups.successRate).toBeGreaterThanOrEqual(0.99);
    expect(report.churn.providerQueries.count).toBeGreaterThanOrEqual(290);
    expect(report.churn.providerQueries.successRate).toBeGreaterThanOrEqual(0.99);
    expect(report.passed).toBe(true);
    // The far buckets are full after joining (each holds k = 20 of the 150 or 75 peers in its range).
    expect(report.joined.routingTables.meanBucketFill[0]).toBe(20);
    expect(report.joined.routingTables.meanBucketFill[1]).toBe(20);
    expect(report.simulation.messagesByType.findNode).toBeGreaterThan(0);
  });

  it('replays exactly from its seed, and a different seed gives a different run', () => {
    const tiny: DhtWorkloadOptions = { ...small, peers: 60, lookups: 40, providerKeys: 5, churnDurationMs: 3 * 60_000, churnFractionPerMinute: 0.05 };
    const first = runDhtWorkload(tiny);
    const second = runDhtWorkload(tiny);
    expect(second.simulation.traceHash).toBe(first.simulation.traceHash);
    expect(second).toEqual(first);
    const other = runDhtWorkload({ ...tiny, seed: tiny.seed + 1 });
    expect(other.simulation.traceHash).not.toBe(first.simulation.traceHash);
  });

  it('refuses settings it cannot run', () => {
    expect(() => runDhtWorkload({ ...small, peers: 3 })).toThrow(/at least one bootstrap peer and one more/);
    expect(() => runDhtWorkload({ ...small, peers: 5, providersPerKey: 3 })).toThrow(/providersPerKey/);
  });
});
