/**
 * The follower's rules: accept AppendEntries, heartbeats and snapshots from the leader of the
 * current term (Raft §5.3, §7), start an election on TimeoutNow, and pass linearizable reads on
 * to the leader.
 */
import { assert } from '../../core/assert.js';
import type { Raft } from './core.js';
import { campaign } from './election.js';
import type { AppendRequest, Heartbeat, RaftMessage, ReadIndexResponse, SnapshotRequest } from './messages.js';

export function stepFollower(raft: Raft, message: RaftMessage): void {
  switch (message.type) {
    case 'append':
      raft.electionElapsed = 0;
      raft.lead = message.from;
      return handleAppend(raft, message);
    case 'heartbeat':
      raft.electionElapsed = 0;
      raft.lead = message.from;
      return handleHeartbeat(raft, message);
    case 'snapshot':
      raft.electionElapsed = 0;
      raft.lead = message.from;
      return handleSnapshot(raft, message);
    case 'timeoutNow':
      // Dissertation §3.10: the leader asks this peer to start an election at once, skipping pre-vote.
      if (raft.promotable()) campaign(raft, 'transfer');
      return;
    case 'readIndexResponse':
      return handleReadIndexResponse(raft, message);
    case 'readIndex':
      // A follower cannot serve a forwarded read; the asker retries on the leader.
      raft.send({ type: 'readIndexResponse', from: raft.id, to: message.from, term: raft.term, requestId: message.requestId, index: -1 });
      return;
    default:
      return;
  }
}

export function handleAppend(raft: Raft, message: AppendRequest): void {
  const reply = (index: number, reject: boolean, rejectHint: number) =>
    raft.send({ type: 'appendResponse', from: raft.id, to: message.from, term: raft.term, index, reject, rejectHint });
  // Entries up to our commit index are committed, so they already match the leader's.
  if (message.prevIndex < raft.log.commit) {
    const skip = raft.log.commit - message.prevIndex;
    if (skip >= message.entries.length) return reply(raft.log.commit, false, 0);
    const boundary = message.entries[skip - 1];
    return handleAppend(raft, { ...message, prevIndex: boundary.index, prevTerm: boundary.term, entries: message.entries.slice(skip) });
  }
  const lastNew = raft.log.tryAppend(message.prevIndex, message.prevTerm, message.entries);
  if (lastNew === undefined) return reply(message.prevIndex, true, raft.log.rejectHint(message.prevIndex));
  // Raft §5.3: commit up to the leader's commit, but never past what this message proved we match.
  raft.commitTo(Math.min(message.commit, lastNew));
  reply(lastNew, false, 0);
}

function handleHeartbeat(raft: Raft, message: Heartbeat): void {
  // The leader sends min(our match, its commit), so everything up to it is in our log and matches.
  assert(message.commit <= raft.log.lastIndex(), `heartbeat commit ${message.commit} beyond our last index ${raft.log.lastIndex()}: the leader believes we match entries we do not have`);
  raft.commitTo(message.commit);
  raft.send({ type: 'heartbeatResponse', from: raft.id, to: message.from, term: raft.term, readContext: message.readContext });
}

function handleSnapshot(raft: Raft, message: SnapshotRequest): void {
  const meta = message.snapshot.meta;
  const reply = (index: number) => raft.send({ type: 'appendResponse', from: raft.id, to: message.from, term: raft.term, index, reject: false, rejectHint: 0 });
  if (meta.index <= raft.log.commit) return reply(raft.log.commit);
  if (raft.log.matchTerm(meta.index, meta.term)) {
    // Raft §7: our log already holds the snapshot's last entry; keep the entries after it.
    assert(raft.log.hashAt(meta.index) === meta.hash, `snapshot at ${meta.index} has the same term as our entry but a different hash: one of the logs was altered`);
    raft.commitTo(meta.index);
    return reply(raft.log.commit);
  }
  // Raft §7: otherwise discard the whole log and take the snapshot's state.
  raft.log.restore(message.snapshot);
  raft.membership = meta.membership;
  raft.snapshotData = message.snapshot.data;
  raft.pendingSnapshot = { snapshot: message.snapshot, fromLeader: true };
  reply(meta.index);
}

function handleReadIndexResponse(raft: Raft, message: ReadIndexResponse): void {
  if (message.index < 0) raft.readRefusals.push({ requestId: message.requestId, leaderHint: raft.lead });
  else raft.readStatesWaiting.push({ requestId: message.requestId, index: message.index });
}
