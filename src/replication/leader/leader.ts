/**
 * The leader's rules: replicate the log (Raft §5.3), commit entries of its own term by
 * majority (§5.4.2), send snapshots to followers that fell behind the compacted log (§7),
 * confirm leadership for reads (dissertation §6.4), hand leadership over (§3.10), step down
 * when it loses touch with a quorum (§6.2), and report when proposals reach their acks level.
 */
import type { PendingProposal, Raft } from './core.js';
import { stepFollower } from './follower.js';
import type { AppendResponse, HeartbeatResponse, RaftMessage } from './messages.js';
import { Progress } from './progress.js';
import { committedIndex, hasMajority } from './quorum.js';
import type { PeerId } from './types.js';

export function becomeLeader(raft: Raft): void {
  raft.step = stepLeader;
  raft.role = 'leader';
  raft.lead = raft.id;
  raft.leadTransferee = undefined;
  raft.heartbeatElapsed = 0;
  raft.electionElapsed = 0;
  raft.progress.clear();
  for (const peer of raft.others()) raft.progress.set(peer, new Progress(raft.log.lastIndex() + 1));
  raft.uncommittedBytes = raft.log.uncommittedBytes();
  // Raft §8: a new leader commits an empty entry of its own term, which commits everything
  // before it (§5.4.2) and lets it serve reads (dissertation §6.4). No membership change may be
  // proposed until it commits, which closes the single-server change bug of the dissertation's errata.
  raft.log.appendNew(raft.term, 'empty', new Uint8Array(0));
  raft.pendingMembershipIndex = raft.log.lastIndex();
  broadcastAppend(raft);
  maybeCommit(raft);
}

export function stepLeader(raft: Raft, message: RaftMessage): void {
  const progress = raft.progress.get(message.from);
  switch (message.type) {
    case 'appendResponse':
      if (progress !== undefined) handleAppendResponse(raft, progress, message);
      return;
    case 'heartbeatResponse':
      if (progress !== undefined) handleHeartbeatResponse(raft, progress, message);
      return;
    case 'readIndex':
      return requestRead(raft, message.requestId, message.from);
    default:
      return;
  }
}

/** One leader tick: heartbeats every heartbeatTicks; a quorum check and a transfer deadline every electionTicks. */
export function tickLeader(raft: Raft): void {
  raft.heartbeatElapsed++;
  raft.electionElapsed++;
  for (const progress of raft.progress.values()) if (progress.state === 'snapshot') progress.ticksSinceSnapshot++;
  if (raft.electionElapsed >= raft.settings.electionTicks) {
    raft.electionElapsed = 0;
    if (raft.settings.checkQuorum && !quorumActive(raft)) {
      raft.becomeFollower(raft.term, undefined, stepFollower);
      return;
    }
    // A transfer that did not finish within an election timeout is abandoned (dissertation §3.10).
    raft.leadTransferee = undefined;
  }
  if (raft.heartbeatElapsed >= raft.settings.heartbeatTicks) {
    raft.heartbeatElapsed = 0;
    broadcastHeartbeat(raft);
  }
}

/** Check-quorum: did a majority of voters (this peer included) answer since the last check? Resets the marks. */
function quorumActive(raft: Raft): boolean {
  const active = new Set<PeerId>([raft.id]);
  for (const [peer, progress] of raft.progress) {
    if (progress.recentActive) active.add(peer);
    progress.recentActive = false;
  }
  return hasMajority(raft.membership.voters, active);
}

function handleAppendResponse(raft: Raft, progress: Progress, message: AppendResponse): void {
  progress.recentActive = true;
  if (message.reject) {
    if (progress.backOff(message.index, message.rejectHint)) sendAppend(raft, message.from);
    return;
  }
  const grew = progress.acknowledge(message.index);
  if (progress.state === 'probe' && (grew || progress.match === message.index)) progress.becomeReplicate();
  else if (progress.state === 'snapshot' && progress.match >= progress.pendingSnapshot) progress.becomeProbe();
  if (grew) {
    if (maybeCommit(raft)) broadcastAppend(raft);
    updateAcknowledgements(raft);
    if (raft.leadTransferee === message.from && progress.match === raft.log.lastIndex()) sendTimeoutNow(raft, message.from);
  }
  // Keep the follower's pipeline full.
  while (progress.match < raft.log.lastIndex() && !progress.paused(raft.settings.inflightAppendsMax) && progress.next <= raft.log.lastIndex()) {
    if (!sendAppend(raft, message.from)) break;
  }
}

function handleHeartbeatResponse(raft: Raft, progress: Progress, message: HeartbeatResponse): void {
  progress.recentActive = true;
  progress.probeSent = false;
  // Appends may have been lost: free a pipeline slot, and resend a snapshot nobody answered.
  if (progress.state === 'replicate' && progress.inflight.length >= raft.settings.inflightAppendsMax) progress.inflight.shift();
  if (progress.state === 'snapshot' && progress.ticksSinceSnapshot >= raft.settings.electionTicks) progress.becomeProbe();
  if (progress.match < raft.log.lastIndex()) sendAppend(raft, message.from);
  if (message.readContext > 0) confirmReads(raft, message.from, message.readContext);
}

/** Sends the next AppendEntries (or the snapshot) to `to` if its progress allows; returns whether something was sent. */
export function sendAppend(raft: Raft, to: PeerId): boolean {
  const progress = raft.progress.get(to);
  if (progress === undefined || progress.paused(raft.settings.inflightAppendsMax)) return false;
  const prevIndex = progress.next - 1;
  const prevTerm = raft.log.term(prevIndex);
  if (prevTerm === undefined || progress.next < raft.log.firstIndex()) {
    // Raft §7: the entries this follower needs are compacted; send the snapshot instead.
    progress.becomeSnapshot(raft.log.snapshot.index);
    raft.send({ type: 'snapshot', from: raft.id, to, term: raft.term, snapshot: { meta: raft.log.snapshot, data: raft.snapshotData } });
    return true;
  }
  const entries = raft.log.slice(progress.next, raft.settings.appendEntriesMax);
  raft.send({ type: 'append', from: raft.id, to, term: raft.term, prevIndex, prevTerm, entries, commit: raft.log.commit });
  if (progress.state === 'replicate' && entries.length > 0) {
    progress.next = entries[entries.length - 1].index + 1;
    progress.inflight.push(progress.next - 1);
  } else if (progress.state === 'probe') {
    progress.probeSent = true;
  }
  return true;
}

export function broadcastAppend(raft: Raft): void {
  for (const peer of raft.progress.keys()) sendAppend(raft, peer);
}

function broadcastHeartbeat(raft: Raft): void {
  const readContext = raft.pendingReads.length > 0 ? raft.pendingReads[raft.pendingReads.length - 1].context : 0;
  for (const [peer, progress] of raft.progress) {
    // Never tell a follower to commit past what it is known to hold.
    const commit = Math.min(progress.match, raft.log.commit);
    raft.send({ type: 'heartbeat', from: raft.id, to: peer, term: raft.term, commit, readContext });
  }
}

/** Raft §5.4.2: commit the highest index a majority of voters persisted, but only if it is of this leader's term. */
export function maybeCommit(raft: Raft): boolean {
  const matchOf = (peer: PeerId) => (peer === raft.id ? raft.log.persisted : raft.progress.get(peer)?.match ?? 0);
  const index = committedIndex(raft.membership.voters, matchOf);
  if (index <= raft.log.commit || raft.log.term(index) !== raft.term) return false;
  const firstCommitOfTerm = raft.log.term(raft.log.commit) !== raft.term;
  raft.commitTo(index, onMembershipChange);
  if (firstCommitOfTerm) releaseReadsAwaitingTermCommit(raft);
  updateAcknowledgements(raft);
  return true;
}

/**
 * Reports the proposals that reached their level: `leader` once this peer persisted the entry,
 * `quorum` once it committed (a majority persisted it), `all` once every voter persisted it.
 */
export function updateAcknowledgements(raft: Raft): void {
  const pending = raft.pendingProposals;
  const release = (queue: PendingProposal[], reached: (index: number) => boolean) => {
    let count = 0;
    while (count < queue.length && reached(queue[count].index)) count++;
    for (const proposal of queue.splice(0, count)) raft.acknowledged.push({ proposalId: proposal.proposalId, index: proposal.index, term: proposal.term });
  };
  release(pending.leader, (index) => index <= raft.log.persisted);
  release(pending.quorum, (index) => index <= raft.log.commit);
  let allMatch = raft.log.commit;
  for (const voter of raft.membership.voters) {
    allMatch = Math.min(allMatch, voter === raft.id ? raft.log.persisted : raft.progress.get(voter)?.match ?? 0);
  }
  release(pending.all, (index) => index <= allMatch);
}

function sendTimeoutNow(raft: Raft, to: PeerId): void {
  raft.send({ type: 'timeoutNow', from: raft.id, to, term: raft.term });
}

/** Starts handing leadership to `target`: once its log is up to date, it is told to campaign at once. */
export function startTransfer(raft: Raft, target: PeerId): void {
  raft.leadTransferee = target;
  raft.electionElapsed = 0;
  const progress = raft.progress.get(target)!;
  if (progress.match === raft.log.lastIndex()) sendTimeoutNow(raft, target);
  else sendAppend(raft, target);
}

/** A committed membership entry changed who is in the cluster: track the new peers, forget the removed ones. */
export function onMembershipChange(raft: Raft): void {
  if (raft.role !== 'leader') return;
  const others = new Set(raft.others());
  for (const peer of [...raft.progress.keys()]) if (!others.has(peer)) raft.progress.delete(peer);
  for (const peer of others) if (!raft.progress.has(peer)) raft.progress.set(peer, new Progress(raft.log.lastIndex() + 1));
  if (raft.leadTransferee !== undefined && !raft.membership.voters.includes(raft.leadTransferee)) raft.leadTransferee = undefined;
  if (!raft.membership.voters.includes(raft.id)) {
    // This leader was removed: tell the others the commit index once more, then step down; it cannot campaign again.
    broadcastAppend(raft);
    raft.becomeFollower(raft.term, undefined, stepFollower);
    return;
  }
  // The caller that moved the commit index broadcasts next, which reaches the new peers too.
  updateAcknowledgements(raft);
}

// ---- reads (dissertation §6.4) -------------------------------------------------------------

/** A linearizable read on the leader: record the commit index, then confirm leadership with a round of heartbeats. */
export function requestRead(raft: Raft, requestId: string, from: PeerId): void {
  if (raft.pendingReads.length + raft.readsAwaitingTermCommit.length >= raft.settings.pendingReadsMax) return raft.refuseRead(requestId, from);
  if (raft.log.term(raft.log.commit) !== raft.term) {
    raft.readsAwaitingTermCommit.push({ requestId, from });
    return;
  }
  const voters = raft.membership.voters;
  if (voters.length === 1 && voters[0] === raft.id) return grantRead(raft, requestId, from, raft.log.commit);
  raft.readContext++;
  raft.pendingReads.push({ requestId, index: raft.log.commit, from, context: raft.readContext, acknowledgedBy: new Set([raft.id]) });
  broadcastHeartbeat(raft);
}

function releaseReadsAwaitingTermCommit(raft: Raft): void {
  const waiting = raft.readsAwaitingTermCommit.splice(0);
  for (const read of waiting) requestRead(raft, read.requestId, read.from);
}

function confirmReads(raft: Raft, from: PeerId, context: number): void {
  let confirmedThrough = -1;
  for (let position = 0; position < raft.pendingReads.length; position++) {
    const read = raft.pendingReads[position];
    if (read.context > context) break;
    read.acknowledgedBy.add(from);
    if (hasMajority(raft.membership.voters, read.acknowledgedBy)) confirmedThrough = position;
  }
  // A quorum that confirmed a later read confirmed every earlier one too.
  for (const read of raft.pendingReads.splice(0, confirmedThrough + 1)) grantRead(raft, read.requestId, read.from, read.index);
}

function grantRead(raft: Raft, requestId: string, from: PeerId, index: number): void {
  if (from === raft.id) raft.readStatesWaiting.push({ requestId, index });
  else raft.send({ type: 'readIndexResponse', from: raft.id, to: from, term: raft.term, requestId, index });
}
