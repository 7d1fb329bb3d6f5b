/**
 * `RaftNode`: the public face of the Raft core, in the style of etcd-io/raft's RawNode. It only
 * ever receives `step(message)`, `tick()` and calls from the shell (propose, read, transfer,
 * compact), and hands back plain data in a `Ready`. It does no I/O and reads no clock; its only
 * randomness (the election timeout) comes from the injected RNG.
 *
 * The Ready contract (the shell, in order, for each Ready):
 *  1. persist `snapshot` (if any), `entries` (first deleting any stored entry at or after
 *     `entries[0].index`) and `hardState` (if any), and make them durable (fsync; one SQLite
 *     transaction);
 *  2. send `messages`;
 *  3. if `snapshot.fromLeader`, replace the state machine's state with `snapshot.snapshot.data`;
 *  4. apply `committedEntries` in order;
 *  5. serve `readStates` (the state machine now holds every entry up to their index) and fail
 *     the reads in `readRefusals`;
 *  6. answer the clients of `acknowledged` proposals (done) and `abandoned` ones (outcome unknown);
 *  7. call `advance()`.
 * At start-up the shell restores its state machine from the stored snapshot; the core then
 * hands back every committed entry after the snapshot again, so the shell need not persist
 * its applied index (applying is deterministic).
 * Between `ready()` and `advance()` the shell may keep calling step/tick/propose; it may not
 * take another Ready.
 */
import { assert } from '../../core/assert.js';
import type { Rng } from '../../core/rng.js';
import { Raft } from './core.js';
import { campaign, stepMessage } from './election.js';
import { LeadershipTransferRefusedError, MembershipChangeRefusedError, NotLeaderError, ProposalDroppedError, ProposalTooLargeError, ReadRefusedError } from './errors.js';
import { stepFollower } from './follower.js';
import { broadcastAppend, maybeCommit, requestRead, startTransfer, tickLeader, updateAcknowledgements } from './leader.js';
import { applyMembershipChange, checkMembershipChange, encodeMembershipEntry } from './membership.js';
import type { RaftMessage } from './messages.js';
import { raftSettings, type RaftSettings } from './settings.js';
import type { StoredState } from './storage.js';
import type { Abandoned, Acknowledgement, AckLevel, Entry, HardState, Membership, MembershipChange, PeerId, ProposalId, ReadRefusal, ReadState, Role, Snapshot, SoftState } from './types.js';

export interface RaftNodeOptions {
  id: PeerId;
  /** The source of the randomized election timeouts; give each peer its own stream. */
  rng: Rng;
  /** What the shell loaded from disk (see storage.ts); `bootstrapStoredState` or `emptyStoredState` for a new peer. */
  stored: StoredState;
  settings?: Partial<RaftSettings>;
}

export interface Ready {
  readonly softState: SoftState | undefined;
  readonly hardState: HardState | undefined;
  readonly snapshot: { readonly snapshot: Snapshot; readonly fromLeader: boolean } | undefined;
  readonly entries: readonly Entry[];
  readonly messages: readonly RaftMessage[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  readonly readRefusals: readonly ReadRefusal[];
  readonly acknowledged: readonly Acknowledgement[];
  readonly abandoned: readonly Abandoned[];
}

export interface ProposeOptions {
  /** Names the proposal in `Ready.acknowledged` / `Ready.abandoned`; without it the core reports nothing about it. */
  proposalId?: ProposalId;
  acks?: AckLevel;
}

export interface RaftStatus {
  id: PeerId;
  role: Role;
  term: number;
  vote: PeerId | undefined;
  leader: PeerId | undefined;
  commit: number;
  applied: number;
  lastIndex: number;
  snapshotIndex: number;
  membership: Membership;
  /** On a leader, each follower's match index and replication state. */
  followers: { peer: PeerId; match: number; next: number; state: string }[];
}

export class RaftNode {
  private readonly raft: Raft;
  private lastHardState: HardState;
  private lastSoftState: SoftState;
  /** What the Ready in the shell's hands covered, to be marked done by advance(). */
  private inFlight: { persistedThrough: number; appliedThrough: number } | undefined;

  constructor(options: RaftNodeOptions) {
    const settings = raftSettings(options.settings);
    this.raft = new Raft(options.id, settings, options.rng, options.stored, stepFollower);
    this.lastHardState = this.hardState();
    this.lastSoftState = this.softState();
  }

  get id(): PeerId {
    return this.raft.id;
  }

  // ---- inputs ------------------------------------------------------------------------------

  step(message: RaftMessage): void {
    assert(message.to === this.raft.id, `message for ${message.to} stepped into ${this.raft.id}`);
    stepMessage(this.raft, message);
  }

  tick(): void {
    const raft = this.raft;
    if (raft.role === 'leader') return tickLeader(raft);
    raft.electionElapsed++;
    if (raft.promotable() && raft.electionElapsed >= raft.randomizedElectionTicks) {
      raft.electionElapsed = 0;
      campaign(raft, raft.settings.preVote ? 'preElection' : 'election');
    }
  }

  /** Starts an election now (the scripted tests' `campaign`; a shell may use it for a quick first election). */
  campaign(): void {
    if (this.raft.role !== 'leader') campaign(this.raft, this.raft.settings.preVote ? 'preElection' : 'election');
  }

  /** Appends a command to the leader's log. Returns its index and term; throws NotLeaderError, ProposalTooLargeError or ProposalDroppedError. */
  propose(data: Uint8Array, options: ProposeOptions = {}): { index: number; term: number } {
    const raft = this.raft;
    this.checkCanPropose(data.length, options.proposalId !== undefined);
    const entry = raft.log.appendNew(raft.term, 'normal', data);
    raft.uncommittedBytes += data.length;
    if (options.proposalId !== undefined) raft.pendingProposals[options.acks ?? raft.settings.defaultAcks].push({ proposalId: options.proposalId, index: entry.index, term: entry.term });
    broadcastAppend(raft);
    maybeCommit(raft);
    return { index: entry.index, term: entry.term };
  }

  /** Proposes adding or removing one server (dissertation §4.1); refused while another change is uncommitted. */
  proposeMembershipChange(change: MembershipChange, options: ProposeOptions = {}): { index: number; term: number } {
    const raft = this.raft;
    if (raft.role !== 'leader') throw new NotLeaderError(raft.lead);
    if (raft.pendingMembershipIndex > raft.log.commit) throw new MembershipChangeRefusedError(`the change at index ${raft.pendingMembershipIndex} is not committed yet; retry once it is`);
    checkMembershipChange(raft.membership, change);
    if (change.kind === 'removePeer' && !raft.settings.preVote && !raft.settings.checkQuorum) {
      // Dissertation §4.2.3: a removed server that never learns of its removal keeps timing out
      // and, with neither pre-vote nor check-quorum's lease, its ever higher terms depose every
      // leader. The simulator found a cluster that never took a write again (seed 20456).
      throw new MembershipChangeRefusedError('removing a peer needs preVote or checkQuorum on, or the removed peer disrupts every later leader');
    }
    const data = encodeMembershipEntry({ change, membership: applyMembershipChange(raft.membership, change) });
    this.checkCanPropose(data.length, options.proposalId !== undefined);
    const entry = raft.log.appendNew(raft.term, 'configuration', data);
    raft.uncommittedBytes += data.length;
    raft.pendingMembershipIndex = entry.index;
    if (options.proposalId !== undefined) raft.pendingProposals[options.acks ?? raft.settings.defaultAcks].push({ proposalId: options.proposalId, index: entry.index, term: entry.term });
    broadcastAppend(raft);
    maybeCommit(raft);
    return { index: entry.index, term: entry.term };
  }

  private checkCanPropose(bytes: number, tracked: boolean): void {
    const raft = this.raft;
    if (raft.role !== 'leader') throw new NotLeaderError(raft.lead);
    if (raft.leadTransferee !== undefined) throw new ProposalDroppedError('leadershipTransfer');
    if (bytes > raft.settings.proposalBytesMax) throw new ProposalTooLargeError(bytes, raft.settings.proposalBytesMax);
    if (raft.log.lastIndex() - raft.log.commit >= raft.settings.uncommittedEntriesMax) throw new ProposalDroppedError('uncommittedEntriesLimit');
    if (raft.uncommittedBytes + bytes > raft.settings.uncommittedBytesMax) throw new ProposalDroppedError('uncommittedBytesLimit');
    const pending = raft.pendingProposals.leader.length + raft.pendingProposals.quorum.length + raft.pendingProposals.all.length;
    if (tracked && pending >= raft.settings.pendingProposalsMax) throw new ProposalDroppedError('pendingProposalsLimit');
  }

  /**
   * Asks for a linearizable read (dissertation §6.4). On the leader it confirms leadership with
   * a heartbeat round; on a follower it forwards the request to the leader. The answer arrives
   * in a later Ready as a ReadState (serve once applied) or a ReadRefusal (retry elsewhere).
   */
  readIndex(requestId: string): void {
    const raft = this.raft;
    if (raft.role === 'leader') return requestRead(raft, requestId, raft.id);
    if (raft.lead === undefined) {
      raft.readRefusals.push({ requestId, leaderHint: undefined });
      return;
    }
    if (raft.readStatesWaiting.length >= raft.settings.pendingReadsMax) throw new ReadRefusedError(`${raft.settings.pendingReadsMax} reads are already waiting on this peer (pendingReadsMax)`);
    raft.send({ type: 'readIndex', from: raft.id, to: raft.lead, term: raft.term, requestId });
  }

  /** Hands leadership to `target` (dissertation §3.10); proposals are dropped until it completes or times out. */
  transferLeadership(target: PeerId): void {
    const raft = this.raft;
    if (raft.role !== 'leader') throw new NotLeaderError(raft.lead);
    if (target === raft.id) throw new LeadershipTransferRefusedError('this peer is already the leader');
    if (!raft.membership.voters.includes(target)) throw new LeadershipTransferRefusedError(`${target} is not a voter`);
    if (raft.leadTransferee === target) return;
    startTransfer(raft, target);
  }

  /**
   * The shell took a snapshot of its state machine at `index` (at most the applied index):
   * the core drops the log up to there and sends this snapshot to followers that need it.
   */
  compact(index: number, data: Uint8Array): void {
    const raft = this.raft;
    assert(index <= raft.log.applied, `cannot snapshot at ${index}: only ${raft.log.applied} is applied`);
    if (index <= raft.log.snapshot.index) return;
    const meta = { index, term: raft.log.term(index)!, hash: raft.log.hashAt(index)!, membership: raft.membershipAt(index) };
    raft.log.compact(meta);
    raft.snapshotData = data;
    raft.pendingSnapshot = { snapshot: { meta, data }, fromLeader: false };
  }

  // ---- outputs -----------------------------------------------------------------------------

  hasReady(): boolean {
    const raft = this.raft;
    if (this.inFlight !== undefined) return false;
    return raft.messages.length > 0 || raft.log.hasUnstable() || raft.pendingSnapshot !== undefined
      || raft.log.commit > raft.log.applied || raft.acknowledged.length > 0 || raft.abandoned.length > 0
      || raft.readRefusals.length > 0 || raft.readStatesWaiting.some((read) => read.index <= raft.log.commit)
      || !sameHardState(this.hardState(), this.lastHardState) || !sameSoftState(this.softState(), this.lastSoftState);
  }

  ready(): Ready {
    const raft = this.raft;
    assert(this.inFlight === undefined, 'ready() called again before advance()');
    const hardState = this.hardState();
    const softState = this.softState();
    const snapshot = raft.pendingSnapshot;
    const entries = raft.log.takeUnstable();
    const committedEntries = raft.log.commit > raft.log.applied ? raft.log.slice(raft.log.applied + 1, Number.POSITIVE_INFINITY, raft.log.commit) : [];
    const appliedThrough = Math.max(raft.log.applied, raft.log.commit);
    const readStates = raft.readStatesWaiting.filter((read) => read.index <= appliedThrough);
    raft.readStatesWaiting = raft.readStatesWaiting.filter((read) => read.index > appliedThrough);
    const ready: Ready = {
      softState: sameSoftState(softState, this.lastSoftState) ? undefined : softState,
      hardState: sameHardState(hardState, this.lastHardState) ? undefined : hardState,
      snapshot,
      entries,
      messages: raft.messages,
      committedEntries,
      readStates,
      readRefusals: raft.readRefusals,
      acknowledged: raft.acknowledged,
      abandoned: raft.abandoned,
    };
    raft.messages = [];
    raft.readRefusals = [];
    raft.acknowledged = [];
    raft.abandoned = [];
    raft.pendingSnapshot = undefined;
    this.lastHardState = hardState;
    this.lastSoftState = softState;
    this.inFlight = { persistedThrough: raft.log.unstableFrom - 1, appliedThrough };
    return ready;
  }

  /** The shell finished the last Ready: its entries are durable and its committed entries applied. */
  advance(): void {
    const raft = this.raft;
    assert(this.inFlight !== undefined, 'advance() called without a Ready in flight');
    raft.log.markPersisted(this.inFlight.persistedThrough);
    raft.log.applied = Math.max(raft.log.applied, this.inFlight.appliedThrough);
    this.inFlight = undefined;
    if (raft.role === 'leader') {
      // The leader's own persistence counts toward the quorum (its match is what it persisted).
      if (maybeCommit(raft)) broadcastAppend(raft);
      updateAcknowledgements(raft);
    }
  }

  // ---- accessors ---------------------------------------------------------------------------

  /** The highest index the shell has applied (after advance): a session read waits for this to reach its token. */
  get appliedIndex(): number {
    return this.raft.log.applied;
  }

  get commitIndex(): number {
    return this.raft.log.commit;
  }

  get leader(): PeerId | undefined {
    return this.raft.lead;
  }

  get role(): Role {
    return this.raft.role;
  }

  get term(): number {
    return this.raft.term;
  }

  get membership(): Membership {
    return this.raft.membership;
  }

  status(): RaftStatus {
    const raft = this.raft;
    return {
      id: raft.id, role: raft.role, term: raft.term, vote: raft.vote, leader: raft.lead,
      commit: raft.log.commit, applied: raft.log.applied, lastIndex: raft.log.lastIndex(), snapshotIndex: raft.log.snapshot.index,
      membership: raft.membership,
      followers: [...raft.progress].map(([peer, progress]) => ({ peer, match: progress.match, next: progress.next, state: progress.state })).sort((a, b) => (a.peer < b.peer ? -1 : 1)),
    };
  }

  /** Entries from `from` through the last index, for tests and the simulator's checks. */
  logEntries(from = this.raft.log.firstIndex()): readonly Entry[] {
    return from > this.raft.log.lastIndex() ? [] : this.raft.log.slice(Math.max(from, this.raft.log.firstIndex()), Number.POSITIVE_INFINITY);
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.commit };
  }

  private softState(): SoftState {
    return { role: this.raft.role, leader: this.raft.lead, term: this.raft.term };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leader === b.leader && a.term === b.term;
}
