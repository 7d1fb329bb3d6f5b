import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { LeaderlessNode, leaderlessMessageProblem, pendingRequestsMax, type KvReply } from '../../../src/replication/leaderless/index.js';
import { keyBytesMax, valueBytesMax } from '../../../src/replication/leader/index.js';
import { applyWrite, registersEqual, registerView } from '../../../src/replication/versions/index.js';
import { Cluster, values } from './harness.js';

const five = ['a', 'b', 'c', 'd', 'e'];

function failure(reply: KvReply | undefined): Extract<KvReply, { ok: false }> {
  if (reply === undefined || reply.ok) throw new Error(`expected a failed reply, got ${JSON.stringify(reply)}`);
  return reply;
}

describe('LeaderlessNode: coordinator and replicas', () => {
  it('writes to the n replicas, answers after w fsynced acknowledgements, and reads back the value', () => {
    const cluster = new Cluster(five);
    const key = cluster.keyWhere(() => true);
    const owners = cluster.node('a').preferenceList(key);
    const put = cluster.request(owners[0], { kind: 'put', requestId: 'p1', key, value: 'hello' });
    expect(put?.ok).toBe(true);
    if (put?.ok === true) expect(put.replicas[0]).toBe(owners[0]);
    for (const owner of owners) expect(registerView(cluster.node(owner).localState(key)!).values).toEqual(['hello']);
    for (const peer of five.filter((peer) => !owners.includes(peer))) expect(cluster.node(peer).localState(key)).toBeUndefined();
    // Any peer coordinates a get, replicas or not.
    for (const peer of five) expect(values(cluster.request(peer, { kind: 'get', requestId: `g-${peer}`, key }))).toEqual(['hello']);
  });

  it('a per-request n reaches only that many replicas now (the coordinator first); n above the cluster\'s is refused', () => {
    const cluster = new Cluster(five);
    const key = cluster.keyWhere(() => true);
    const owners = cluster.node('a').preferenceList(key);
    const put = cluster.request(owners[1], { kind: 'put', requestId: 'p1', key, value: 'one copy', n: 1, w: 1 });
    expect(put).toMatchObject({ ok: true, replicas: [owners[1]] });
    expect(owners.filter((owner) => cluster.node(owner).localState(key) !== undefined)).toEqual([owners[1]]);
    expect(values(cluster.request(owners[1], { kind: 'get', requestId: 'g1', key, n: 1, r: 1 }))).toEqual(['one copy']);
    expect(failure(cluster.request(owners[0], { kind: 'get', requestId: 'g2', key, n: 4 })).message).toMatch(/n must be between 1 and the cluster's n \(3\)/);
    expect(failure(cluster.request(owners[0], { kind: 'get', requestId: 'g3', key, n: 2, r: 3 })).message).toMatch(/r must be between 1 and n \(2\)/);
  });

  it('sends a replica acknowledgement only in the ready that persists the state it acknowledges', () => {
    const cluster = new Cluster(five);
    const key = cluster.keyWhere(() => true);
    const owners = cluster.node('a').preferenceList(key);
    cluster.request(owners[0], { kind: 'put', requestId: 'p1', key, value: 'v' });
    for (const { peer, ready } of cluster.readies) {
      for (const { message } of ready.messages) {
        if (message.type === 'write-ack' && message.stored) expect(ready.statesToPersist.map((item) => item.key)).toContain(key);
      }
      // The coordinator's own reply is in the ready that persists its own write.
      if (ready.replies.some((reply) => reply.ok && reply.kind === 'put')) expect(peer).toBe(owners[0]);
    }
    const coordinatorReady = cluster.readies.find(({ ready }) => ready.messages.some((item) => item.message.type === 'write'))!;
    expect(coordinatorReady.ready.statesToPersist.map((item) => item.key)).toEqual([key]);
  });

  it('keeps concurrent writes as siblings and resolves them with the next write that carries their context', () => {
    const cluster = new Cluster(five);
    const key = cluster.keyWhere(() => true);
    const [first, second] = cluster.node('a').preferenceList(key);
    cluster.request(first, { kind: 'put', requestId: 'p1', key, value: 'x', context: {} });
    cluster.request(second, { kind: 'put', requestId: 'p2', key, value: 'y', context: {} });
    const read = cluster.request('a', { kind: 'get', requestId: 'g1', key, r: 3 });
    expect(values(read)).toEqual(['x', 'y']);
    const context = read?.ok === true ? read.state.clock : {};
    cluster.request(second, { kind: 'put', requestId: 'p3', key, value: 'z', context });
    expect(values(cluster.request('b', { kind: 'get', requestId: 'g2', key, r: 3 }))).toEqual(['z']);
  });

  it('supersedes what the coordinator has seen when a put carries no context', () => {
    const cluster = new Cluster(five);
    const key = cluster.keyWhere(() => true);
    const [first] = cluster.node('a').preferenceList(key);
    cluster.request(first, { kind: 'put', requestId: 'p1', key, value: 'x', context: {} });
    cluster.request(first, { kind: 'put', requestId: 'p2', key, value: 'y' });
    expect(values(cluster.request('a', { kind: 'get', requestId: 'g', key, r: 3 }))).toEqual(['y']);
  });

  it('resolves last-writer-wins keys to the latest write by hybrid logical clock', () => {
    const cluster = new Cluster(five);
    const key = cluster.keyWhere(() => true);
    const [first, second] = cluster.node('a').preferenceList(key);
    cluster.request(first, { kind: 'put', requestId: 'p1', key, value: 'old', context: {}, lastWriterWins: true });
    cluster.nowMs += 500;
    cluster.request(second, { kind: 'put', requestId: 'p2', key, value: 'new', context: {}, lastWriterWins: true });
    const read = cluster.request('c', { kind: 'get', requestId: 'g', key, r: 3 });
    expect(read?.ok === true && registerView(read.state).values).toEqual(['new']);
  });

  it('forwards a put that reached a peer which is not a replica, and relays the answer', () => {
    const cluster = new Cluster(five);
    const key = cluster.keyWhere((owners) => !owners.includes('a'));
    const reply = cluster.request('a', { kind: 'put', requestId: 'p1', key, value: 'v' });
    expect(reply?.ok).toBe(true);
    expect(cluster.node('a').localState(key)).toBeUndefined();
    if (reply?.ok === true) expect(cluster.node('a').preferenceList(key)).toContain(reply.replicas[0]);
  });

  it('refuses at once with KV_UNAVAILABLE when fewer replicas are reachable than needed, saying how many', () => {
    const cluster = new Cluster(five, { sloppyQuorum: false });
    const key = cluster.keyWhere(() => true);
    const [first, second, third] = cluster.node('a').preferenceList(key);
    cluster.markUp(second, false);
    cluster.markUp(third, false);
    const put = failure(cluster.request(first, { kind: 'put', requestId: 'p1', key, value: 'v', w: 2 }));
    expect(put).toMatchObject({ code: 'KV_UNAVAILABLE', answered: 1, needed: 2 });
    expect(put.message).toMatch(/only 1 of the key's replicas are reachable, and w=2 are needed/);
    expect(failure(cluster.request(first, { kind: 'get', requestId: 'g1', key, r: 3 }))).toMatchObject({ code: 'KV_UNAVAILABLE', answered: 1, needed: 3 });
    // w=1 still works: the coordinator's own fsynced write is enough.
    expect(cluster.request(first, { kind: 'put', requestId: 'p2', key, value: 'v', w: 1 })?.ok).toBe(true);
  });

  it('fails with KV_TIMEOUT when the replicas believed up do not answer in time', () => {
    const cluster = new Cluster(five, { requestTimeoutTicks: 5 });
    const key = cluster.keyWhere(() => true);
    const [first, second, third] = cluster.node('a').preferenceList(key);
    cluster.unreachable.add(second);
    cluster.unreachable.add(third);
    expect(cluster.request(first, { kind: 'put', requestId: 'p1', key, value: 'v', w: 2 })).toBeUndefined();
    cluster.tick(5);
    expect(failure(cluster.replies.get('p1'))).toMatchObject({ code: 'KV_TIMEOUT', answered: 1, needed: 2 });
    expect(cluster.node(first).status().pendingRequests).toBe(0);
  });

  it('refuses invalid requests with KV_COMMAND_INVALID and the reason', () => {
    const cluster = new Cluster(five);
    const key = cluster.keyWhere((owners) => owners[0] === 'a');
    expect(failure(cluster.request('a', { kind: 'put', requestId: 'p1', key: 'k'.repeat(keyBytesMax + 1), value: 'v' })).message).toMatch(/keyBytesMax/);
    expect(failure(cluster.request('a', { kind: 'put', requestId: 'p2', key, value: 'v'.repeat(valueBytesMax + 1) })).message).toMatch(/valueBytesMax/);
    expect(failure(cluster.request('a', { kind: 'get', requestId: 'g1', key, r: 4 }))).toMatchObject({ code: 'KV_COMMAND_INVALID' });
    expect(failure(cluster.request('a', { kind: 'get', requestId: 'g2', key, r: 0 })).message).toMatch(/r must be between 1 and n \(3\)/);
    expect(failure(cluster.request('a', { kind: 'put', requestId: 'p3', key, value: 'v', context: { a: -1 } })).code).toBe('KV_COMMAND_INVALID');
    expect(failure(cluster.request('a', { kind: 'put', requestId: 'p4', key: '', value: 'v' })).code).toBe('KV_COMMAND_INVALID');
  });

  it('refuses with KV_TOO_MANY_SIBLINGS when a client never resolves its siblings', () => {
    const cluster = new Cluster(five);
    const key = cluster.keyWhere((owners) => owners[0] === 'a');
    let last: KvReply | undefined;
    for (let index = 0; index < 70 && (last === undefined || last.ok); index++) last = cluster.request('a', { kind: 'put', requestId: `p${index}`, key, value: `${index}`, context: {}, w: 1 });
    expect(failure(last)).toMatchObject({ code: 'KV_TOO_MANY_SIBLINGS' });
  });

  it('refuses new requests with KV_UNAVAILABLE once pendingRequestsMax are in flight', () => {
    const cluster = new Cluster(five);
    const node = cluster.node('a');
    const key = cluster.keyWhere((owners) => owners[0] === 'a');
    // Nothing is delivered: every get waits for its second answer.
    for (let index = 0; index < pendingRequestsMax; index++) node.request({ kind: 'get', requestId: `g${index}`, key }, 0);
    node.request({ kind: 'get', requestId: 'one-more', key }, 0);
    expect(node.status().pendingRequests).toBe(pendingRequestsMax);
    const replies = node.ready().replies;
    expect(replies).toHaveLength(1);
    expect(failure(replies[0])).toMatchObject({ code: 'KV_UNAVAILABLE' });
    expect(failure(replies[0]).message).toMatch(/pendingRequestsMax/);
  });
});

describe('LeaderlessNode: sloppy quorum, hinted handoff, read repair, anti-entropy', () => {
  it('lets the next healthy peer keep a hint for a down replica, and hands it over when the owner is back', () => {
    const cluster = new Cluster(five, { handoffIntervalTicks: 3 });
    const key = cluster.keyWhere(() => true);
    const owners = cluster.node('a').preferenceList(key);
    const down = owners[2];
    cluster.unreachable.add(down);
    cluster.markUp(down, false);
    expect(cluster.request(owners[0], { kind: 'put', requestId: 'p1', key, value: 'v', w: 3 })?.ok).toBe(true);
    const standIn = five.find((peer) => cluster.node(peer).status().hintsHeld === 1)!;
    expect(owners).not.toContain(standIn);
    expect(cluster.node(standIn).status().hintsByOwner).toEqual({ [down]: 1 });
    expect(cluster.disks.get(standIn)!.hints.size).toBe(1);
    // Not handed over while the owner is down, however long it takes.
    cluster.tick(10);
    expect(cluster.node(standIn).status().hintsHeld).toBe(1);
    cluster.unreachable.delete(down);
    cluster.markUp(down, true);
    cluster.tick(3);
    expect(registerView(cluster.node(down).localState(key)!).values).toEqual(['v']);
    expect(cluster.node(standIn).status().hintsHeld).toBe(0);
    expect(cluster.disks.get(standIn)!.hints.size).toBe(0);
  });

  it('keeps a hint when a newer write reached the stand-in while the handoff was in flight', () => {
    const cluster = new Cluster(five, { handoffIntervalTicks: 1 });
    const key = cluster.keyWhere(() => true);
    const owners = cluster.node('a').preferenceList(key);
    cluster.markUp(owners[2], false);
    cluster.request(owners[0], { kind: 'put', requestId: 'p1', key, value: 'v1', w: 3 });
    const standIn = five.find((peer) => cluster.node(peer).status().hintsHeld === 1)!;
    cluster.markUp(owners[2], true);
    cluster.node(standIn).tick();
    cluster.flush(standIn);
    // The handoff is in flight; before it arrives a newer write for the down owner reaches the stand-in.
    const handoff = cluster.queue.filter((envelope) => envelope.message.type === 'handoff');
    cluster.queue = cluster.queue.filter((envelope) => envelope.message.type !== 'handoff');
    expect(handoff).toHaveLength(1);
    const current = cluster.node(owners[0]).localState(key)!;
    const newer = applyWrite(current, { node: owners[0], context: current.clock, value: 'v2', timestamp: { wallMs: 5_000, logical: 0, node: owners[0] }, lastWriterWins: false, key }).state;
    cluster.node(standIn).step(owners[0], { type: 'write', requestId: 'x', key, state: newer, hintFor: owners[2], ackWanted: false }, 0);
    cluster.flush(standIn);
    cluster.queue.push(...handoff);
    cluster.deliverAll();
    expect(cluster.node(standIn).status().hintsHeld).toBe(1);
    cluster.tick(2);
    expect(cluster.node(standIn).status().hintsHeld).toBe(0);
    expect(registerView(cluster.node(owners[2]).localState(key)!).values).toEqual(['v2']);
  });

  it('repairs replicas a read found stale or empty, and counts the repairs', () => {
    const cluster = new Cluster(five, { antiEntropy: { exchangeIntervalTicks: 1_000_000 } });
    const key = cluster.keyWhere(() => true);
    const owners = cluster.node('a').preferenceList(key);
    cluster.unreachable.add(owners[2]);
    cluster.request(owners[0], { kind: 'put', requestId: 'p1', key, value: 'v', w: 2 });
    cluster.unreachable.delete(owners[2]);
    cluster.tick(50);
    expect(cluster.node(owners[2]).localState(key)).toBeUndefined();
    expect(values(cluster.request('a', { kind: 'get', requestId: 'g1', key, r: 1 }))).toEqual(['v']);
    expect(registerView(cluster.node(owners[2]).localState(key)!).values).toEqual(['v']);
    expect(cluster.node('a').status().readRepairs).toBe(1);
    expect(cluster.request('b', { kind: 'get', requestId: 'g2', key, r: 3 })?.ok).toBe(true);
    expect(cluster.node('b').status().readRepairs).toBe(0);
  });

  it('converges diverged replicas through anti-entropy without any read', () => {
    const cluster = new Cluster(five, { readRepair: false, antiEntropy: { exchangeIntervalTicks: 2, treeDepth: 3 } });
    const keys = Array.from({ length: 30 }, (_, index) => `ae-${index}`);
    for (const key of keys) {
      const owners = cluster.node('a').preferenceList(key);
      cluster.unreachable.add(owners[1]);
      cluster.unreachable.add(owners[2]);
      cluster.request(owners[0], { kind: 'put', requestId: `p-${key}`, key, value: key, w: 1 });
      cluster.unreachable.clear();
    }
    cluster.tick(300);
    for (const key of keys) {
      const [first, ...rest] = cluster.node('a').preferenceList(key).map((peer) => cluster.node(peer).localState(key));
      expect(first).toBeDefined();
      for (const state of rest) expect(state !== undefined && registersEqual(state, first!)).toBe(true);
    }
    expect(five.reduce((total, peer) => total + cluster.node(peer).status().antiEntropy.exchangesCompleted, 0)).toBeGreaterThan(0);
  });
});

describe('LeaderlessNode: membership, restarts, validation', () => {
  it('hands keys a peer no longer owns to their new owners when a peer joins, and moves only those', () => {
    const cluster = new Cluster(['a', 'b', 'c', 'd'], { n: 2, handoffIntervalTicks: 2, antiEntropy: { exchangeIntervalTicks: 1_000_000 } });
    const keys = Array.from({ length: 60 }, (_, index) => `m-${index}`);
    for (const key of keys) cluster.request(cluster.node('a').preferenceList(key)[0], { kind: 'put', requestId: `p-${key}`, key, value: key, w: 2 });
    const before = new Map(keys.map((key) => [key, cluster.node('a').preferenceList(key)]));
    const peers = ['a', 'b', 'c', 'd', 'e'];
    cluster.disks.set('e', { states: new Map(), hints: new Map() });
    cluster.nodes.set('e', new LeaderlessNode({ id: 'e', peers, settings: cluster.settings, rng: new Rng(9) }));
    for (const peer of ['a', 'b', 'c', 'd']) cluster.node(peer).setPeers(peers);
    cluster.tick(4);
    let moved = 0;
    for (const key of keys) {
      const after = cluster.node('a').preferenceList(key);
      if (after.includes('e')) {
        moved++;
        expect(before.get(key)).not.toEqual(after);
        expect(registerView(cluster.node('e').localState(key)!).values).toEqual([key]);
      } else {
        expect(after).toEqual(before.get(key));
      }
    }
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(keys.length);
    expect(cluster.node('e').status().keys).toBe(moved);
  });

  it('hands every key of a decommissioned peer to the remaining owners', () => {
    const cluster = new Cluster(['a', 'b', 'c', 'd', 'e'], { n: 2, handoffIntervalTicks: 2, antiEntropy: { exchangeIntervalTicks: 1_000_000 } });
    const keys = Array.from({ length: 40 }, (_, index) => `d-${index}`);
    for (const key of keys) cluster.request(cluster.node('a').preferenceList(key)[0], { kind: 'put', requestId: `p-${key}`, key, value: key, w: 2 });
    const held = keys.filter((key) => cluster.node('e').localState(key) !== undefined);
    expect(held.length).toBeGreaterThan(0);
    const remaining = ['a', 'b', 'c', 'd'];
    for (const peer of [...remaining, 'e']) cluster.node(peer).setPeers(remaining);
    expect(cluster.node('e').preferenceList(held[0])).not.toContain('e');
    cluster.tick(4);
    for (const key of keys) {
      for (const owner of cluster.node('a').preferenceList(key)) expect(registerView(cluster.node(owner).localState(key)!).values).toEqual([key]);
    }
  });

  it('restarts from persisted states and hints, and hands over the hints it restored', () => {
    const cluster = new Cluster(five, { handoffIntervalTicks: 2 });
    const key = cluster.keyWhere(() => true);
    const owners = cluster.node('a').preferenceList(key);
    cluster.unreachable.add(owners[1]);
    cluster.markUp(owners[1], false);
    cluster.request(owners[0], { kind: 'put', requestId: 'p1', key, value: 'kept', w: 3 });
    const standIn = five.find((peer) => cluster.node(peer).status().hintsHeld === 1)!;
    cluster.restart(standIn);
    cluster.restart(owners[0]);
    expect(cluster.node(standIn).status().hintsHeld).toBe(1);
    expect(registerView(cluster.node(owners[0]).localState(key)!).values).toEqual(['kept']);
    cluster.unreachable.delete(owners[1]);
    cluster.tick(2);
    expect(registerView(cluster.node(owners[1]).localState(key)!).values).toEqual(['kept']);
    // The restarted coordinator never mints a dot twice: its next write gets the next counter.
    const reply = cluster.request(owners[0], { kind: 'put', requestId: 'p2', key, value: 'next' });
    expect(reply?.ok === true && reply.state.clock[owners[0]]).toBe(2);
  });

  it('refuses malformed network messages with the reason, and ignores them in step', () => {
    expect(leaderlessMessageProblem(null)).toMatch(/must be an object/);
    expect(leaderlessMessageProblem({ type: 'nope' })).toMatch(/unknown leaderless message type/);
    expect(leaderlessMessageProblem({ type: 'write', requestId: 'r', key: 'k', state: { clock: {}, siblings: 'x' }, hintFor: null, ackWanted: true })).toMatch(/siblings/);
    expect(leaderlessMessageProblem({ type: 'write-ack', requestId: 'r', key: 'k' })).toMatch(/stored/);
    expect(leaderlessMessageProblem({ type: 'read', requestId: 7, key: 'k', hintFor: null })).toMatch(/requestId must be a string/);
    expect(leaderlessMessageProblem({ type: 'ae-push', states: [] })).toMatch(/1 to/);
    expect(leaderlessMessageProblem({ type: 'read', requestId: 'r', key: 'k', hintFor: null })).toBeUndefined();
    const node = new LeaderlessNode({ id: 'a', peers: five, rng: new Rng(1) });
    node.step('b', { type: 'write', requestId: 'r', key: 'k', state: { clock: {}, siblings: 'x' }, hintFor: null, ackWanted: true } as never, 0);
    node.step('stranger', { type: 'read', requestId: 'r', key: 'k', hintFor: null }, 0);
    expect(node.hasReady()).toBe(false);
  });
});
