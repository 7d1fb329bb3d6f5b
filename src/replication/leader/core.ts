/**
 * The state of one Raft peer and the rules every role shares: terms, votes, ticks, commits,
 * membership. The role-specific rules live in follower.ts, candidate.ts and leader.ts as step
 * functions that this class swaps (etcd-io/raft's `r.step = stepLeader`). Internal: the public
 * face is `RaftNode` (node.ts), which adds proposals and the Ready/advance cycle.
 */
import { assert } from '../../core/assert.js';
import type { Rng } from '../../core/rng.js';
import { CorruptStateError } from './errors.js';
import { RaftLog } from './log.js';
import { decodeMembershipEntry } from './membership.js';
import type { RaftMessage } from './messages.js';
import type { Progress } from './progress.js';
import type { RaftSettings } from './settings.js';
import type { Abandoned, Acknowledgement, AckLevel, Membership, PeerId, ProposalId, ReadRefusal, ReadState, Role, Snapshot, SnapshotMeta } from './types.js';
import type { StoredState } from './storage.js';
import { verifyLog } from './verify.js';

export type StepFunction = (raft: Raft, message: RaftMessage) => void;

export interface PendingProposal {
  readonly proposalId: ProposalId;
  readonly index: number;
  readonly term: number;
}

/** A read waiting for a quorum of heartbeat responses (dissertation §6.4). */
export interface PendingRead {
  readonly requestId: string;
  readonly index: number;
  /** The peer that asked: this peer for a local read, a follower for a forwarded one. */
  readonly from: PeerId;
  readonly context: number;
  readonly acknowledgedBy: Set<PeerId>;
}

export class Raft {
  readonly id: PeerId;
  readonly settings: RaftSettings;
  readonly rng: Rng;
  readonly log: RaftLog;

  term: number;
  vote: PeerId | undefined;
  lead: PeerId | undefined = undefined;
  role: Role = 'follower';
  step: StepFunction;
  membership: Membership;
  /** The data of the snapshot at `log.snapshot`, kept to send to followers that fell behind it. */
  snapshotData: Uint8Array;
  /** A snapshot the shell has yet to persist (and, when it came from the leader, to restore into its state machine). */
  pendingSnapshot: { snapshot: Snapshot; fromLeader: boolean } | undefined = undefined;

  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTicks = 0;
  votes = new Map<PeerId, boolean>();

  // Leader state.
  readonly progress = new Map<PeerId, Progress>();
  leadTransferee: PeerId | undefined = undefined;
  /** The index of the latest membership entry; a new change waits until it is committed. */
  pendingMembershipIndex = 0;
  uncommittedBytes = 0;
  /** Proposals waiting for their acknowledgement, one queue per level, each in index order. */
  readonly pendingProposals: Record<AckLevel, PendingProposal[]> = { leader: [], quorum: [], all: [] };
  readonly pendingReads: PendingRead[] = [];
  /** Reads that arrived before this leader committed an entry of its own term (dissertation §6.4 step 1). */
  readonly readsAwaitingTermCommit: { requestId: string; from: PeerId }[] = [];
  readContext = 0;

  // Outputs collected for the next Ready.
  messages: RaftMessage[] = [];
  acknowledged: Acknowledgement[] = [];
  abandoned: Abandoned[] = [];
  /** Read indexes granted to this peer, waiting for it to apply them. */
  readStatesWaiting: ReadState[] = [];
  readRefusals: ReadRefusal[] = [];

  constructor(id: PeerId, settings: RaftSettings, rng: Rng, stored: StoredState, initialStep: StepFunction) {
    this.id = id;
    this.settings = settings;
    this.rng = rng;
    const snapshotMeta: SnapshotMeta = stored.snapshot.meta;
    const verification = verifyLog(stored.entries, snapshotMeta);
    if (!verification.ok) throw new CorruptStateError(`stored log fails verification at index ${verification.index}: ${verification.reason}`);
    // A snapshot holds only committed entries, so its index is committed even if the hard state
    // written with it was lost (a shell that does not write a Ready atomically can crash between them).
    const commit = Math.max(stored.hardState.commit, snapshotMeta.index);
    this.log = new RaftLog(snapshotMeta, stored.entries, commit);
    if (commit > this.log.lastIndex()) {
      throw new CorruptStateError(`stored commit index ${commit} lies beyond the stored log's last index ${this.log.lastIndex()}: entries the cluster committed are missing`);
    }
    this.term = stored.hardState.term;
    this.vote = stored.hardState.vote;
    if (this.term < this.log.lastTerm()) {
      // The same partial write: entries (or a snapshot) of a newer term reached the disk but the
      // hard state with that term did not. Nothing of that Ready was sent, so no vote was cast
      // in the newer term: adopt it with no vote.
      this.term = this.log.lastTerm();
      this.vote = undefined;
    }
    this.snapshotData = stored.snapshot.data;
    this.membership = this.membershipAt(this.log.commit);
    this.step = initialStep;
    this.resetElectionTimer();
  }

  /** A voter may campaign; learners and peers removed from the cluster may not. */
  promotable(): boolean {
    return this.membership.voters.includes(this.id);
  }

  /** Raft §5.2: the election timeout is drawn again at random in [electionTicks, 2 * electionTicks) whenever it restarts. */
  resetElectionTimer(): void {
    this.electionElapsed = 0;
    this.randomizedElectionTicks = this.settings.electionTicks + this.rng.nextInt(this.settings.electionTicks);
  }

  send(message: RaftMessage): void {
    assert(message.to !== this.id, `a peer never sends a message to itself (${message.type})`);
    this.messages.push(message);
  }

  /** Peers that receive the log: voters and learners, without this peer. */
  others(): PeerId[] {
    const peers: PeerId[] = [];
    for (const peer of this.membership.voters) if (peer !== this.id) peers.push(peer);
    for (const peer of this.membership.learners) if (peer !== this.id) peers.push(peer);
    return peers;
  }

  /** The membership in force after the entry at `index`: the last membership entry at or before it, or the snapshot's. */
  membershipAt(index: number): Membership {
    for (let at = Math.min(index, this.log.lastIndex()); at > this.log.snapshot.index; at--) {
      const entry = this.log.entry(at)!;
      if (entry.type === 'configuration') return decodeMembershipEntry(entry.data).membership;
    }
    return this.log.snapshot.membership;
  }

  /** Moves the commit index, applies membership entries that just committed, and lets the role react. */
  commitTo(index: number, onMembershipChange: (raft: Raft) => void = () => undefined): boolean {
    const previous = this.log.commit;
    if (!this.log.commitTo(index)) return false;
    let membershipChanged = false;
    for (let at = previous + 1; at <= index; at++) {
      const entry = this.log.entry(at);
      if (entry === undefined) continue;
      if (this.role === 'leader') this.uncommittedBytes -= entry.data.length;
      if (entry.type === 'configuration') {
        this.membership = decodeMembershipEntry(entry.data).membership;
        membershipChanged = true;
      }
    }
    if (membershipChanged) onMembershipChange(this);
    return true;
  }

  /** Raft §5.1: any message with a newer term turns this peer into a follower of that term. */
  becomeFollower(term: number, lead: PeerId | undefined, followerStep: StepFunction): void {
    if (this.role === 'leader') this.abandonLeaderWork();
    this.step = followerStep;
    if (term !== this.term) {
      this.term = term;
      this.vote = undefined;
    }
    this.lead = lead;
    this.role = 'follower';
    this.votes = new Map();
    this.leadTransferee = undefined;
    this.progress.clear();
    this.resetElectionTimer();
    this.heartbeatElapsed = 0;
  }

  /** A leader that steps down can no longer tell whether its pending proposals will commit, nor serve pending reads. */
  private abandonLeaderWork(): void {
    for (const level of ['leader', 'quorum', 'all'] as const) {
      for (const proposal of this.pendingProposals[level]) this.abandoned.push({ proposalId: proposal.proposalId, index: proposal.index, term: proposal.term });
      this.pendingProposals[level] = [];
    }
    const refused = [...this.pendingReads, ...this.readsAwaitingTermCommit];
    this.pendingReads.length = 0;
    this.readsAwaitingTermCommit.length = 0;
    for (const read of refused) this.refuseRead(read.requestId, read.from);
  }

  refuseRead(requestId: string, from: PeerId): void {
    if (from === this.id) this.readRefusals.push({ requestId, leaderHint: this.lead === this.id ? undefined : this.lead });
    else this.send({ type: 'readIndexResponse', from: this.id, to: from, term: this.term, requestId, index: -1 });
  }
}
