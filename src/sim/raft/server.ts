/**
 * A production `RaftNode` and `KvStateMachine` as a simulated peer, with the shell's duties
 * done the way a real shell must: persist each Ready on the simulated disk, wait for the
 * fsync (a tick or two), and only then send its messages, apply its committed entries, answer
 * reads and acknowledge writes. Clients reach it with requests; it answers or redirects.
 */
import { assert } from '../../core/assert.js';
import type { Rng } from '../../core/rng.js';
import {
  encodeKvCommand, KvStateMachine, NotLeaderError, ProposalDroppedError, RaftNode, ReadRefusedError, type AppliedCommand, type Entry,
  type RaftSettings, type Ready,
} from '../../replication/leader/index.js';
import type { AddressedMessage, SimulatedPeer } from '../peer.js';
import type { SimulatedDisk } from './disk.js';
import type { ClientOutcome, ClientRequest, SimulatedRaftMessage } from './messages.js';

/** What the workload learns from the servers, to check Raft's safety properties across the cluster. */
export interface ServerObserver {
  /** A peer applied a committed entry (State Machine Safety: every peer applies the same entry at an index). */
  applied(peer: string, entry: Entry, command: AppliedCommand | undefined): void;
  /** A peer became leader of a term (Election Safety: at most one per term). */
  leaderElected(peer: string, term: number): void;
  /** A crash tore an entry and recovery found it. */
  tornEntryFound(peer: string, index: number): void;
  /** A peer replaced its state with a snapshot from the leader (InstallSnapshot). */
  snapshotInstalled(peer: string, index: number): void;
}

/** Session reads one peer holds while it catches up to their tokens. */
export const sessionReadsMax = 256;

export interface ServerOptions {
  address: string;
  disk: SimulatedDisk;
  settings: Partial<RaftSettings>;
  observer: ServerObserver;
  /** Ticks an fsync takes. */
  fsyncTicks: number;
  /** The shell snapshots its state machine after this many applied entries. */
  snapshotEveryEntries: number;
  /**
   * `readIndex` (the only correct one) or `localUnsafe`: answer reads from the local state at
   * once, which a test turns on to show the checker catches the stale reads it gives.
   */
  readMode?: 'readIndex' | 'localUnsafe';
}

interface PendingWrite {
  readonly request: ClientRequest;
  readonly index: number;
  acknowledged: boolean;
  applied: AppliedCommand | undefined;
}

export class SimulatedRaftServer implements SimulatedPeer<SimulatedRaftMessage> {
  readonly node: RaftNode;
  readonly kv = new KvStateMachine();
  private readonly options: ServerOptions;
  private outbox: AddressedMessage<SimulatedRaftMessage>[] = [];
  private persisting: { ready: Ready; ticksLeft: number } | undefined;
  private readonly pendingWrites = new Map<string, PendingWrite>();
  private readonly pendingReads = new Map<string, ClientRequest>();
  /** Session reads waiting for this peer to apply their token, at most `sessionReadsMax`. */
  private sessionReads: { client: string; request: ClientRequest; token: number }[] = [];

  constructor(options: ServerOptions, rng: Rng) {
    this.options = options;
    const recovery = options.disk.recover();
    if (recovery.tornEntryIndex !== undefined) options.observer.tornEntryFound(options.address, recovery.tornEntryIndex);
    this.kv.restore(recovery.stored.snapshot.data);
    this.node = new RaftNode({ id: options.address, rng, stored: recovery.stored, settings: options.settings });
  }

  tick(): void {
    this.node.tick();
    if (this.persisting !== undefined && --this.persisting.ticksLeft <= 0) this.finishReady();
  }

  ticksUntilDue(): number {
    return 1;
  }

  receive(from: string, message: SimulatedRaftMessage): void {
    if (message.kind === 'raft') {
      if (message.message.to === this.options.address) this.node.step(message.message);
    } else if (message.kind === 'request') {
      this.handleRequest(from, message);
    }
  }

  takeMessages(): readonly AddressedMessage<SimulatedRaftMessage>[] {
    while (this.persisting === undefined && this.node.hasReady()) this.startReady();
    const messages = this.outbox;
    this.outbox = [];
    return messages;
  }

  private handleRequest(client: string, request: ClientRequest): void {
    const id = `${request.client}/${request.requestId}`;
    const operation = request.operation;
    if (operation.kind === 'read') {
      if (this.pendingReads.has(id)) return;
      if (this.options.readMode === 'localUnsafe' || operation.consistency === 'stale') return this.answerReadNow(client, request);
      if (operation.consistency === 'session') {
        // Read-your-writes on any peer: wait until this peer has applied the client's token.
        if (this.kv.appliedIndex >= operation.sessionToken) return this.answerReadNow(client, request);
        if (this.sessionReads.length < sessionReadsMax) this.sessionReads.push({ client, request, token: operation.sessionToken });
        return;
      }
      try {
        this.node.readIndex(id);
        this.pendingReads.set(id, request);
      } catch (error) {
        if (!(error instanceof ReadRefusedError)) throw error;
        this.respond(client, request.requestId, { status: 'redirect', leaderHint: undefined });
      }
      return;
    }
    if (this.pendingWrites.has(id)) return; // a duplicated request: the first copy is in flight
    const command = operation.kind === 'write'
      ? { op: 'put' as const, key: operation.key, value: operation.value, client: request.client, sequence: request.sequence }
      : { op: 'cas' as const, key: operation.key, expected: operation.expected, value: operation.value, client: request.client, sequence: request.sequence };
    try {
      const { index } = this.node.propose(encodeKvCommand(command), { proposalId: id, acks: request.acks });
      this.pendingWrites.set(id, { request, index, acknowledged: false, applied: undefined });
    } catch (error) {
      if (error instanceof NotLeaderError) return this.respond(client, request.requestId, { status: 'redirect', leaderHint: error.leaderHint });
      if (error instanceof ProposalDroppedError) return this.respond(client, request.requestId, { status: 'redirect', leaderHint: undefined });
      throw error;
    }
  }

  private answerReadNow(client: string, request: ClientRequest): void {
    assert(request.operation.kind === 'read', 'answerReadNow takes reads only');
    this.respond(client, request.requestId, { status: 'ok', value: this.kv.get(request.operation.key), index: this.kv.appliedIndex });
  }

  private answerSessionReads(): void {
    if (this.sessionReads.length === 0) return;
    const due = this.sessionReads.filter((read) => read.token <= this.kv.appliedIndex);
    this.sessionReads = this.sessionReads.filter((read) => read.token > this.kv.appliedIndex);
    for (const read of due) this.answerReadNow(read.client, read.request);
  }

  private respond(client: string, requestId: number, outcome: ClientOutcome): void {
    this.outbox.push({ to: client, message: { kind: 'response', requestId, outcome } });
  }

  /** Step 1 of the Ready contract: write to disk; the rest waits for the fsync unless nothing needs persisting. */
  private startReady(): void {
    const ready = this.node.ready();
    const disk = this.options.disk;
    if (ready.softState?.role === 'leader') this.options.observer.leaderElected(this.options.address, ready.softState.term);
    if (ready.snapshot !== undefined) disk.writeSnapshot(ready.snapshot.snapshot, ready.snapshot.fromLeader);
    disk.writeEntries(ready.entries);
    if (ready.hardState !== undefined) disk.writeHardState(ready.hardState);
    const needsSync = ready.snapshot !== undefined || ready.entries.length > 0 || ready.hardState !== undefined;
    this.persisting = { ready, ticksLeft: this.options.fsyncTicks };
    if (!needsSync) this.finishReady();
  }

  private finishReady(): void {
    const { ready } = this.persisting!;
    this.options.disk.fsync();
    for (const message of ready.messages) this.outbox.push({ to: message.to, message: { kind: 'raft', message } });
    if (ready.snapshot?.fromLeader === true) {
      this.kv.restore(ready.snapshot.snapshot.data);
      this.options.observer.snapshotInstalled(this.options.address, ready.snapshot.snapshot.meta.index);
    }
    for (const entry of ready.committedEntries) this.applyEntry(entry);
    this.answerSessionReads();
    for (const read of ready.readStates) this.answerRead(read.requestId, true);
    for (const refusal of ready.readRefusals) this.answerRead(refusal.requestId, false, refusal.leaderHint);
    for (const acknowledgement of ready.acknowledged) {
      const pending = this.pendingWrites.get(acknowledgement.proposalId);
      if (pending === undefined) continue;
      pending.acknowledged = true;
      this.maybeAnswerWrite(acknowledgement.proposalId, pending);
    }
    for (const abandoned of ready.abandoned) {
      const pending = this.pendingWrites.get(abandoned.proposalId);
      if (pending === undefined) continue;
      this.pendingWrites.delete(abandoned.proposalId);
      // A write acknowledged at `leader` level was already answered; the client saw success.
      if (!pending.acknowledged || pending.request.operation.kind === 'cas') this.respond(pending.request.client, pending.request.requestId, { status: 'unknown' });
    }
    this.persisting = undefined;
    this.node.advance();
    if (this.node.appliedIndex - this.node.status().snapshotIndex >= this.options.snapshotEveryEntries) {
      assert(this.kv.appliedIndex === this.node.appliedIndex, `state machine applied ${this.kv.appliedIndex}, core says ${this.node.appliedIndex}`);
      this.node.compact(this.kv.appliedIndex, this.kv.snapshot());
    }
  }

  private applyEntry(entry: Entry): void {
    if (entry.index <= this.kv.appliedIndex) return;
    const applied = this.kv.apply(entry);
    this.options.observer.applied(this.options.address, entry, applied);
    if (applied === undefined) return;
    const id = `${applied.command.client}/`;
    for (const [proposalId, pending] of this.pendingWrites) {
      if (proposalId.startsWith(id) && pending.request.sequence === applied.command.sequence && pending.applied === undefined) {
        pending.applied = applied;
        this.maybeAnswerWrite(proposalId, pending);
      }
    }
  }

  /** A write is answered once acknowledged at its level; a compare-and-set also needs its result, which only applying gives. */
  private maybeAnswerWrite(proposalId: string, pending: PendingWrite): void {
    const request = pending.request;
    if (!pending.acknowledged) return;
    if (request.operation.kind === 'write') {
      this.respond(request.client, request.requestId, { status: 'ok', index: pending.index });
      this.pendingWrites.delete(proposalId);
      return;
    }
    if (pending.applied === undefined) return;
    const result = pending.applied.result;
    if (result === undefined) {
      // A stale duplicate whose result the state machine no longer keeps: its client gave up on it long ago.
      this.pendingWrites.delete(proposalId);
      return this.respond(request.client, request.requestId, { status: 'unknown' });
    }
    assert(result.op === 'cas', 'a compare-and-set request applied as another operation');
    this.respond(request.client, request.requestId, { status: 'ok', succeeded: result.succeeded, index: pending.index });
    this.pendingWrites.delete(proposalId);
  }

  private answerRead(id: string, granted: boolean, leaderHint?: string): void {
    const request = this.pendingReads.get(id);
    if (request === undefined) return;
    this.pendingReads.delete(id);
    if (!granted) return this.respond(request.client, request.requestId, { status: 'redirect', leaderHint });
    this.answerReadNow(request.client, request);
  }
}
