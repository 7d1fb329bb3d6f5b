/**
 * The health log on the real stores, in one process: a single-voter Raft peer and three
 * leaderless peers, each with its own TLS transport on loopback and its own SQLite database.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import type { PeerAddress } from '../../../src/net/index.js';
import { RaftPeer } from '../../../src/node/raft/raft-peer.js';
import { LeaderlessPeer } from '../../../src/node/replica/leaderless-peer.js';
import { HealthLogWriter, healthPeersKey, healthStoreFor, readHealthEvents } from '../../../src/node/health/index.js';
import { availabilityReport, type HealthEvent } from '../../../src/availability/index.js';
import { LeaderlessStore, RaftStore } from '../../../src/storage/index.js';
import { addressOf, eventually, makeCluster, makePeer, removeTemporaryDirectories, startTransport, temporaryDirectory } from '../../net/helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(removeTemporaryDirectories);

async function transports(count: number) {
  const clusterDir = await makeCluster();
  const started = [];
  for (let index = 0; index < count; index++) {
    const transport = await startTransport(await makePeer(clusterDir));
    cleanups.push(() => transport.close());
    started.push(transport);
  }
  return started;
}

const timeline = (observer: string): HealthEvent[] => [
  { kind: 'peer', atMs: 1_000, observer, subject: observer, state: 'up' },
  { kind: 'service', atMs: 1_000, peer: observer, service: 'storage', state: 'up' },
  { kind: 'peer', atMs: 5_000, observer, subject: 'ghost', state: 'down' },
];

describe('the health log on real stores', () => {
  it('single-leader: a Raft peer stores and serves the log', async () => {
    const [transport] = await transports(1);
    const addresses = new Map<string, PeerAddress>([[transport!.nodeId, addressOf(transport!) as PeerAddress]]);
    const peer = new RaftPeer({
      id: transport!.nodeId, store: RaftStore.open(join(temporaryDirectory('nines-health-raft-'), 'raft.sqlite')), transport: transport!, addresses,
      foundingVoters: [transport!.nodeId], rng: new Rng(1), tickMs: 10, settings: { electionTicks: 5, heartbeatTicks: 1 }, logger: transport!.log,
    });
    peer.start();
    cleanups.push(() => peer.stop());
    await eventually(() => peer.status().role === 'leader', 5_000);
    const store = healthStoreFor(peer);
    await new HealthLogWriter(store, transport!.nodeId).append(timeline(transport!.nodeId));
    const read = await readHealthEvents(store, { sinceMs: 0 });
    expect(read.events).toEqual(timeline(transport!.nodeId));
    const report = availabilityReport(read.events, { sinceMs: 1_000, untilMs: 11_000, sloTarget: 0.99 });
    expect(report.peers.find((entry) => entry.peer === transport!.nodeId)).toMatchObject({ uptimeMs: 10_000, downtimeMs: 0 });
    expect(report.peers.find((entry) => entry.peer === 'ghost')).toMatchObject({ uptimeMs: 0, downtimeMs: 6_000 });
  });

  it('leaderless: three peers write their logs through different coordinators; concurrent registrations merge', async () => {
    const started = await transports(3);
    const addresses = new Map<string, PeerAddress>(started.map((transport) => [transport.nodeId, addressOf(transport) as PeerAddress]));
    const peers = started.map((transport, index) => {
      const peer = new LeaderlessPeer({ id: transport.nodeId, store: LeaderlessStore.open(temporaryDirectory('nines-health-leaderless-')), transport, addresses, rng: new Rng(index + 1), tickMs: 10, settings: { n: 3, r: 2, w: 2 }, logger: transport.log });
      peer.start();
      cleanups.push(() => peer.stop());
      return peer;
    });
    await Promise.all(peers.map((peer, index) => new HealthLogWriter(healthStoreFor(peer), started[index]!.nodeId).append(timeline(started[index]!.nodeId))));
    const read = await readHealthEvents(healthStoreFor(peers[0]!), { sinceMs: 0 });
    expect(read.peers).toBe(3);
    expect(read.events.filter((event) => event.kind === 'service')).toHaveLength(3);
    expect(read.events).toHaveLength(9);
    // Whatever the interleaving, the shared key names all three (as siblings or merged).
    const stored = await healthStoreFor(peers[1]!).read(healthPeersKey, true);
    expect(new Set(stored.values.flatMap((value) => JSON.parse(value) as string[]))).toEqual(new Set(started.map((transport) => transport.nodeId)));
  });
});
