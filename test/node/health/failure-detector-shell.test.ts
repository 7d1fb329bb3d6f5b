/**
 * The health monitor over real TLS transports on loopback, with its timings shortened:
 * a peer that stops answering is suspected, then declared down, and is up again once it answers.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Transition } from '../../../src/replication/failure-detector/index.js';
import type { RpcContext } from '../../../src/net/index.js';
import { HealthMonitor, HealthSettingsError, healthLimits, peerEventOf } from '../../../src/node/health/index.js';
import type { Identity } from '../../../src/p2p/identity/index.js';
import { addressOf, eventually, makeCluster, makePeer, removeTemporaryDirectories, startTransport } from '../../net/helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(removeTemporaryDirectories);

// Generous against a busy machine: a stall of the event loop shorter than suspectAfterMs must not look like a failure.
const timings = { pingIntervalMs: 50, suspectAfterMs: 300, downAfterMs: 600 };

async function open(identity: Identity, port = 0) {
  const transport = await startTransport(identity, { listen: false });
  await transport.listen('127.0.0.1', port);
  cleanups.push(() => transport.close());
  return transport;
}

describe('HealthMonitor', () => {
  it('suspects a peer that stops answering, declares it down, and sees it up when it answers again', async () => {
    const clusterDir = await makeCluster();
    const [alice, bob] = await Promise.all([makePeer(clusterDir), makePeer(clusterDir)]);
    const aliceTransport = await open(alice);
    let bobTransport = await open(bob);
    const bobPort = addressOf(bobTransport).port;
    const seen: Array<{ observer: string; transition: Transition; atMs: number; lastHeardAtMs: number }> = [];
    const monitor = new HealthMonitor({
      transport: aliceTransport,
      peers: () => [{ nodeId: bob.nodeId, host: '127.0.0.1', port: bobPort }, { nodeId: alice.nodeId, host: '127.0.0.1', port: addressOf(aliceTransport).port }],
      onTransition: (observer, transition, lastHeardAtMs) => seen.push({ observer, transition, atMs: Date.now(), lastHeardAtMs }),
      ...timings,
    });
    cleanups.push(() => monitor.stop());
    const bobMonitor = new HealthMonitor({ transport: bobTransport, peers: () => [], onTransition: () => {}, ...timings });
    cleanups.push(() => bobMonitor.stop());
    monitor.start();
    // Bob answers: well past the down timeout, alice still sees it up, and never watches herself.
    await new Promise((resolve) => setTimeout(resolve, timings.downAfterMs + 200));
    expect(seen).toEqual([]);
    expect(monitor.states()).toEqual([{ peer: bob.nodeId, state: 'up', silentTicks: expect.any(Number) }]);

    const stoppedAtMs = Date.now();
    await bobTransport.close();
    await eventually(() => monitor.state(bob.nodeId) === 'down', 3_000);
    expect(seen.map((entry) => [entry.observer, entry.transition])).toEqual([
      [alice.nodeId, { peer: bob.nodeId, from: 'up', to: 'suspect' }],
      [alice.nodeId, { peer: bob.nodeId, from: 'suspect', to: 'down' }],
    ]);
    // Down within the timeout plus a couple of ping intervals of slack, not much later.
    expect(seen[1]!.atMs - stoppedAtMs).toBeGreaterThanOrEqual(timings.downAfterMs - 2 * timings.pingIntervalMs);
    expect(seen[1]!.atMs - stoppedAtMs).toBeLessThan(timings.downAfterMs + 1_000);
    // The outage is dated from the last answer, within a ping interval (and some scheduling slack) of the stop.
    expect(seen[1]!.lastHeardAtMs).toBeLessThanOrEqual(stoppedAtMs + 200);
    expect(stoppedAtMs - seen[1]!.lastHeardAtMs).toBeLessThan(2 * timings.pingIntervalMs + 200);
    expect(peerEventOf(alice.nodeId, seen[1]!.transition, seen[1]!.atMs, seen[1]!.lastHeardAtMs)).toEqual({ kind: 'peer', atMs: seen[1]!.lastHeardAtMs, observer: alice.nodeId, subject: bob.nodeId, state: 'down' });

    // Bob comes back on the same address and answers (its own monitor registers health.ping).
    bobTransport = await open(bob, bobPort);
    new HealthMonitor({ transport: bobTransport, peers: () => [], onTransition: () => {}, ...timings }).stop();
    await eventually(() => monitor.state(bob.nodeId) === 'up', 3_000);
    expect(seen.at(-1)!.transition).toEqual({ peer: bob.nodeId, from: 'down', to: 'up' });
  });

  it('counts a ping from a peer as hearing it, and forgets peers the swarm no longer lists', async () => {
    // A transport whose outgoing pings never come back: only incoming pings say the peer is alive.
    let handler: ((body: unknown, context: RpcContext) => unknown) | undefined;
    const transport = { nodeId: 'bob', handle: (_method: string, registered: typeof handler) => void (handler = registered), request: () => new Promise<never>(() => {}) };
    let listed = true;
    const seen: Transition[] = [];
    const monitor = new HealthMonitor({ transport, peers: () => (listed ? [{ nodeId: 'alice', host: '127.0.0.1', port: 1 }] : []), onTransition: (_observer, transition) => seen.push(transition), ...timings });
    cleanups.push(() => monitor.stop());
    monitor.start();
    const pings = setInterval(() => expect(handler!({ nodeId: 'alice' }, { peer: { nodeId: 'alice' } } as RpcContext)).toEqual({ nodeId: 'bob' }), timings.pingIntervalMs / 2);
    await new Promise((resolve) => setTimeout(resolve, 3 * timings.downAfterMs));
    clearInterval(pings);
    expect(seen).toEqual([]);
    await eventually(() => monitor.state('alice') === 'down', 3_000);
    expect(seen.map((transition) => transition.to)).toEqual(['suspect', 'down']);
    listed = false;
    await eventually(() => monitor.state('alice') === undefined);
    expect(monitor.states()).toEqual([]);
  });

  it('turns transitions into health events: down dated when last heard, up after down dated now, suspicion none', () => {
    expect(peerEventOf('o', { peer: 'p', from: 'suspect', to: 'down' }, 5_000, 3_500)).toEqual({ kind: 'peer', atMs: 3_500, observer: 'o', subject: 'p', state: 'down' });
    expect(peerEventOf('o', { peer: 'p', from: 'down', to: 'up' }, 9_000, 8_990)).toEqual({ kind: 'peer', atMs: 9_000, observer: 'o', subject: 'p', state: 'up' });
    expect(peerEventOf('o', { peer: 'p', from: 'up', to: 'suspect' }, 9_000, 8_000)).toBeUndefined();
    expect(peerEventOf('o', { peer: 'p', from: 'suspect', to: 'up' }, 9_000, 9_000)).toBeUndefined();
  });

  it('refuses timings in which a peer could be down before it is suspected', async () => {
    const transport = { nodeId: 'a', handle: () => {}, request: async () => ({}) };
    expect(() => new HealthMonitor({ transport, peers: () => [], onTransition: () => {}, pingIntervalMs: 100, suspectAfterMs: 300, downAfterMs: 250 })).toThrow(HealthSettingsError);
    expect(() => new HealthMonitor({ transport, peers: () => [], onTransition: () => {}, pingIntervalMs: 0 })).toThrow(/pingIntervalMs/);
    expect(healthLimits.downAfterMsDefault / healthLimits.pingIntervalMsDefault).toBe(6);
  });
});
