import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from '../../../src/core/rng.js';
import { RpcRemoteError, Transport } from '../../../src/net/index.js';
import { bucketIndexOf, CertifiedMembers, certifiedVerifier, DhtShell, kademliaMethod, randomKey, routingTableBuckets, ValueSigner } from '../../../src/p2p/dht/index.js';
import { authenticatePeerCertificate, type Identity } from '../../../src/p2p/identity/index.js';
import { idToBytes, signedValueBytes, type Contact } from '../../../src/p2p/kademlia/index.js';
import { makeCluster, makePeer, memoryLogger, removeTemporaryDirectories } from '../../net/helpers.js';

interface Peer {
  identity: Identity;
  transport: Transport;
  dht: DhtShell;
  members: CertifiedMembers;
  logger: ReturnType<typeof memoryLogger>;
}

const peers: Peer[] = [];

async function startPeer(identity: Identity, seed: number): Promise<Peer> {
  const logger = memoryLogger();
  const members = new CertifiedMembers(1_000);
  members.add(identity.nodeId);
  const transport = new Transport({
    identity,
    logger,
    authenticatePeer: (certificate) => {
      const authentication = authenticatePeerCertificate(certificate);
      if (authentication.ok) members.add(authentication.nodeId);
      return authentication;
    },
  });
  const bound = await transport.listen('127.0.0.1', 0);
  const dht = new DhtShell({ transport, self: { nodeId: identity.nodeId, host: '127.0.0.1', port: bound.port }, keyPem: identity.keyPem, members, rng: new Rng(seed), logger });
  dht.start();
  const peer = { identity, transport, dht, members, logger };
  peers.push(peer);
  return peer;
}

let clusterDir: string;
let network: Peer[];

beforeAll(async () => {
  clusterDir = await makeCluster('dht');
  const identities = await Promise.all(Array.from({ length: 6 }, () => makePeer(clusterDir)));
  network = await Promise.all(identities.map((identity, index) => startPeer(identity, index + 1)));
  const first = network[0].dht.self;
  for (const peer of network.slice(1)) expect((await peer.dht.join([first])).ok).toBe(true);
});

afterAll(async () => {
  for (const peer of peers) peer.dht.stop();
  await Promise.all(peers.map((peer) => peer.transport.close()));
  removeTemporaryDirectories();
});

describe('the DHT shell over the TLS transport', () => {
  it('finds every peer by lookup after joining through one', async () => {
    for (const peer of network) {
      for (const other of network) {
        if (other === peer) continue;
        const result = await peer.dht.lookup(other.identity.nodeId);
        expect(result.closest[0]?.nodeId).toBe(other.identity.nodeId);
      }
    }
  });

  it('stores a provider record that every peer then finds', async () => {
    const key = randomKey();
    const provided = await network[2].dht.provide(key);
    expect(provided.ok).toBe(true);
    for (const peer of network) {
      const found = await peer.dht.findProviders(key);
      expect(found.providers.map((provider) => provider.nodeId)).toContain(network[2].identity.nodeId);
    }
  });

  it("signs values with the peer's real key; others believe them only from certified members", async () => {
    const key = randomKey();
    const put = await network[1].dht.putValue(key, new TextEncoder().encode('model nines-kjv'), 1);
    expect(put.ok).toBe(true);
    const got = await network[4].dht.getValue(key);
    expect(got.values.map((value) => new TextDecoder().decode(value.value))).toEqual(['model nines-kjv']);
  });

  it('gathers contacts offered by discovery into one join, and skips those offered recently', async () => {
    const newcomer = await startPeer(await makePeer(clusterDir), 77);
    const [first, second] = [network.slice(0, 3), network.slice(3)].map((group) => group.map((peer) => peer.dht.self));
    const offers = [newcomer.dht.offerContacts(first), newcomer.dht.offerContacts(second)];
    const [a, b] = await Promise.all(offers);
    expect(a).toBeDefined();
    expect(b).toBe(a);
    expect(a!.kind).toBe('bootstrap');
    for (const peer of network) expect(newcomer.dht.hasContact(peer.identity.nodeId)).toBe(true);
    expect(await newcomer.dht.offerContacts([...first, ...second])).toBeUndefined();
  });

  it('answers a malformed Kademlia request with an error and keeps the connection', async () => {
    const [a, b] = network;
    const address = { host: '127.0.0.1', port: b.dht.self.port, nodeId: b.identity.nodeId };
    const error = await a.transport.request(address, kademliaMethod, { type: 'findNode', requestId: 1, target: 'not an id' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RpcRemoteError);
    expect((error as RpcRemoteError).remoteCode).toBe('KADEMLIA_MESSAGE_INVALID');
    const answer = await a.transport.request(address, kademliaMethod, { type: 'pong', requestId: 2 }).catch((caught: unknown) => caught);
    expect((answer as RpcRemoteError).remoteCode).toBe('KADEMLIA_MESSAGE_INVALID');
    expect(await a.transport.request(address, kademliaMethod, { type: 'ping', requestId: 3 })).toEqual({ type: 'pong', requestId: 3 });
    expect(b.logger.records.some((record) => record.message === 'refused a malformed kademlia request')).toBe(true);
  });

  it('shows the routing table bucket by bucket with last-seen times', () => {
    const peer = network[0];
    const buckets = peer.dht.routingTable();
    const contacts = buckets.flatMap((bucket) => bucket.contacts);
    expect(contacts.length).toBe(peer.dht.node.routingTableSize);
    for (const bucket of buckets) for (const contact of bucket.contacts) expect(bucketIndexOf(peer.identity.nodeId, contact.nodeId)).toBe(bucket.index);
    expect(buckets.map((bucket) => bucket.index)).toEqual([...buckets.map((bucket) => bucket.index)].sort((x, y) => x - y));
    expect(contacts.every((contact) => contact.lastSeenMs !== null && contact.lastSeenMs <= Date.now())).toBe(true);
  });

  it('rejects keys that are not 160-bit hex ids with a clear error', async () => {
    await expect(network[0].dht.lookup('xyz')).rejects.toThrow(/40 lowercase hexadecimal characters/);
  });
});

describe('value signatures', () => {
  it('are believed only when valid and made by the key of a certified member', async () => {
    const member = await makePeer(clusterDir);
    const outsider = await makePeer(await makeCluster('elsewhere'));
    const members = new CertifiedMembers(10);
    members.add(member.nodeId);
    const verify = certifiedVerifier(members);
    const bytes = signedValueBytes(randomKey(), 1, new Uint8Array([1, 2, 3]));
    const signer = new ValueSigner(member.keyPem);
    const signature = signer.sign(bytes);
    expect(verify(signer.publicKeyDer, bytes, signature)).toBe(true);
    const tampered = Uint8Array.from(bytes);
    tampered[tampered.length - 1] ^= 1;
    expect(verify(signer.publicKeyDer, tampered, signature)).toBe(false);
    // A valid signature by a key the CA never certified for a member we know is refused.
    const stranger = new ValueSigner(outsider.keyPem);
    expect(verify(stranger.publicKeyDer, bytes, stranger.sign(bytes))).toBe(false);
    members.add(outsider.nodeId);
    expect(verify(stranger.publicKeyDer, bytes, stranger.sign(bytes))).toBe(true);
  });

  it('forget the oldest member beyond their limit', () => {
    const members = new CertifiedMembers(2);
    for (const id of ['a', 'b', 'c']) members.add(id.repeat(40));
    expect([members.has('a'.repeat(40)), members.has('b'.repeat(40)), members.has('c'.repeat(40))]).toEqual([false, true, true]);
  });
});

describe('bucket indexes', () => {
  it('are the common prefix length in bits, against a bit-by-bit reference', () => {
    const id = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => Buffer.from(bytes).toString('hex'));
    fc.assert(
      fc.property(id, id, (self, other) => {
        const a = idToBytes(self);
        const b = idToBytes(other);
        let prefix = 0;
        while (prefix < 160 && ((a[prefix >> 3] >> (7 - (prefix & 7))) & 1) === ((b[prefix >> 3] >> (7 - (prefix & 7))) & 1)) prefix++;
        return bucketIndexOf(self, other) === prefix;
      }),
    );
    const self = 'f'.repeat(40);
    const contacts: Contact[] = [{ nodeId: '0'.repeat(40), host: 'h', port: 1 }, { nodeId: 'e' + 'f'.repeat(39), host: 'h', port: 2 }];
    expect(routingTableBuckets(self, contacts, () => undefined)).toEqual([
      { index: 0, contacts: [{ nodeId: '0'.repeat(40), host: 'h', port: 1, lastSeenMs: null }] },
      { index: 3, contacts: [{ nodeId: 'e' + 'f'.repeat(39), host: 'h', port: 2, lastSeenMs: null }] },
    ]);
  });
});
