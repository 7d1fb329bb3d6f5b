import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import { isMulticastGroup, MulticastDiscovery } from '../../../src/p2p/discovery/index.js';
import type { Identity } from '../../../src/p2p/identity/index.js';
import { eventually, makeCluster, makePeer, memoryLogger, removeTemporaryDirectories } from '../../net/helpers.js';
import { FakeDht } from './fakes.js';

let alice: Identity;
let bob: Identity;
let foreigner: Identity;
const running: MulticastDiscovery[] = [];
const port = randomInt(20_000, 60_000);

function start(identity: Identity, trusting: Identity = identity) {
  const dht = new FakeDht();
  const logger = memoryLogger();
  const discovery = new MulticastDiscovery({
    group: '239.255.90.9',
    port,
    interfaceAddress: '127.0.0.1',
    announcer: { contact: { nodeId: identity.nodeId, host: '127.0.0.1', port: 4000 }, certificatePem: identity.certPem, keyPem: identity.keyPem },
    caPem: trusting.caPem,
    dht,
    logger,
    intervalMs: 50,
  });
  running.push(discovery);
  return { discovery, dht, logger };
}

beforeAll(async () => {
  const clusterDir = await makeCluster('lan');
  [alice, bob] = await Promise.all([makePeer(clusterDir), makePeer(clusterDir)]);
  foreigner = await makePeer(await makeCluster('elsewhere'));
});

afterEach(() => {
  for (const discovery of running.splice(0)) discovery.stop();
});

afterAll(removeTemporaryDirectories);

describe('multicast discovery on loopback', () => {
  it('lets two members find each other, and drops a foreign announcement with its reason logged once', async () => {
    const a = await Promise.resolve(start(alice));
    const b = start(bob);
    const outsider = start(foreigner);
    await Promise.all([a.discovery.start(), b.discovery.start(), outsider.discovery.start()]);
    await eventually(() => a.dht.offeredIds().has(bob.nodeId) && b.dht.offeredIds().has(alice.nodeId), 5_000);
    await eventually(() => (a.discovery.status().dropped.ANNOUNCEMENT_FOREIGN_CA ?? 0) >= 3, 5_000);
    expect(a.dht.offeredIds().has(foreigner.nodeId)).toBe(false);
    expect(a.dht.offeredIds().has(alice.nodeId)).toBe(false);
    const drops = a.logger.records.filter((record) => record.message === 'dropped multicast announcement');
    // Repeats of the same reason within dropLogIntervalMs are counted, not logged again.
    expect(drops).toHaveLength(1);
    expect(drops[0].fields).toMatchObject({ reason: 'ANNOUNCEMENT_FOREIGN_CA' });
    expect(outsider.dht.offers).toEqual([]);
    expect(a.discovery.status()).toMatchObject({ group: '239.255.90.9', port, interfaceAddress: '127.0.0.1' });
    expect(a.discovery.status().believed).toBeGreaterThan(0);
  });

  it('refuses a group that is not multicast, and a bad interface, before opening anything', () => {
    expect(isMulticastGroup('239.255.90.9')).toBe(true);
    expect(isMulticastGroup('192.168.1.1')).toBe(false);
    expect(() => new MulticastDiscovery({ ...baseOptions(), group: '10.0.0.1' })).toThrow(/not an IPv4 multicast group/);
    expect(() => new MulticastDiscovery({ ...baseOptions(), interfaceAddress: 'eth0' })).toThrow(/local IPv4 address/);
    expect(() => new MulticastDiscovery({ ...baseOptions(), port: 0 })).toThrow(/port must be from 1 to 65535/);
  });
});

function baseOptions() {
  return {
    group: '239.255.90.9',
    port,
    announcer: { contact: { nodeId: alice.nodeId, host: '127.0.0.1', port: 4000 }, certificatePem: alice.certPem, keyPem: alice.keyPem },
    caPem: alice.caPem,
    dht: new FakeDht(),
    logger: memoryLogger(),
  };
}
