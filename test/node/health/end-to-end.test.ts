/**
 * The health pieces together, in one process: three peers with real TLS transports and
 * monitors, recorders writing to a real (single-voter) Raft store, one peer's transport shut
 * down and brought back, and the availability report computed from what the store then holds.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import type { PeerAddress } from '../../../src/net/index.js';
import { RaftPeer } from '../../../src/node/raft/raft-peer.js';
import { HealthMonitor, HealthRecorder, healthStoreFor, peerEventOf, readHealthEvents } from '../../../src/node/health/index.js';
import { availabilityReport } from '../../../src/availability/index.js';
import { RaftStore } from '../../../src/storage/index.js';
import { addressOf, eventually, makeCluster, makePeer, memoryLogger, removeTemporaryDirectories, startTransport, temporaryDirectory } from '../../net/helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(removeTemporaryDirectories);

const timings = { pingIntervalMs: 50, suspectAfterMs: 300, downAfterMs: 600 };

describe('health monitoring end to end', () => {
  it('a peer that goes away is counted down from when it went silent until it is back', async () => {
    const clusterDir = await makeCluster();
    const identities = await Promise.all([makePeer(clusterDir), makePeer(clusterDir), makePeer(clusterDir)]);
    const open = async (index: number, port = 0) => {
      const transport = await startTransport(identities[index]!, { listen: false });
      await transport.listen('127.0.0.1', port);
      cleanups.push(() => transport.close());
      return transport;
    };
    const transports = [await open(0), await open(1), await open(2)];
    const ports = transports.map((transport) => addressOf(transport).port);
    const contacts = identities.map((identity, index) => ({ nodeId: identity.nodeId, host: '127.0.0.1', port: ports[index]! }));
    const raft = new RaftPeer({
      id: identities[0]!.nodeId, store: RaftStore.open(join(temporaryDirectory('nines-health-e2e-'), 'raft.sqlite')), transport: transports[0]!,
      addresses: new Map<string, PeerAddress>([[identities[0]!.nodeId, addressOf(transports[0]!) as PeerAddress]]),
      foundingVoters: [identities[0]!.nodeId], rng: new Rng(7), tickMs: 10, settings: { electionTicks: 5, heartbeatTicks: 1 }, logger: memoryLogger(),
    });
    raft.start();
    cleanups.push(() => raft.stop());
    await eventually(() => raft.status().role === 'leader', 5_000);
    const store = healthStoreFor(raft);
    const startMs = Date.now();
    // Peers 0 and 1 watch everyone and record what they see.
    for (const index of [0, 1]) {
      const recorder = new HealthRecorder({ nodeId: identities[index]!.nodeId, store, now: Date.now, logger: memoryLogger(), flushIntervalMs: 100, services: ['gateway'] });
      cleanups.push(() => recorder.stop());
      const monitor = new HealthMonitor({
        transport: transports[index]!, peers: () => contacts, ...timings,
        onTransition: (observer, transition, lastHeardAtMs) => {
          const event = peerEventOf(observer, transition, Date.now(), lastHeardAtMs);
          if (event !== undefined) recorder.record(event);
        },
      });
      cleanups.push(() => monitor.stop());
      monitor.start();
    }
    // Peer 2 records its own start (every peer does) and otherwise only answers pings.
    const thirdRecorder = new HealthRecorder({ nodeId: identities[2]!.nodeId, store, now: Date.now, logger: memoryLogger(), flushIntervalMs: 100 });
    cleanups.push(() => thirdRecorder.stop());
    new HealthMonitor({ transport: transports[2]!, peers: () => [], onTransition: () => {}, ...timings });
    await new Promise((resolve) => setTimeout(resolve, 300));

    const silentAtMs = Date.now();
    await transports[2]!.close();
    const downMs = 1_500;
    await new Promise((resolve) => setTimeout(resolve, downMs));
    const back = await open(2, ports[2]);
    new HealthMonitor({ transport: back, peers: () => [], onTransition: () => {}, ...timings });
    const backAtMs = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // What the recorders still hold reaches the store.
    await new Promise((resolve) => setTimeout(resolve, 300));

    const { events } = await readHealthEvents(store, { sinceMs: startMs });
    const report = availabilityReport(events, { sinceMs: startMs, untilMs: backAtMs + 400, sloTarget: 0.99 });
    const third = report.peers.find((peer) => peer.peer === identities[2]!.nodeId)!;
    expect(third).toMatchObject({ failures: 1, repairs: 1, outages: 1 });
    // Down from about when it went silent (within a ping interval and some slack) until about when it was back.
    expect(third.downtimeMs).toBeGreaterThan(downMs - 2 * timings.pingIntervalMs - 200);
    expect(third.downtimeMs).toBeLessThan(downMs + timings.downAfterMs + 400);
    expect(report.peers.find((peer) => peer.peer === identities[0]!.nodeId)).toMatchObject({ failures: 0, downtimeMs: 0 });
    expect(report.services.find((service) => service.service === 'gateway')).toMatchObject({ peers: 2, downtimeMs: 0 });
    expect(events.some((event) => event.kind === 'peer' && event.subject === identities[2]!.nodeId && event.state === 'down' && Math.abs(event.atMs - silentAtMs) < 300)).toBe(true);
  });
});
