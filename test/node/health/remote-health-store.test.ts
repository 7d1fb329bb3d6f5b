import { describe, expect, it } from 'vitest';
import type { HealthEvent } from '../../../src/availability/index.js';
import type { PeerAddress, RpcContext, Transport } from '../../../src/net/index.js';
import { HealthLogWriter, healthStoreFor, readHealthEvents, RemoteHealthStore, serveHealthStore, type HealthStore } from '../../../src/node/health/index.js';
import { fakeRaftStore, fakeReplicaCluster } from './fake-stores.js';

type Handler = (body: unknown, context: RpcContext) => unknown;

/** Storage peers in this process: each serves its health store; `down` ones do not answer. */
function storagePeers(stores: Record<string, HealthStore>, down: Set<string>) {
  const handlers = new Map<string, Map<string, Handler>>();
  for (const [name, store] of Object.entries(stores)) {
    const methods = new Map<string, Handler>();
    serveHealthStore({ handle: (method: string, handler: Handler) => void methods.set(method, handler) } as never, store);
    handlers.set(name, methods);
  }
  const transportOf = (caller: string): Pick<Transport, 'request'> => ({
    async request(address: string | PeerAddress, method: string, body?: unknown) {
      const to = { nodeId: typeof address === 'string' ? address : address.nodeId! };
      if (down.has(to.nodeId)) throw new Error(`cannot connect to ${to.nodeId}`);
      try {
        // Through JSON, as over the wire.
        return JSON.parse(JSON.stringify(await handlers.get(to.nodeId)!.get(method)!(JSON.parse(JSON.stringify(body)), { peer: { nodeId: caller } } as RpcContext)));
      } catch (error) {
        throw Object.assign(new Error((error as Error).message), { remoteCode: (error as { remoteCode?: string }).remoteCode });
      }
    },
  });
  const contacts = Object.keys(stores).map((nodeId) => ({ nodeId, host: '127.0.0.1', port: 1 }));
  return { transportOf, contacts };
}

const event = (subject: string, atMs: number, observer: string): HealthEvent => ({ kind: 'peer', atMs, observer, subject, state: 'up' });

describe('the health log of a peer without storage', () => {
  it("is written through a storage peer, moves on when one is down, and reads back with everyone else's", async () => {
    const shared = fakeRaftStore();
    const down = new Set<string>();
    const { transportOf, contacts } = storagePeers({ s1: healthStoreFor(shared), s2: healthStoreFor(shared) }, down);
    const remote = new RemoteHealthStore({ transport: transportOf('gateway'), contacts, mode: 'single-leader' });
    const writer = new HealthLogWriter(remote, 'gateway');
    await writer.append([event('gateway', 10, 'gateway')]);
    down.add('s1');
    await writer.append([event('s1', 20, 'gateway')]);
    await new HealthLogWriter(healthStoreFor(shared), 's2').append([event('s2', 15, 's2')]);
    const read = await readHealthEvents(remote, { sinceMs: 0 });
    expect(read.events.map((item) => item.atMs)).toEqual([10, 15, 20]);
    down.add('s2');
    await expect(remote.read('health/peers', true)).rejects.toMatchObject({ code: 'KV_UNAVAILABLE' });
  });

  it('carries replica contexts across the wire', async () => {
    const cluster = fakeReplicaCluster('leaderless');
    const { transportOf, contacts } = storagePeers({ s1: healthStoreFor(cluster.replica('s1')) }, new Set());
    const remote = new RemoteHealthStore({ transport: transportOf('compute'), contacts, mode: 'leaderless' });
    const writer = new HealthLogWriter(remote, 'compute');
    await writer.append([event('compute', 1, 'compute')]);
    await writer.append([event('compute', 2, 'compute')]);
    expect((await readHealthEvents(remote, { sinceMs: 0 })).events.map((item) => item.atMs)).toEqual([1, 2]);
  });

  it('may write only its own keys and the list of peers', async () => {
    const { transportOf, contacts } = storagePeers({ s1: healthStoreFor(fakeRaftStore()) }, new Set());
    const remote = new RemoteHealthStore({ transport: transportOf('mallory'), contacts, mode: 'single-leader' });
    const read = await remote.read('health/alice/head', true);
    await expect(remote.write('health/alice/head', '7', read, false)).rejects.toThrow(/only its own health keys/);
    await expect(remote.read('conversation/x', true)).rejects.toThrow(/only health/);
    await expect(remote.write('health/mallory/head', '1', read, false)).resolves.toBeDefined();
  });
});
