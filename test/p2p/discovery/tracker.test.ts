import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { RpcRemoteError, type Transport } from '../../../src/net/index.js';
import { parsePeersAnswer, TrackerClient, TrackerServer, trackerAnnounceMethod } from '../../../src/p2p/discovery/index.js';
import type { Identity } from '../../../src/p2p/identity/index.js';
import { addressOf, eventually, makeCluster, makePeer, memoryLogger, removeTemporaryDirectories, startTransport } from '../../net/helpers.js';
import { FakeDht } from './fakes.js';

let identities: Identity[];
const transports: Transport[] = [];
const clients: TrackerClient[] = [];

async function open(identity: Identity, listen = true) {
  const transport = await startTransport(identity, { listen });
  transports.push(transport);
  return transport;
}

beforeAll(async () => {
  const clusterDir = await makeCluster('hybrid');
  identities = await Promise.all(Array.from({ length: 4 }, () => makePeer(clusterDir)));
});

afterAll(async () => {
  for (const client of clients) client.stop();
  await Promise.all(transports.map((transport) => transport.close()));
  removeTemporaryDirectories();
});

describe('the tracker over the TLS transport', () => {
  it('introduces announcing peers to each other (and itself), and forgets one that stops', async () => {
    const trackerTransport = await open(identities[0]);
    const logger = memoryLogger();
    const tracker = new TrackerServer({ transport: trackerTransport, rng: new Rng(1), logger, ttlMs: 300 });
    tracker.start();
    const trackerContact = { ...addressOf(trackerTransport), nodeId: identities[0].nodeId };
    const peers = await Promise.all(identities.slice(1).map(async (identity) => {
      const transport = await open(identity);
      const dht = new FakeDht();
      const client = new TrackerClient({ trackers: [trackerContact], transport, dht, logger: memoryLogger(), intervalMs: 50 });
      clients.push(client);
      client.start();
      return { identity, transport, dht, client };
    }));
    for (const peer of peers) {
      await eventually(() => identities.every((identity) => identity === peer.identity || peer.dht.offeredIds().has(identity.nodeId)), 5_000);
      // The contact the tracker hands out is the one the peer listens on, proved by its certificate.
      const offered = peer.dht.offers.flat().find((contact) => contact.nodeId === peers[0].identity.nodeId);
      if (peer !== peers[0]) expect(offered).toEqual({ nodeId: peers[0].identity.nodeId, host: '127.0.0.1', port: peers[0].transport.listenAddress!.port });
    }
    expect(tracker.registry.size).toBe(3);
    peers[2].client.stop();
    await eventually(() => tracker.registry.size === 2, 3_000);
    expect(logger.records.some((record) => record.message === 'tracker forgot a peer that stopped announcing' && String(record.fields.contact).endsWith(peers[2].identity.nodeId))).toBe(true);
    tracker.stop();
  });

  it('refuses an announcement from a peer that accepts no connections', async () => {
    const trackerTransport = await open(identities[0]);
    new TrackerServer({ transport: trackerTransport, rng: new Rng(2), logger: memoryLogger() }).start();
    const client = await open(identities[1], false);
    const error = await client.request(addressOf(trackerTransport), trackerAnnounceMethod, null).catch((caught: unknown) => caught);
    expect((error as RpcRemoteError).remoteCode).toBe('TRACKER_NOT_A_PEER');
  });

  it('keeps trying a tracker that does not answer, and says so', async () => {
    const transport = await open(identities[3]);
    const logger = memoryLogger();
    const client = new TrackerClient({ trackers: [{ host: '127.0.0.1', port: 1, nodeId: identities[0].nodeId }], transport, dht: new FakeDht(), logger, intervalMs: 30 });
    clients.push(client);
    client.start();
    await eventually(() => client.status()[0].failures >= 2, 5_000);
    client.stop();
    expect(logger.records.some((record) => record.message === 'tracker did not answer')).toBe(true);
  });

  it("checks a tracker's answer before believing it", () => {
    expect(parsePeersAnswer({ peers: [] })).toEqual([]);
    expect(() => parsePeersAnswer(null)).toThrow(/without a list of peers/);
    expect(() => parsePeersAnswer({ peers: [{ nodeId: 'x', host: 'h', port: 1 }] })).toThrow(/malformed contact/);
    expect(() => parsePeersAnswer({ peers: Array.from({ length: 51 }, () => ({})) })).toThrow(/more than the 50 allowed/);
  });
});
