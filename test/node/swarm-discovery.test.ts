/**
 * Real processes (issue 4, "Shown by"): 20 `nines node` processes on 127.0.0.1 that find
 * each other through one bootstrap contact, then through a tracker, then through UDP
 * multicast. In each swarm every peer finds every other by lookup, a provider record put by
 * one is found by all, and a peer whose certificate comes from a foreign CA is refused by
 * all, with the refusal in each peer's log. Runs against dist/: `npm run build` first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PeerRefusedError, Transport } from '../../src/net/index.js';
import { kademliaMethod, randomKey } from '../../src/p2p/dht/index.js';
import { authenticatePeerCertificate, initCluster, issuePeerCertificate, loadCluster } from '../../src/p2p/identity/index.js';
import { removeTemporaryDirectories, temporaryDirectory } from '../net/helpers.js';
import { admin, checkBuilt, foundByLookup, startMany, startNodeProcess, stopAll, waitUntil, type LogLine, type LookupSummary, type NodeProcess } from './swarm.js';

const swarmSize = 20;
/** How long a fresh swarm may take until every peer finds every other. */
const convergenceDeadlineMs = 45_000;
/** Generous, because the two cores these tests run on are shared with other work. */
const testTimeoutMs = 120_000;

let root: string;
let clusterDir: string;
let foreignClusterDir: string;

beforeAll(async () => {
  checkBuilt();
  root = temporaryDirectory('nines-swarm-');
  clusterDir = join(root, 'cluster');
  foreignClusterDir = join(root, 'foreign-cluster');
  await initCluster(clusterDir, { name: 'swarm' });
  await initCluster(foreignClusterDir, { name: 'intruders' });
});

afterAll(async () => {
  await stopAll();
  removeTemporaryDirectories();
});

/** Waits until every peer finds every other as the closest result of a lookup of its ID. */
async function expectEveryPeerFindsEveryOther(peers: readonly NodeProcess[]): Promise<void> {
  const missing = new Map(peers.map((peer) => [peer, new Set(peers.filter((other) => other !== peer).map((other) => other.nodeId))]));
  await waitUntil(
    async () => {
      await Promise.all(
        [...missing].map(async ([peer, ids]) => {
          if (ids.size === 0) return;
          const found = await foundByLookup(peer, peers.filter((other) => ids.has(other.nodeId)));
          for (const id of found) ids.delete(id);
        }),
      );
      return [...missing.values()].every((ids) => ids.size === 0);
    },
    convergenceDeadlineMs,
    () => [...missing].filter(([, ids]) => ids.size > 0).map(([peer, ids]) => `${peer.nodeId.slice(0, 8)} misses ${ids.size}`).join(', '),
  );
}

/** One peer provides a fresh key; every peer then finds it among the key's providers. */
async function expectProviderRecordFoundByAll(peers: readonly NodeProcess[]): Promise<void> {
  const key = randomKey();
  const provided = await admin<LookupSummary>(peers[0], 'POST', '/v0/provide', { key });
  expect(provided.ok).toBe(true);
  expect(provided.stored).toBeGreaterThan(0);
  const results = await Promise.all(peers.map((peer) => admin<LookupSummary>(peer, 'POST', '/v0/find-providers', { key })));
  const finders = results.filter((result) => result.providers.some((provider) => provider.nodeId === peers[0].nodeId));
  expect(finders.length).toBe(peers.length);
}

function refusals(node: NodeProcess, reason: string): LogLine[] {
  return node.logs.filter((line) => (line.msg === 'refused peer' || line.msg === 'dropped multicast announcement') && line.reason === reason);
}

/** No peer of the swarm holds the intruder in its routing table, and a lookup of its ID does not reach it. */
async function expectIntruderNowhere(peers: readonly NodeProcess[], intruderId: string): Promise<void> {
  for (const peer of peers) {
    const table = await admin<{ buckets: { contacts: { nodeId: string }[] }[] }>(peer, 'GET', '/v0/routing-table');
    expect(table.buckets.flatMap((bucket) => bucket.contacts).some((contact) => contact.nodeId === intruderId)).toBe(false);
  }
  const lookup = await admin<{ results: LookupSummary[] }>(peers[0], 'POST', '/v0/lookup', { keys: [intruderId] });
  expect(lookup.results[0].closest.some((contact) => contact.nodeId === intruderId)).toBe(false);
}

/**
 * An intruder whose certificate another CA issued, but which trusts our CA (its certificate
 * is public), so that only the swarm's own check can stop it: it calls `method` on every
 * peer, every peer refuses it in the handshake and logs PEER_UNTRUSTED_CERTIFICATE.
 */
async function expectForeignCertificateRefusedByAll(peers: readonly NodeProcess[], name: string, method: string, body: unknown): Promise<void> {
  const foreign = await issuePeerCertificate(foreignClusterDir, join(root, name));
  const intruder = new Transport({ identity: { ...foreign, caPem: loadCluster(clusterDir).caCertPem }, authenticatePeer: authenticatePeerCertificate });
  try {
    for (const peer of peers) {
      const [host, port] = peer.contact.split('#')[0].split(':');
      const error = await intruder.request({ host, port: Number(port), nodeId: peer.nodeId }, method, body).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PeerRefusedError);
    }
  } finally {
    await intruder.close();
  }
  await waitUntil(
    async () => peers.every((peer) => refusals(peer, 'PEER_UNTRUSTED_CERTIFICATE').length > 0),
    convergenceDeadlineMs,
    () => `${peers.filter((peer) => refusals(peer, 'PEER_UNTRUSTED_CERTIFICATE').length === 0).length} peers logged no refusal`,
  );
  await expectIntruderNowhere(peers, foreign.nodeId);
}

describe('a swarm that joins through one bootstrap contact', () => {
  let peers: NodeProcess[];

  beforeAll(async () => {
    const seed = await startNodeProcess(join(root, 'bootstrap-0'), ['--dht-only', '--cluster-dir', clusterDir]);
    const others = await startMany(swarmSize - 1, (index) => [join(root, `bootstrap-${index + 1}`), ['--dht-only', '--cluster-dir', clusterDir, '--bootstrap', seed.contact]]);
    peers = [seed, ...others];
  }, testTimeoutMs);

  it('lets every peer find every other by lookup, and a provider record by all', async () => {
    await expectEveryPeerFindsEveryOther(peers);
    await expectProviderRecordFoundByAll(peers);
  }, testTimeoutMs);

  it('refuses a peer whose certificate comes from another CA, at every peer', async () => {
    await expectForeignCertificateRefusedByAll(peers, 'bootstrap-intruder', kademliaMethod, { type: 'ping', requestId: 1 });
  }, testTimeoutMs);

  it('keeps out a nines node of another cluster that bootstraps through every peer', async () => {
    const outsider = await startNodeProcess(join(root, 'bootstrap-outsider'), ['--dht-only', '--cluster-dir', foreignClusterDir, ...peers.flatMap((peer) => ['--bootstrap', peer.contact])]);
    // Each side refuses the other's certificate; the outsider, trusting its own CA, says so first.
    await waitUntil(
      async () => new Set(refusals(outsider, 'PEER_UNTRUSTED_CERTIFICATE').map((line) => line.remote)).size === peers.length,
      convergenceDeadlineMs,
      () => `the outsider refused ${refusals(outsider, 'PEER_UNTRUSTED_CERTIFICATE').length} of ${peers.length} peers`,
    );
    await expectIntruderNowhere(peers, outsider.nodeId);
  }, testTimeoutMs);

  afterAll(() => stopAll());
});

describe('a swarm that meets through a tracker', () => {
  const trackerTtlSeconds = 4;
  let tracker: NodeProcess;
  let peers: NodeProcess[];

  beforeAll(async () => {
    tracker = await startNodeProcess(join(root, 'tracker'), ['--cluster-dir', clusterDir, '--tracker-ttl', String(trackerTtlSeconds)], 'tracker');
    peers = await startMany(swarmSize - 1, (index) => [join(root, `tracked-${index}`), ['--dht-only', '--cluster-dir', clusterDir, '--tracker', tracker.contact, '--announce-interval', '1']]);
  }, testTimeoutMs);

  it('lets every peer find every other by lookup, and a provider record by all', async () => {
    await expectEveryPeerFindsEveryOther([tracker, ...peers]);
    await expectProviderRecordFoundByAll(peers);
  }, testTimeoutMs);

  it('refuses a peer whose certificate comes from another CA, at the tracker and at every peer', async () => {
    await expectForeignCertificateRefusedByAll([tracker], 'tracker-intruder', 'tracker.announce', null);
    await expectForeignCertificateRefusedByAll(peers, 'tracker-intruder-2', kademliaMethod, { type: 'ping', requestId: 1 });
  }, testTimeoutMs);

  it('forgets a peer that stops announcing', async () => {
    const trackedCount = async () => (await admin<{ tracker: { peers: number } }>(tracker, 'GET', '/v0/status')).tracker.peers;
    await waitUntil(async () => (await trackedCount()) === peers.length, 5_000, () => 'the tracker never knew every peer');
    const leaving = peers[peers.length - 1];
    const exited = new Promise<number | null>((resolve) => leaving.child.once('close', (code) => resolve(code)));
    leaving.child.kill('SIGTERM');
    // A clean stop: exit code 0, node.json removed, the leaving logged.
    expect(await exited).toBe(0);
    expect(existsSync(join(leaving.dataDir, 'node.json'))).toBe(false);
    expect(leaving.logs.some((line) => line.msg === 'node stopped')).toBe(true);
    await waitUntil(async () => (await trackedCount()) === peers.length - 1, trackerTtlSeconds * 1000 + 5_000, () => 'the tracker still lists the silent peer');
    expect(tracker.logs.some((line) => line.msg === 'tracker forgot a peer that stopped announcing' && String(line.contact).endsWith(leaving.nodeId))).toBe(true);
  }, testTimeoutMs);

  afterAll(() => stopAll());
});

describe('a swarm that meets by UDP multicast on loopback', () => {
  const multicast = `239.255.90.9:${randomInt(20_000, 60_000)}`;
  let peers: NodeProcess[];

  beforeAll(async () => {
    peers = await startMany(swarmSize, (index) => [join(root, `multicast-${index}`), ['--dht-only', '--cluster-dir', clusterDir, '--multicast', multicast, '--announce-interval', '1']]);
  }, testTimeoutMs);

  it('lets every peer find every other by lookup, and a provider record by all', async () => {
    await expectEveryPeerFindsEveryOther(peers);
    await expectProviderRecordFoundByAll(peers);
  }, testTimeoutMs);

  it('drops announcements from a peer whose certificate another CA issued, at every peer', async () => {
    const intruder = await startNodeProcess(join(root, 'multicast-intruder'), ['--dht-only', '--cluster-dir', foreignClusterDir, '--multicast', multicast, '--announce-interval', '1']);
    // Both ways: the members drop the intruder's announcements, and the intruder drops theirs (each side announces every second).
    await waitUntil(
      async () => peers.every((peer) => refusals(peer, 'ANNOUNCEMENT_FOREIGN_CA').length > 0) && refusals(intruder, 'ANNOUNCEMENT_FOREIGN_CA').length > 0,
      convergenceDeadlineMs,
      () => `${peers.filter((peer) => refusals(peer, 'ANNOUNCEMENT_FOREIGN_CA').length === 0).length} peers logged no dropped announcement; the intruder dropped ${refusals(intruder, 'ANNOUNCEMENT_FOREIGN_CA').length}`,
    );
    await expectIntruderNowhere(peers, intruder.nodeId);
  }, testTimeoutMs);

  afterAll(() => stopAll());
});
