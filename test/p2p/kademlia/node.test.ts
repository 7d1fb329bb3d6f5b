import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import type { Contact } from '../../../src/p2p/kademlia/contact.js';
import { KademliaInputError } from '../../../src/p2p/kademlia/errors.js';
import type { KademliaMessage } from '../../../src/p2p/kademlia/messages.js';
import { KademliaNode, type OutgoingMessage } from '../../../src/p2p/kademlia/node.js';
import type { KademliaSettings } from '../../../src/p2p/kademlia/settings.js';
import { contactOf, id } from './helpers.js';
import { fakeVerify } from './local-network.js';

const selfId = id('8');

function makeNode(overrides: Partial<KademliaSettings> = {}): KademliaNode {
  return new KademliaNode({ self: contactOf(selfId), rng: new Rng(9), verify: fakeVerify }, overrides);
}

/** Takes everything the node produced. */
function drain(node: KademliaNode): { messages: readonly OutgoingMessage[]; results: ReturnType<KademliaNode['ready']>['results'] } {
  const ready = node.ready();
  node.advance();
  return ready;
}

describe('KademliaNode: who enters the routing table', () => {
  it('bootstraps with a self-lookup and lets in only the peers that answered', () => {
    const node = makeNode();
    const bootstrapPeer = contactOf(id('1'));
    node.bootstrap([bootstrapPeer]);
    const sent = drain(node).messages;
    expect(sent).toHaveLength(1);
    expect(sent[0].message).toMatchObject({ type: 'findNode', target: selfId });
    expect(node.routingTableSize).toBe(0);

    // The bootstrap peer answers with two more contacts; only it enters the table.
    const learned = [contactOf(id('2')), contactOf(id('c'))];
    node.step(bootstrapPeer, { type: 'nodes', requestId: sent[0].message.requestId, contacts: learned });
    expect(node.contacts()).toEqual([bootstrapPeer]);
    const next = drain(node).messages;
    expect(next.map((message) => message.to.nodeId).sort()).toEqual([id('2'), id('c')]);

    // One of them answers, the other never does.
    const answering = next.find((message) => message.to.nodeId === id('c'))!;
    node.step(learned[1], { type: 'nodes', requestId: answering.message.requestId, contacts: [] });
    expect(node.contacts().map((contact) => contact.nodeId).sort()).toEqual([id('1'), id('c')]);
    for (let i = 0; i < node.settings.requestTimeoutTicks; i++) node.tick();
    expect(node.contacts().map((contact) => contact.nodeId)).not.toContain(id('2'));
    const results = drain(node).results;
    const bootstrap = results.find((result) => result.kind === 'bootstrap')!;
    expect(bootstrap.ok).toBe(true);
    expect(bootstrap.closest.map((contact) => contact.nodeId)).toEqual([id('c'), id('1')]);
    expect(bootstrap.failures).toBe(1);
  });

  it('verifies a stranger that asks something with a ping, and adds it only when the ping is answered', () => {
    const node = makeNode();
    const stranger = contactOf(id('3'));
    node.step(stranger, { type: 'findNode', requestId: 77, target: id('4') });
    const out = drain(node).messages;
    expect(out.find((message) => message.message.type === 'nodes')).toMatchObject({ to: stranger, message: { requestId: 77, contacts: [] } });
    const ping = out.find((message) => message.message.type === 'ping')!;
    expect(ping.to).toEqual(stranger);
    expect(node.routingTableSize).toBe(0);
    // A second request does not ping again while the first ping is out.
    node.step(stranger, { type: 'ping', requestId: 78 });
    expect(drain(node).messages.map((message) => message.message.type)).toEqual(['pong']);
    node.step(stranger, { type: 'pong', requestId: ping.message.requestId });
    expect(node.contacts()).toEqual([stranger]);
  });

  it('keeps a stranger out when its verification ping times out', () => {
    const node = makeNode();
    const stranger = contactOf(id('3'));
    node.step(stranger, { type: 'ping', requestId: 1 });
    drain(node);
    for (let i = 0; i < node.settings.requestTimeoutTicks; i++) node.tick();
    expect(node.routingTableSize).toBe(0);
    expect(node.stats.requestsTimedOut).toBe(1);
  });

  it('pings the oldest member of a full bucket, keeps it when it answers, evicts it when it does not', () => {
    for (const oldestAnswers of [true, false]) {
      const node = makeNode({ bucketSize: 2, alpha: 2, contactFreshTicks: 50 });
      // Two members of bucket 0 (ids starting 0-7), added through answered verification pings.
      const members = [contactOf(id('1')), contactOf(id('2'))];
      for (const member of members) {
        node.step(member, { type: 'ping', requestId: 1 });
        const ping = drain(node).messages.find((message) => message.message.type === 'ping')!;
        node.step(member, { type: 'pong', requestId: ping.message.requestId });
      }
      expect(node.contacts()).toEqual(members);
      for (let i = 0; i < 60; i++) node.tick();
      const newcomer = contactOf(id('3'));
      node.step(newcomer, { type: 'ping', requestId: 2 });
      const verify = drain(node).messages.find((message) => message.message.type === 'ping')!;
      node.step(newcomer, { type: 'pong', requestId: verify.message.requestId });
      const eviction = drain(node).messages;
      expect(eviction).toHaveLength(1);
      expect(eviction[0]).toMatchObject({ to: members[0], message: { type: 'ping' } });
      expect(node.contacts()).toEqual(members);
      if (oldestAnswers) {
        node.step(members[0], { type: 'pong', requestId: eviction[0].message.requestId });
        expect(node.contacts()).toEqual([members[1], members[0]]);
      } else {
        for (let i = 0; i < node.settings.requestTimeoutTicks; i++) node.tick();
        expect(node.contacts()).toEqual([members[1], newcomer]);
      }
    }
  });
});

describe('KademliaNode: messages from the network', () => {
  const peer = contactOf(id('5'));
  const goodContact = contactOf(id('6'));
  const malformed: [string, unknown, Contact?][] = [
    ['null', null],
    ['a string', 'findNode'],
    ['an array', []],
    ['no type', { requestId: 1 }],
    ['an unknown type', { type: 'store', requestId: 1 }],
    ['a missing request id', { type: 'ping' }],
    ['a negative request id', { type: 'ping', requestId: -1 }],
    ['a fractional request id', { type: 'ping', requestId: 1.5 }],
    ['a request id over 32 bits', { type: 'ping', requestId: 2 ** 32 }],
    ['an upper-case target', { type: 'findNode', requestId: 1, target: id('A') }],
    ['a short key', { type: 'getProviders', requestId: 1, key: 'abc' }],
    ['contacts that are not a list', { type: 'nodes', requestId: 1, contacts: 'none' }],
    ['more than k contacts', { type: 'nodes', requestId: 1, contacts: Array.from({ length: 21 }, () => goodContact) }],
    ['a contact with an extra field', { type: 'nodes', requestId: 1, contacts: [{ ...goodContact, extra: 'x'.repeat(1000) }] }],
    ['a contact on port 0', { type: 'nodes', requestId: 1, contacts: [{ ...goodContact, port: 0 }] }],
    ['a contact with a huge host', { type: 'nodes', requestId: 1, contacts: [{ ...goodContact, host: 'h'.repeat(300) }] }],
    ['a value over the size limit', { type: 'putValue', requestId: 1, record: { key: id('7'), value: new Uint8Array(1025), publicKey: new Uint8Array([1]), sequence: 0, signature: new Uint8Array([1]) } }],
    ['a negative sequence', { type: 'putValue', requestId: 1, record: { key: id('7'), value: new Uint8Array(1), publicKey: new Uint8Array([1]), sequence: -1, signature: new Uint8Array([1]) } }],
    ['a missing signature', { type: 'putValue', requestId: 1, record: { key: id('7'), value: new Uint8Array(1), publicKey: new Uint8Array([1]), sequence: 0 } }],
    ['an unknown refusal', { type: 'stored', requestId: 1, refusal: 'because' }],
    ['too many values', { type: 'values', requestId: 1, records: Array.from({ length: 9 }, () => ({ key: id('7'), value: new Uint8Array(1), publicKey: new Uint8Array([1]), sequence: 0, signature: new Uint8Array([1]) })), contacts: [] }],
    ['a malformed sender', { type: 'ping', requestId: 1 }, { nodeId: 'nope', host: 'h', port: 1 }],
    ['a sender claiming our own id', { type: 'ping', requestId: 1 }, contactOf(selfId)],
  ];

  it.each(malformed)('drops and counts %s, without output', (_name, message, from) => {
    const node = makeNode();
    expect(() => node.step(from ?? peer, message)).not.toThrow();
    expect(node.stats.malformedDropped).toBe(1);
    expect(node.stats.lastMalformed).toEqual(expect.any(String));
    expect(node.hasReady()).toBe(false);
    expect(node.routingTableSize).toBe(0);
  });

  it('drops answers to nothing we asked, from the wrong peer, or of the wrong type, and still takes the right one', () => {
    const node = makeNode();
    node.bootstrap([peer]);
    const request = drain(node).messages[0].message;
    node.step(peer, { type: 'nodes', requestId: request.requestId + 1, contacts: [] });
    node.step(goodContact, { type: 'nodes', requestId: request.requestId, contacts: [] });
    node.step(peer, { type: 'pong', requestId: request.requestId });
    expect(node.stats.unexpectedDropped).toBe(3);
    expect(node.routingTableSize).toBe(0);
    node.step(peer, { type: 'nodes', requestId: request.requestId, contacts: [] });
    expect(node.contacts()).toEqual([peer]);
    // A duplicate of the same answer is unexpected too.
    node.step(peer, { type: 'nodes', requestId: request.requestId, contacts: [] });
    expect(node.stats.unexpectedDropped).toBe(4);
  });

  it('refuses bad arguments from its own caller with a clear error', () => {
    const node = makeNode();
    expect(() => node.lookup('ABC')).toThrow(KademliaInputError);
    expect(() => node.lookup('ABC')).toThrow(/key: must be 40 lowercase hexadecimal characters/);
    expect(() => node.bootstrap([{ nodeId: id('1'), host: '', port: 1 }])).toThrow(/contacts\[0\]: contact.host/);
    expect(() => node.findProviders(id('1'), 0)).toThrow(/wanted/);
    expect(() => new KademliaNode({ self: contactOf(selfId), rng: new Rng(1), verify: fakeVerify }, { alpha: 30 })).toThrow(/alpha/);
    expect(() => new KademliaNode({ self: contactOf(selfId), rng: new Rng(1), verify: fakeVerify }, { republishIntervalTicks: 10, recordTtlTicks: 5 })).toThrow(/republishIntervalTicks/);
  });
});

describe('KademliaNode: lookups', () => {
  it('keeps at most alpha requests in flight, stops waiting for a silent peer after the stall time, and fails it at the timeout', () => {
    const node = makeNode();
    const seeds = ['1', '2', '3', '4', '5'].map((prefix) => contactOf(id(prefix)));
    node.bootstrap(seeds);
    const first = drain(node).messages;
    expect(first).toHaveLength(node.settings.alpha);
    // Nobody answers: once the first three have stalled, the last two are asked, long before the timeout.
    for (let i = 0; i < node.settings.lookupStallTicks - 1; i++) node.tick();
    expect(node.hasReady()).toBe(false);
    node.tick();
    const second = drain(node).messages;
    expect(second.map((message) => message.to.nodeId).sort()).toEqual([id('4'), id('5')]);
    // A stalled peer that answers after all is taken back: it enters the table and the result.
    const late = first[0];
    node.step(late.to, { type: 'nodes', requestId: late.message.requestId, contacts: [] });
    expect(node.contacts()).toEqual([late.to]);
    for (let i = 0; i < node.settings.requestTimeoutTicks; i++) node.tick();
    const results = drain(node).results;
    expect(results.filter((result) => result.kind === 'bootstrap')).toMatchObject([{ ok: true, failures: 4, requests: 5, closest: [late.to] }]);
    expect(node.stats.requestsTimedOut).toBe(4);
  });

  it('finishes a lookup with an empty table at once, and refuses operations beyond the cap', () => {
    const node = makeNode({ operationsInFlightMax: 1 });
    const lonely = node.lookup(id('1'));
    expect(drain(node).results).toMatchObject([{ operationId: lonely, ok: false, closest: [] }]);
    node.bootstrap([contactOf(id('1'))]);
    const refused = node.lookup(id('2'));
    expect(drain(node).results).toMatchObject([{ operationId: refused, ok: false, error: 'busy' }]);
  });

  it('ignores messages addressed to it that answer requests from before a restart', () => {
    const before = makeNode();
    before.bootstrap([contactOf(id('1'))]);
    const oldRequest = drain(before).messages[0].message;
    const after = new KademliaNode({ self: contactOf(selfId), rng: new Rng(10), verify: fakeVerify });
    after.step(contactOf(id('1')), { type: 'nodes', requestId: oldRequest.requestId, contacts: [] } satisfies KademliaMessage);
    expect(after.routingTableSize).toBe(0);
    expect(after.stats.unexpectedDropped).toBe(1);
  });
});

describe('KademliaNode: storing for others', () => {
  it('answers a store over the per-peer cap with a refusal, and keeps serving the records it took', () => {
    const node = makeNode({ recordsPerPeerMax: 2 });
    const provider = contactOf(id('5'));
    const refusals = ['a', 'b', 'c'].map((key, index) => {
      node.step(provider, { type: 'addProvider', requestId: index, key: id(key) });
      const stored = drain(node).messages.find((message) => message.message.type === 'stored')!;
      return (stored.message as { refusal: string | null }).refusal;
    });
    expect(refusals).toEqual([null, null, 'peer-full']);
    expect(node.storedProviders(id('a'))).toEqual([provider]);
    expect(node.storedProviders(id('c'))).toEqual([]);
    node.step(contactOf(id('6')), { type: 'getProviders', requestId: 9, key: id('b') });
    const answer = drain(node).messages.find((message) => message.message.type === 'providers')!;
    expect(answer.message).toMatchObject({ providers: [provider] });
  });
});
