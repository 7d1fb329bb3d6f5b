/**
 * The replicated store's metrics: Raft's term and indexes on a single-leader peer, and the
 * replication lag, hints and anti-entropy of the multi-leader and leaderless modes.
 */
import type { Registry } from 'prom-client';
import type { RaftStatus } from '../../replication/leader/index.js';
import type { LeaderlessStatus } from '../../replication/leaderless/index.js';
import type { MultiLeaderStatus } from '../../replication/multi-leader/index.js';
import { metricPeersMax } from './constants.js';
import { peerLabeller } from './labels.js';
import { snapshotCounter, snapshotGauge } from './snapshot-metrics.js';
import type { ReplicaStatus, SourceReader } from './sources.js';

const raftRoles: readonly RaftStatus['role'][] = ['follower', 'preCandidate', 'candidate', 'leader'];

export function registerRaftMetrics(registry: Registry, reader: SourceReader<RaftStatus>): void {
  const plain = (name: string, help: string, value: (status: RaftStatus) => number) =>
    snapshotGauge(registry, reader, { name, help }, (status, add) => add(value(status)));
  plain('raft_term', 'The current Raft term on this peer.', (status) => status.term);
  plain('raft_commit_index', 'The highest log index this peer knows to be committed.', (status) => status.commit);
  plain('raft_applied_index', 'The highest log index applied to this peer\'s state machine.', (status) => status.applied);
  plain('raft_last_index', 'The index of the last entry in this peer\'s log.', (status) => status.lastIndex);
  plain('raft_snapshot_index', 'The last index covered by this peer\'s snapshot.', (status) => status.snapshotIndex);
  plain('raft_apply_lag_entries', 'Committed entries this peer has not applied yet (commit index minus applied index).', (status) => status.commit - status.applied);
  plain('raft_is_leader', '1 if this peer is the Raft leader, else 0.', (status) => (status.role === 'leader' ? 1 : 0));
  plain('raft_leader_known', '1 if this peer knows who the leader of its term is, else 0.', (status) => (status.leader === undefined ? 0 : 1));
  plain('raft_voters', 'Voting members in this peer\'s view of the membership.', (status) => status.membership.voters.length);
  plain('raft_learners', 'Non-voting members (learners) in this peer\'s view of the membership.', (status) => status.membership.learners.length);
  snapshotGauge(registry, reader, { name: 'raft_role', help: 'This peer\'s Raft role: 1 for the current one, 0 for the others.', labelNames: ['role'] }, (status, add) => {
    for (const role of raftRoles) add(status.role === role ? 1 : 0, { role });
  });
  snapshotGauge(
    registry,
    reader,
    {
      name: 'raft_follower_lag_entries',
      help: `On the leader, how far each follower's match index is behind the leader's last index, in entries (peers past the first ${metricPeersMax} are summed under peer="other").`,
      labelNames: ['peer'],
    },
    (status, add) => {
      if (status.role !== 'leader') return;
      const followers = status.followers.filter((follower) => follower.peer !== status.id);
      const label = peerLabeller(followers.map((follower) => follower.peer), metricPeersMax);
      for (const follower of followers) add(Math.max(0, status.lastIndex - follower.match), { peer: label(follower.peer) });
    },
  );
}

function isMultiLeader(status: ReplicaStatus): status is MultiLeaderStatus {
  return 'ownSeq' in status;
}

function multiLeader(status: ReplicaStatus): MultiLeaderStatus | undefined {
  return isMultiLeader(status) ? status : undefined;
}

function leaderless(status: ReplicaStatus): LeaderlessStatus | undefined {
  return isMultiLeader(status) ? undefined : status;
}

/** Both modes' metrics are registered; a peer runs one mode, and the other mode's series stay empty. */
export function registerReplicaMetrics(registry: Registry, reader: SourceReader<ReplicaStatus>): void {
  snapshotGauge(
    registry,
    reader,
    { name: 'replica_peer_up', help: `Storage peers this peer's replication sees as up (1) or down (0); peers past the first ${metricPeersMax} are summed under peer="other".`, labelNames: ['peer'] },
    (status, add) => {
      const peers = isMultiLeader(status) ? status.peers : status.peers.filter((peer) => peer.id !== status.id);
      const label = peerLabeller(peers.map((peer) => peer.id), metricPeersMax);
      for (const peer of peers) add(peer.up ? 1 : 0, { peer: label(peer.id) });
    },
  );
  registerMultiLeaderMetrics(registry, reader);
  registerLeaderlessMetrics(registry, reader);
}

function registerMultiLeaderMetrics(registry: Registry, reader: SourceReader<ReplicaStatus>): void {
  const gauge = (name: string, help: string, value: (status: MultiLeaderStatus) => number) =>
    snapshotGauge(registry, reader, { name, help }, (status, add) => {
      const ours = multiLeader(status);
      if (ours !== undefined) add(value(ours));
    });
  gauge('replica_own_sequence', 'Multi-leader: the sequence number of this peer\'s latest own write.', (status) => status.ownSeq);
  gauge('replica_log_entries', 'Multi-leader: own writes kept until every peer has acknowledged them.', (status) => status.logEntries);
  const perPeer = (name: string, help: string, value: (peer: MultiLeaderStatus['peers'][number]) => number) =>
    snapshotGauge(registry, reader, { name, help: `${help} Peers past the first ${metricPeersMax} are summed under peer="other".`, labelNames: ['peer'] }, (status, add) => {
      const ours = multiLeader(status);
      if (ours === undefined) return;
      const label = peerLabeller(ours.peers.map((peer) => peer.id), metricPeersMax);
      for (const peer of ours.peers) add(value(peer), { peer: label(peer.id) });
    });
  perPeer('replica_lag_entries', 'Multi-leader replication lag: own writes each peer has not acknowledged yet.', (peer) => peer.entriesBehind);
  perPeer('replica_ticks_since_ack', 'Multi-leader: ticks since each peer last acknowledged this peer\'s writes.', (peer) => peer.ticksSinceAck);
}

function registerLeaderlessMetrics(registry: Registry, reader: SourceReader<ReplicaStatus>): void {
  const gauge = (name: string, help: string, value: (status: LeaderlessStatus) => number) =>
    snapshotGauge(registry, reader, { name, help }, (status, add) => {
      const ours = leaderless(status);
      if (ours !== undefined) add(value(ours));
    });
  const counter = (name: string, help: string, value: (status: LeaderlessStatus) => number) =>
    snapshotCounter(registry, reader, { name, help }, (status, add) => {
      const ours = leaderless(status);
      if (ours !== undefined) add(value(ours));
    });
  gauge('replica_keys', 'Leaderless: keys this peer holds a replica of.', (status) => status.keys);
  gauge('replica_hints_held', 'Leaderless: hinted-handoff writes held for peers that were down.', (status) => status.hintsHeld);
  gauge('replica_pending_requests', 'Leaderless: requests this peer coordinates that have not reached their quorum yet.', (status) => status.pendingRequests);
  gauge('anti_entropy_ranges_in_sync', 'Leaderless: key ranges whose latest Merkle-tree exchange found both replicas equal.', (status) => status.antiEntropy.rangesInSync);
  snapshotGauge(
    registry,
    reader,
    { name: 'replica_hints', help: `Leaderless: hinted-handoff writes held, by the peer they are for (peers past the first ${metricPeersMax} are summed under peer="other").`, labelNames: ['peer'] },
    (status, add) => {
      const ours = leaderless(status);
      if (ours === undefined) return;
      const owners = Object.keys(ours.hintsByOwner);
      const label = peerLabeller(owners, metricPeersMax);
      for (const owner of owners) add(ours.hintsByOwner[owner], { peer: label(owner) });
    },
  );
  counter('replica_read_repairs_total', 'Leaderless: stale replicas repaired by reads this peer coordinated.', (status) => status.readRepairs);
  counter('anti_entropy_bytes_sent_total', 'Leaderless: bytes of Merkle-tree exchanges this peer sent.', (status) => status.antiEntropy.bytesSent);
  counter('anti_entropy_keys_pushed_total', 'Leaderless: keys this peer pushed to a replica that lacked or had an older version.', (status) => status.antiEntropy.keysPushed);
  snapshotCounter(registry, reader, { name: 'anti_entropy_exchanges_total', help: 'Leaderless: Merkle-tree exchanges this peer started, completed and abandoned.', labelNames: ['result'] }, (status, add) => {
    const ours = leaderless(status);
    if (ours === undefined) return;
    add(ours.antiEntropy.exchangesStarted, { result: 'started' });
    add(ours.antiEntropy.exchangesCompleted, { result: 'completed' });
    add(ours.antiEntropy.exchangesAbandoned, { result: 'abandoned' });
  });
}
