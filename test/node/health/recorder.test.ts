import { describe, expect, it } from 'vitest';
import { HealthRecorder, HealthSettingsError, healthStoreFor, readHealthEvents } from '../../../src/node/health/index.js';
import { availabilityReport, type HealthEvent } from '../../../src/availability/index.js';
import { memoryLogger } from '../../net/helpers.js';
import { fakeRaftStore } from './fake-stores.js';

function setup(options: { bufferEventsMax?: number; services?: Array<'gateway' | 'compute' | 'storage'> } = {}) {
  const backend = fakeRaftStore();
  const store = healthStoreFor(backend);
  const clock = { ms: 1_000_000 };
  const logger = memoryLogger();
  const recorder = new HealthRecorder({ nodeId: 'alpha', store, now: () => clock.ms, logger, flushIntervalMs: 3_600_000, ...options });
  return { backend, store, clock, logger, recorder };
}

const down = (atMs: number): HealthEvent => ({ kind: 'peer', atMs, observer: 'alpha', subject: 'beta', state: 'down' });

describe('HealthRecorder', () => {
  it('records its own start with its services, flushes events to the store, and its stop as downtime', async () => {
    const { store, clock, recorder } = setup({ services: ['gateway', 'storage'] });
    recorder.record(down(1_000_500));
    await recorder.flush();
    expect(recorder.stats()).toEqual({ buffered: 0, dropped: 0, flushed: 4, lastFlushError: undefined });
    clock.ms = 1_010_000;
    await recorder.stop();
    const { events } = await readHealthEvents(store, { sinceMs: 0 });
    expect(events).toEqual([
      { kind: 'peer', atMs: 1_000_000, observer: 'alpha', subject: 'alpha', state: 'up' },
      { kind: 'service', atMs: 1_000_000, peer: 'alpha', service: 'gateway', state: 'up' },
      { kind: 'service', atMs: 1_000_000, peer: 'alpha', service: 'storage', state: 'up' },
      down(1_000_500),
      { kind: 'peer', atMs: 1_010_000, observer: 'alpha', subject: 'alpha', state: 'down' },
      { kind: 'service', atMs: 1_010_000, peer: 'alpha', service: 'gateway', state: 'down' },
      { kind: 'service', atMs: 1_010_000, peer: 'alpha', service: 'storage', state: 'down' },
    ]);
    const report = availabilityReport(events, { sinceMs: 1_000_000, untilMs: 1_020_000, sloTarget: 0.99 });
    expect(report.peers.find((peer) => peer.peer === 'alpha')).toMatchObject({ uptimeMs: 10_000, downtimeMs: 10_000 });
  });

  it('keeps events while the store is unavailable, drops the oldest beyond its bound, and catches up', async () => {
    const { backend, store, recorder, logger } = setup({ bufferEventsMax: 5 });
    backend.available = false;
    for (let index = 1; index <= 6; index++) recorder.record(down(1_000_000 + index));
    await recorder.flush();
    await recorder.flush();
    expect(recorder.stats()).toMatchObject({ buffered: 5, dropped: 2, flushed: 0, lastFlushError: expect.stringMatching(/no leader/) });
    expect(logger.records.filter((record) => record.level === 'warn')).toHaveLength(1);
    backend.available = true;
    await recorder.flush();
    expect(recorder.stats()).toMatchObject({ buffered: 0, dropped: 2, flushed: 5, lastFlushError: undefined });
    expect(logger.records.at(-1)!.message).toMatch(/written to the store again/);
    // The start event and the first 'down' were the oldest: dropped.
    expect((await readHealthEvents(store, { sinceMs: 0 })).events.map((event) => event.atMs)).toEqual([1_000_002, 1_000_003, 1_000_004, 1_000_005, 1_000_006]);
    await recorder.stop();
  });

  it('sums request outcomes into 10 s windows that become requests events', async () => {
    const { store, clock, recorder } = setup();
    recorder.requestOutcome({ outcome: 'ok', latencyMs: 20 });
    recorder.requestOutcome({ outcome: 'failed', latencyMs: 100 });
    clock.ms += 4_000;
    recorder.requestOutcome({ outcome: 'rejected', latencyMs: 1 });
    clock.ms += 7_000;
    recorder.requestOutcome({ outcome: 'ok', latencyMs: 30 });
    await recorder.flush();
    clock.ms += 2_000;
    await recorder.stop();
    const requests = (await readHealthEvents(store, { sinceMs: 0 })).events.filter((event) => event.kind === 'requests');
    expect(requests).toEqual([
      { kind: 'requests', atMs: 1_000_000, windowMs: 10_000, gateway: 'alpha', ok: 1, failed: 1, rejected: 1, latencyMsSum: 121, latencyMsMax: 100 },
      // The last window is cut short by the stop.
      { kind: 'requests', atMs: 1_010_000, windowMs: 3_000, gateway: 'alpha', ok: 1, failed: 0, rejected: 0, latencyMsSum: 30, latencyMsMax: 30 },
    ]);
  });

  it('keeps per-second statistics with latency percentiles for the live plots', async () => {
    const { clock, recorder } = setup();
    for (let latency = 1; latency <= 100; latency++) recorder.requestOutcome({ outcome: latency <= 98 ? 'ok' : 'failed', latencyMs: latency });
    clock.ms += 2_000;
    recorder.requestOutcome({ outcome: 'rejected', latencyMs: 5 });
    expect(recorder.recentRequests(3)).toEqual([
      { atMs: 1_000_000, ok: 98, failed: 2, rejected: 0, latencyMsP50: 50, latencyMsP99: 99 },
      { atMs: 1_001_000, ok: 0, failed: 0, rejected: 0, latencyMsP50: null, latencyMsP99: null },
      { atMs: 1_002_000, ok: 0, failed: 0, rejected: 1, latencyMsP50: 5, latencyMsP99: 5 },
    ]);
    // Beyond the ring's 600 seconds, old seconds read as quiet.
    clock.ms += 600_000;
    expect(recorder.recentRequests(10_000)).toHaveLength(600);
    expect(recorder.recentRequests(10_000).every((second) => second.ok + second.failed + second.rejected === 0)).toBe(true);
    await recorder.stop();
  });

  it('counts a crash as downtime from its last flush until the next start', async () => {
    const backend = fakeRaftStore();
    const store = healthStoreFor(backend);
    const clock = { ms: 1_000 };
    const options = { nodeId: 'alpha', store, now: () => clock.ms, logger: memoryLogger(), flushIntervalMs: 3_600_000, services: ['compute' as const] };
    const crashed = new HealthRecorder(options);
    clock.ms = 3_000;
    await crashed.flush();
    // Killed: no stop. A new process of the same peer starts at 10 s.
    clock.ms = 10_000;
    const restarted = new HealthRecorder(options);
    await restarted.flush();
    const report = availabilityReport((await readHealthEvents(store, { sinceMs: 0 })).events, { sinceMs: 1_000, untilMs: 11_000, sloTarget: 0.99 });
    expect(report.peers).toMatchObject([{ peer: 'alpha', uptimeMs: 3_000, downtimeMs: 7_000, failures: 1, repairs: 1 }]);
    expect(report.services.find((service) => service.service === 'compute')).toMatchObject({ uptimeMs: 3_000, downtimeMs: 7_000 });
    await restarted.stop();
    await crashed.stop();
  });

  it('refuses impossible settings and malformed events', async () => {
    const store = healthStoreFor(fakeRaftStore());
    const base = { nodeId: 'alpha', store, now: () => 0, logger: memoryLogger() };
    expect(() => new HealthRecorder({ ...base, flushIntervalMs: 0 })).toThrow(HealthSettingsError);
    expect(() => new HealthRecorder({ ...base, bufferEventsMax: 0 })).toThrow(/bufferEventsMax/);
    const recorder = new HealthRecorder({ ...base, flushIntervalMs: 60_000 });
    expect(() => recorder.record({ kind: 'peer', atMs: -5, observer: 'a', subject: 'b', state: 'up' })).toThrow(/atMs/);
    expect(() => recorder.requestOutcome({ outcome: 'ok', latencyMs: Number.NaN })).toThrow(/latency/);
    await recorder.stop();
  });

  it('flushes on its own every flushIntervalMs', async () => {
    const backend = fakeRaftStore();
    const recorder = new HealthRecorder({ nodeId: 'alpha', store: healthStoreFor(backend), now: () => 5, logger: memoryLogger(), flushIntervalMs: 20 });
    const deadline = Date.now() + 2_000;
    while (recorder.stats().flushed === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(recorder.stats().flushed).toBe(1);
    await recorder.stop();
  });
});
