/**
 * Three storage peers in one process, each with its own TLS transport on loopback and its
 * own SQLite database: the Raft core driven by real time, disk and network.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import type { PeerAddress } from '../../../src/net/index.js';
import { RaftPeer } from '../../../src/node/raft/raft-peer.js';
import { KvCommandError } from '../../../src/replication/leader/index.js';
import { RaftStore } from '../../../src/storage/index.js';
import { addressOf, eventually, makeCluster, makePeer, removeTemporaryDirectories, startTransport, temporaryDirectory } from '../../net/helpers.js';
import type { Identity } from '../../../src/p2p/identity/index.js';

afterAll(removeTemporaryDirectories);

interface Member {
  identity: Identity;
  transport: Awaited<ReturnType<typeof startTransport>>;
  dataDir: string;
  peer?: RaftPeer;
}

const running: Member[] = [];
afterEach(async () => {
  for (const member of running.splice(0)) {
    await member.peer?.stop();
    await member.transport.close();
  }
});

async function cluster(size: number): Promise<{ members: Member[]; addresses: Map<string, PeerAddress>; start: (member: Member, seed: number) => RaftPeer }> {
  const clusterDir = await makeCluster();
  const members: Member[] = [];
  for (let index = 0; index < size; index++) {
    const identity = await makePeer(clusterDir);
    const transport = await startTransport(identity);
    const member = { identity, transport, dataDir: temporaryDirectory('nines-raft-peer-') };
    members.push(member);
    running.push(member);
  }
  const addresses = new Map(members.map((member) => [member.identity.nodeId, addressOf(member.transport) as PeerAddress]));
  const voters = members.map((member) => member.identity.nodeId);
  const start = (member: Member, seed: number) => {
    const peer = new RaftPeer({
      id: member.identity.nodeId,
      store: RaftStore.open(join(member.dataDir, 'raft.sqlite')),
      transport: member.transport,
      addresses,
      foundingVoters: voters,
      rng: new Rng(seed),
      tickMs: 20,
      settings: { electionTicks: 10, heartbeatTicks: 1 },
      logger: member.transport.log,
    });
    member.peer = peer;
    peer.start();
    return peer;
  };
  return { members, addresses, start };
}

describe('RaftPeer: three peers over TLS with SQLite', () => {
  it('elects a leader, takes writes through any peer and serves every kind of read', async () => {
    const { members, start } = await cluster(3);
    const peers = members.map((member, index) => start(member, index + 1));
    await eventually(() => peers.some((peer) => peer.status().role === 'leader'), 5_000);
    const leader = peers.find((peer) => peer.status().role === 'leader')!;
    const follower = peers.find((peer) => peer !== leader)!;
    await eventually(() => follower.leader === leader.id, 5_000);

    const written = await follower.write({ op: 'put', key: 'psalm', value: '23' });
    expect(written.index).toBeGreaterThan(1);
    expect(written.result).toEqual({ op: 'put', previous: null });
    expect(await leader.read('psalm', 'linearizable')).toMatchObject({ value: '23' });
    expect(await follower.read('psalm', 'linearizable')).toMatchObject({ value: '23' });
    const third = peers.find((peer) => peer !== leader && peer !== follower)!;
    expect(await third.read('psalm', 'session', written.index)).toMatchObject({ value: '23' });

    const swapped = await leader.write({ op: 'cas', key: 'psalm', expected: '23', value: '91' }, 'all');
    expect(swapped.result).toEqual({ op: 'cas', succeeded: true, current: '91' });
    const refused = await third.write({ op: 'cas', key: 'psalm', expected: '23', value: '1' });
    expect(refused.result).toEqual({ op: 'cas', succeeded: false, current: '91' });
    const fast = await third.write({ op: 'delete', key: 'psalm' }, 'leader');
    expect(fast.result).toBeUndefined();
    expect(await third.read('psalm', 'session', fast.index)).toMatchObject({ value: null });
    await expect(third.write({ op: 'put', key: '', value: 'x' })).rejects.toThrow(KvCommandError);
  }, 30_000);

  it('elects a new leader when the leader stops, keeps every acknowledged write, and the old leader catches up from disk', async () => {
    const { members, start } = await cluster(3);
    const peers = members.map((member, index) => start(member, 10 + index));
    await eventually(() => peers.some((peer) => peer.status().role === 'leader'), 5_000);
    const oldLeader = peers.find((peer) => peer.status().role === 'leader')!;
    const acknowledged: number[] = [];
    let lastIndex = 0;
    for (let index = 0; index < 20; index++) {
      lastIndex = (await oldLeader.write({ op: 'put', key: `k${index}`, value: String(index) })).index;
      acknowledged.push(index);
    }
    const oldMember = members[peers.indexOf(oldLeader)];
    await oldLeader.stop();
    await oldMember.transport.close();
    const survivors = peers.filter((peer) => peer !== oldLeader);
    await eventually(() => survivors.some((peer) => peer.status().role === 'leader'), 5_000);
    const newLeader = survivors.find((peer) => peer.status().role === 'leader')!;
    for (const index of acknowledged) expect((await newLeader.read(`k${index}`, 'linearizable')).value).toBe(String(index));
    const after = await newLeader.write({ op: 'put', key: 'after', value: 'failover' });

    // The old leader restarts from its database, on a new transport at the same address book entry.
    const transport = await startTransport(oldMember.identity);
    running.push({ ...oldMember, transport });
    const addresses = new Map([...members.map((member) => [member.identity.nodeId, addressOf(member.transport) as PeerAddress] as const)]);
    addresses.set(oldMember.identity.nodeId, addressOf(transport) as PeerAddress);
    const restarted = new RaftPeer({
      id: oldMember.identity.nodeId,
      store: RaftStore.open(join(oldMember.dataDir, 'raft.sqlite')),
      transport,
      addresses,
      rng: new Rng(99),
      tickMs: 20,
      settings: { electionTicks: 10, heartbeatTicks: 1 },
      logger: transport.log,
    });
    running.at(-1)!.peer = restarted;
    restarted.start();
    // Its own database already holds the first 20 writes as committed: it applies them from disk.
    expect((await restarted.read('k19', 'session', lastIndex)).value).toBe('19');
    // The survivors still send to its old address, so it catches up only if it is reachable; it is, via its outbound connections.
    expect((await restarted.read('after', 'session', after.index)).value).toBe('failover');
  }, 30_000);
});
