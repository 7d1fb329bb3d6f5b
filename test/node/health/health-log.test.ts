import { describe, expect, it } from 'vitest';
import type { HealthEvent } from '../../../src/availability/index.js';
import {
  HealthLogWriter,
  HealthPeersContendedError,
  healthHeadKey,
  healthLimits,
  healthPeersKey,
  healthSegmentKey,
  healthStoreFor,
  readHealthEvents,
  type HealthStore,
} from '../../../src/node/health/index.js';
import { fakeRaftStore, fakeReplicaCluster } from './fake-stores.js';

const segmentMax = healthLimits.segmentEventsMax;

function peerEvent(subject: string, atMs: number, state: 'up' | 'down', observer = 'x'): HealthEvent {
  return { kind: 'peer', atMs, observer, subject, state };
}
function requestsEvent(gateway: string, atMs: number): HealthEvent {
  return { kind: 'requests', atMs, windowMs: 10, gateway, ok: 1, failed: 0, rejected: 0, latencyMsSum: 1, latencyMsMax: 1 };
}

const modes: Array<[string, () => { store: HealthStore; other: HealthStore }]> = [
  ['single-leader', () => { const backend = fakeRaftStore(); return { store: healthStoreFor(backend), other: healthStoreFor(backend) }; }],
  ['leaderless', () => { const cluster = fakeReplicaCluster('leaderless'); return { store: healthStoreFor(cluster.replica('a')), other: healthStoreFor(cluster.replica('b')) }; }],
  ['multi-leader', () => { const cluster = fakeReplicaCluster('multi-leader'); return { store: healthStoreFor(cluster.replica('a')), other: healthStoreFor(cluster.replica('b')) }; }],
];

describe.each(modes)('the health log in %s mode', (mode, make) => {
  it('reads back what two peers wrote, each in its own keys', async () => {
    const { store, other } = make();
    expect(store.mode).toBe(mode);
    const alpha = new HealthLogWriter(store, 'alpha');
    const beta = new HealthLogWriter(other, 'beta');
    await alpha.append([peerEvent('alpha', 10, 'up', 'alpha'), peerEvent('beta', 30, 'down', 'alpha')]);
    await beta.append([peerEvent('beta', 20, 'up', 'beta')]);
    await alpha.append([peerEvent('beta', 40, 'up', 'alpha'), requestsEvent('alpha', 50)]);
    const read = await readHealthEvents(store, { sinceMs: 0 });
    expect(read).toMatchObject({ peers: 2, truncated: false, invalidEvents: 0, problems: [] });
    expect(read.events.map((event) => event.atMs)).toEqual([10, 20, 30, 40, 50]);
    const peers = (await store.read(healthPeersKey, true)).values.map((value) => JSON.parse(value) as string[]);
    expect(peers.flat().sort()).toEqual(['alpha', 'beta']);
  });

  it('rolls over to new segments that carry the latest state, so a late window still knows where things stood', async () => {
    const { store } = make();
    const writer = new HealthLogWriter(store, 'alpha');
    // Gamma goes down early and never comes back; alpha records request windows after that.
    await writer.append([peerEvent('gamma', 1, 'up'), peerEvent('gamma', 2, 'down'), { kind: 'leader', atMs: 3, observer: 'alpha', leader: 'alpha', term: 4 }]);
    const windows = Array.from({ length: 3 * segmentMax }, (_, index) => requestsEvent('alpha', 100 + index));
    for (let start = 0; start < windows.length; start += 100) await writer.append(windows.slice(start, start + 100));
    const head = JSON.parse((await store.read(healthHeadKey('alpha'), true)).values[0]!) as number;
    expect(head).toBeGreaterThanOrEqual(3);
    for (let segment = 0; segment <= head; segment++) {
      const events = JSON.parse((await store.read(healthSegmentKey('alpha', segment), true)).values[0]!) as unknown[];
      expect(events.length).toBeLessThanOrEqual(segmentMax);
    }
    const everything = await readHealthEvents(store, { sinceMs: 0 });
    expect(everything.events.filter((event) => event.kind === 'requests')).toHaveLength(windows.length);
    expect(everything.segmentsRead).toBe(head + 1);
    const late = await readHealthEvents(store, { sinceMs: 100 + windows.length - 10 });
    expect(late.segmentsRead).toBeLessThan(head + 1);
    expect(late.events.filter((event) => event.kind === 'requests')).toHaveLength(10);
    // The state before the window: gamma's last event (down) and the leader, from the carried state.
    expect(late.events.filter((event) => event.kind !== 'requests')).toEqual([peerEvent('gamma', 2, 'down'), { kind: 'leader', atMs: 3, observer: 'alpha', leader: 'alpha', term: 4 }]);
  });

  it('stops at eventsMax, newest first, and says the result was cut', async () => {
    const { store } = make();
    const writer = new HealthLogWriter(store, 'alpha');
    await writer.append(Array.from({ length: segmentMax + 10 }, (_, index) => requestsEvent('alpha', index)));
    const read = await readHealthEvents(store, { sinceMs: 0, eventsMax: 20 });
    expect(read.truncated).toBe(true);
    expect(read.events).toHaveLength(20);
    expect(read.events.at(-1)!.atMs).toBe(segmentMax + 9);
  });

  it('does not write an event twice when a flush is retried after its write landed', async () => {
    const { store } = make();
    const writer = new HealthLogWriter(store, 'alpha');
    const events = [peerEvent('beta', 1, 'down'), peerEvent('beta', 2, 'up')];
    await writer.append(events);
    await new HealthLogWriter(store, 'alpha').append(events);
    expect((await readHealthEvents(store, { sinceMs: 0 })).events).toEqual(events);
  });

  it('skips malformed stored events and reports them', async () => {
    const { store } = make();
    await new HealthLogWriter(store, 'alpha').append([peerEvent('beta', 1, 'down')]);
    const key = healthSegmentKey('alpha', 0);
    const previous = await store.read(key, true);
    await store.write(key, JSON.stringify([peerEvent('beta', 1, 'down'), { kind: 'peer', atMs: 'yesterday' }]), previous, false);
    const read = await readHealthEvents(store, { sinceMs: 0 });
    expect(read.events).toEqual([peerEvent('beta', 1, 'down')]);
    expect(read.invalidEvents).toBe(1);
    expect(read.problems[0]).toMatch(/health\/alpha\/0: .*atMs/);
  });

  it('continues after a segment written by a writer that died before moving the head', async () => {
    const { store } = make();
    await new HealthLogWriter(store, 'alpha').append([peerEvent('beta', 1, 'down')]);
    const orphanKey = healthSegmentKey('alpha', 1);
    await store.write(orphanKey, JSON.stringify([peerEvent('beta', 2, 'up')]), await store.read(orphanKey, true), false);
    await new HealthLogWriter(store, 'alpha').append([peerEvent('beta', 3, 'down')]);
    expect(JSON.parse((await store.read(orphanKey, true)).values[0]!)).toEqual([peerEvent('beta', 2, 'up'), peerEvent('beta', 3, 'down')]);
  });
});

describe('a new life of a peer', () => {
  const selfUp = (atMs: number): HealthEvent => ({ kind: 'peer', atMs, observer: 'alpha', subject: 'alpha', state: 'up' });
  const selfDown = (atMs: number): HealthEvent => ({ kind: 'peer', atMs, observer: 'alpha', subject: 'alpha', state: 'down' });
  const gateway = (atMs: number, state: 'up' | 'down'): HealthEvent => ({ kind: 'service', atMs, peer: 'alpha', service: 'gateway', state });

  it.each(modes)('records the previous life as ended when it was last known alive, after a crash (%s)', async (_mode, make) => {
    const { store } = make();
    const first = new HealthLogWriter(store, 'alpha');
    await first.append([selfUp(1_000), gateway(1_000, 'up')], 1_000);
    await first.append([peerEvent('beta', 2_000, 'down', 'alpha')], 2_500);
    await first.append([], 5_000);
    // The process dies here without a word; the next one starts at 9 s.
    await new HealthLogWriter(store, 'alpha').append([selfUp(9_000), gateway(9_000, 'up')], 9_000);
    const { events } = await readHealthEvents(store, { sinceMs: 0 });
    expect(events.filter((event) => event.kind === 'peer' && event.subject === 'alpha' || event.kind === 'service')).toEqual([selfUp(1_000), gateway(1_000, 'up'), selfDown(5_000), gateway(5_000, 'down'), selfUp(9_000), gateway(9_000, 'up')]);
  });

  it('adds nothing after a clean stop, or on a first start', async () => {
    const backend = fakeRaftStore();
    const store = healthStoreFor(backend);
    const alpha = new HealthLogWriter(store, 'alpha');
    await alpha.append([selfUp(1_000), gateway(1_000, 'up')], 1_000);
    await new HealthLogWriter(store, 'beta').append([], 1_000);
    await alpha.append([gateway(4_000, 'down'), selfDown(4_000)], 4_000);
    await new HealthLogWriter(store, 'alpha').append([selfUp(9_000)], 9_000);
    const { events } = await readHealthEvents(store, { sinceMs: 0 });
    expect(events).toEqual([selfUp(1_000), gateway(1_000, 'up'), selfDown(4_000), gateway(4_000, 'down'), selfUp(9_000)]);
  });
});

describe('health/peers, the one shared key', () => {
  it('keeps both peers when two register concurrently in a replica mode (siblings merged)', async () => {
    const cluster = fakeReplicaCluster('leaderless');
    const alpha = new HealthLogWriter(healthStoreFor(cluster.replica('a')), 'alpha');
    const beta = new HealthLogWriter(healthStoreFor(cluster.replica('b')), 'beta');
    await Promise.all([alpha.append([peerEvent('alpha', 1, 'up', 'alpha')]), beta.append([peerEvent('beta', 1, 'up', 'beta')])]);
    const stored = await healthStoreFor(cluster.replica('c')).read(healthPeersKey, true);
    expect(stored.values.length).toBeGreaterThan(1);
    const read = await readHealthEvents(healthStoreFor(cluster.replica('c')), { sinceMs: 0 });
    expect(read.peers).toBe(2);
    expect(read.events).toHaveLength(2);
  });

  it('retries a lost compare-and-set in single-leader mode, and gives up with a clear error under endless contention', async () => {
    const backend = fakeRaftStore();
    let interruptions = 1;
    backend.beforeCas = (key) => {
      if (key === healthPeersKey && interruptions-- > 0) backend.values.set(healthPeersKey, JSON.stringify(['beta']));
    };
    await new HealthLogWriter(healthStoreFor(backend), 'alpha').append([peerEvent('alpha', 1, 'up', 'alpha')]);
    expect(JSON.parse(backend.values.get(healthPeersKey)!)).toEqual(['alpha', 'beta']);
    backend.beforeCas = (key) => {
      if (key === healthPeersKey) backend.values.set(healthPeersKey, JSON.stringify(['beta', `other-${backend.writes}`]));
    };
    await expect(new HealthLogWriter(healthStoreFor(backend), 'gamma').append([])).rejects.toThrow(HealthPeersContendedError);
  });
});
