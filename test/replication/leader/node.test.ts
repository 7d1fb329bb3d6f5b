import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import {
  bootstrapStoredState, CorruptStateError, encodeKvCommand, NotLeaderError, ProposalDroppedError, RaftNode, raftSettings, RaftSettingsError,
} from '../../../src/replication/leader/index.js';
import { Harness } from './harness.js';

let sequence = 0;
const put = (key: string, value: string) => encodeKvCommand({ op: 'put', key, value, client: 'test', sequence: ++sequence });

function electedCluster(ids = ['1', '2', '3'], settings = {}): Harness {
  const harness = new Harness(ids, settings);
  harness.peer(ids[0]).node.campaign();
  harness.stabilize();
  expect(harness.peer(ids[0]).node.role).toBe('leader');
  return harness;
}

describe('RaftNode settings', () => {
  it('asserts the relationships between settings at start', () => {
    expect(() => raftSettings({ heartbeatTicks: 10, electionTicks: 10 })).toThrow(/heartbeatTicks \(10\) must be less than electionTicks \(10\)/);
    expect(() => raftSettings({ proposalBytesMax: 100, uncommittedBytesMax: 50 })).toThrow(RaftSettingsError);
    expect(() => raftSettings({ appendEntriesMax: 0 })).toThrow(/appendEntriesMax must be a positive integer/);
  });
});

describe('RaftNode', () => {
  it('draws its election timeout from the injected RNG, in [electionTicks, 2 * electionTicks)', () => {
    const timeouts = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      const node = new RaftNode({ id: 'a', rng: new Rng(seed), stored: bootstrapStoredState(['a', 'b', 'c']), settings: { electionTicks: 10 } });
      let ticks = 0;
      while (node.role === 'follower' && ticks < 100) { node.tick(); ticks++; }
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(ticks).toBeLessThan(20);
      timeouts.add(ticks);
    }
    expect(timeouts.size).toBeGreaterThan(3);
  });

  it('acknowledges at each level only when its promise holds', () => {
    const harness = electedCluster();
    harness.partition([['1'], ['2', '3']]);
    const leader = harness.peer('1').node;
    leader.propose(put('k', 'l'), { proposalId: 'leader-ack', acks: 'leader' });
    leader.propose(put('k', 'q'), { proposalId: 'quorum-ack', acks: 'quorum' });
    // Nothing is acknowledged before the leader's own persistence (the Ready's advance).
    const ready = leader.ready();
    expect(ready.acknowledged).toEqual([]);
    expect(ready.entries.map((entry) => entry.index)).toEqual([3, 4]);
    harness.peer('1').store.entries.push(...ready.entries);
    leader.advance();
    expect(leader.ready().acknowledged.map((ack) => ack.proposalId)).toEqual(['leader-ack']);
    leader.advance();
    harness.stabilize();
    expect(harness.acknowledged).toEqual([]);
    harness.heal();
    leader.tick();
    harness.stabilize();
    expect(harness.acknowledged).toEqual(['1 ack quorum-ack at 4']);
  });

  it('reports pending proposals as abandoned when the leader steps down (check-quorum, dissertation §6.2)', () => {
    const harness = electedCluster(['1', '2', '3'], { electionTicks: 10 });
    harness.partition([['1'], ['2', '3']]);
    const leader = harness.peer('1').node;
    leader.propose(put('k', 'v'), { proposalId: 'p', acks: 'quorum' });
    harness.stabilize();
    // The votes that elected it count as contact for the first round, so it steps down at the second check.
    for (let tick = 0; tick < 10; tick++) leader.tick();
    expect(leader.role).toBe('leader');
    for (let tick = 0; tick < 10; tick++) leader.tick();
    expect(leader.role).toBe('follower');
    const ready = leader.ready();
    expect(ready.abandoned.map((abandoned) => abandoned.proposalId)).toEqual(['p']);
    leader.advance();
    expect(() => leader.propose(put('k', 'w'))).toThrow(NotLeaderError);
  });

  it('drops proposals beyond the uncommitted-entries limit with a typed error', () => {
    const harness = electedCluster(['1', '2', '3'], { uncommittedEntriesMax: 3 });
    harness.partition([['1'], ['2', '3']]);
    const leader = harness.peer('1').node;
    leader.propose(put('a', '1'));
    leader.propose(put('a', '2'));
    leader.propose(put('a', '3'));
    const error = (() => { try { leader.propose(put('a', '4')); } catch (caught) { return caught; } })();
    expect(error).toBeInstanceOf(ProposalDroppedError);
    expect((error as ProposalDroppedError).reason).toBe('uncommittedEntriesLimit');
  });

  it('recovers after a restart with everything it persisted, and refuses a tampered log', () => {
    const harness = electedCluster();
    harness.peer('1').node.propose(put('k', 'v'));
    harness.stabilize();
    harness.restart('2');
    harness.stabilize();
    expect(harness.peer('2').kv.get('k')).toBe('v');
    expect(harness.peer('2').node.status().commit).toBe(3);
    const store = harness.peer('3').store;
    const tampered = { ...store, entries: store.entries.map((entry, position) => (position === 1 ? { ...entry, term: entry.term + 1 } : entry)) };
    expect(() => new RaftNode({ id: '3', rng: new Rng(1), stored: tampered })).toThrow(CorruptStateError);
    expect(() => new RaftNode({ id: '3', rng: new Rng(1), stored: tampered })).toThrow(/index 2/);
  });

  it('hands out each Ready once and insists on advance() between them', () => {
    const harness = electedCluster();
    const leader = harness.peer('1').node;
    leader.propose(put('k', 'v'));
    leader.ready();
    expect(leader.hasReady()).toBe(false);
    expect(() => leader.ready()).toThrow(/before advance/);
    leader.advance();
    expect(() => leader.advance()).toThrow(/without a Ready/);
  });

  it('never lets a learner or a removed peer campaign', () => {
    const harness = electedCluster();
    harness.addPeer('4');
    harness.peer('1').node.proposeMembershipChange({ kind: 'addLearner', peer: '4' });
    harness.stabilize();
    expect(harness.peer('4').node.membership.learners).toEqual(['4']);
    for (let tick = 0; tick < 100; tick++) harness.peer('4').node.tick();
    harness.peer('4').node.campaign();
    expect(harness.peer('4').node.role).toBe('follower');
    expect(harness.peer('4').node.hasReady()).toBe(false);
  });

  it('refuses a read on a follower that knows no leader, so the shell can retry elsewhere', () => {
    const node = new RaftNode({ id: 'x', rng: new Rng(3), stored: bootstrapStoredState(['x', 'y', 'z']) });
    node.readIndex('r1');
    expect(node.ready().readRefusals).toEqual([{ requestId: 'r1', leaderHint: undefined }]);
  });

  it('lets a single-voter cluster commit on its own persistence', () => {
    const harness = electedCluster(['solo']);
    harness.peer('solo').node.propose(put('k', 'v'), { proposalId: 'p', acks: 'all' });
    harness.stabilize();
    expect(harness.acknowledged).toEqual(['solo ack p at 3']);
    expect(harness.peer('solo').kv.get('k')).toBe('v');
  });
});
