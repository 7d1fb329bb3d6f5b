/**
 * A storage peer in single-leader mode: the pure Raft core (src/replication/leader) driven
 * by real time, a real disk and the real network.
 *
 * The loop, as etcd's raftexample runs it: a timer ticks the core every `tickMs`; every
 * input (a tick, a message, a proposal, a read) schedules one pass that drains `ready()`:
 *   1. persist the snapshot, entries and hard state in ONE SQLite transaction (fsync);
 *   2. only then send the messages (Raft §5.1: never answer before persisting);
 *   3. apply the committed entries to the key-value state machine;
 *   4. settle the clients waiting on acknowledgements, read states and applied indexes;
 *   5. `advance()`.
 *
 * Clients reach the leader through any peer: a follower forwards a write to the leader it
 * knows (`raft.client` RPC) and says who that is when it knows none. A write refused as
 * unavailable was never proposed, so the client may retry it; a write whose outcome is
 * unknown (its leader died mid-way) is reported as such, never retried blindly.
 */
import { randomBytes } from 'node:crypto';
import type { Rng } from '../../core/rng.js';
import { RpcHandlerError, RpcRemoteError, type Logger, type PeerAddress, type RpcContext, type Transport } from '../../net/index.js';
import {
  KvCommandError,
  KvStateMachine,
  NotLeaderError,
  RaftNode,
  bootstrapStoredState,
  encodeKvCommand,
  type AckLevel,
  type KvCommand,
  type KvResult,
  type PeerId,
  type RaftSettings,
  type RaftStatus,
  type Ready,
} from '../../replication/leader/index.js';
import type { RaftStore } from '../../storage/index.js';
import { KvUnavailableError, KvTimeoutError, KvOutcomeUnknownError } from './errors.js';
import { asRaftMessage, forwardedWriteProblem, raftMessageProblem } from './wire-check.js';

export const raftMessageMethod = 'raft';
export const raftClientMethod = 'raft.client';
/** How long a client operation may wait for its acknowledgement, read index or applied index. */
export const kvOperationTimeoutMs = 5_000;
/** Deadline of one Raft message's RPC; a lost message is the core's to retry, not the transport's. */
const raftMessageTimeoutMs = 1_000;
/** Waiting clients at most, across writes and reads; beyond it new operations are refused. */
export const kvWaitersMax = 10_000;
/** Entries applied since the last snapshot before the peer compacts its log. */
export const snapshotEveryEntries = 10_000;

export type ReadConsistency = 'linearizable' | 'session' | 'stale';

export interface WriteOutcome {
  /** The write's log index: the session token a client passes to read its own write elsewhere. */
  index: number;
  /** The command's result once applied; absent for acks=leader, which answers before the commit. */
  result?: KvResult;
}

export interface RaftPeerOptions {
  id: PeerId;
  store: RaftStore;
  transport: Transport;
  /** Where each voter listens; its node ID is its Raft id. */
  addresses: ReadonlyMap<PeerId, PeerAddress>;
  /** The founding voters, when this peer founds a new cluster (ignored if the store holds a log). */
  foundingVoters?: readonly PeerId[];
  rng: Rng;
  tickMs: number;
  settings?: Partial<RaftSettings>;
  logger: Logger;
}

/** A write as a client asks for it; the peer adds the (client, sequence) pair that makes it a KvCommand. */
export type KvWrite =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string | null };

type WriteRequest = { command: KvWrite; acks: AckLevel | undefined };

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class RaftPeer {
  readonly id: PeerId;
  private readonly node: RaftNode;
  private readonly kv = new KvStateMachine();
  private readonly options: RaftPeerOptions;
  private readonly client = `${randomBytes(6).toString('hex')}`;
  private sequence = 0;
  /** Writes this peer proposed as leader and whose clients wait; `index` is set once acknowledged. */
  private readonly proposals = new Map<string, Waiter<WriteOutcome> & { acks: AckLevel; index?: number; proposedIndex?: number }>();
  /** The log indexes of those proposals, so that only their results are kept when applied (bounded by kvWaitersMax). */
  private readonly awaitedIndexes = new Set<number>();
  /** Linearizable reads waiting for their read index, with the leader and term they were asked of. */
  private readonly reads = new Map<string, Waiter<number> & { leader?: string; term?: number }>();
  private readonly appliedWaiters: { index: number; waiter: Waiter<void> }[] = [];
  private readonly results = new Map<number, KvResult>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private pumpScheduled = false;
  private stopped = false;
  private appliedSinceSnapshot = 0;

  constructor(options: RaftPeerOptions) {
    this.options = options;
    this.id = options.id;
    let stored = options.store.load();
    if (stored.entries.length === 0 && stored.snapshot.meta.index === 0 && options.foundingVoters !== undefined) {
      stored = bootstrapStoredState(options.foundingVoters);
      options.store.write({ hardState: stored.hardState, entries: stored.entries });
    }
    this.kv.restore(stored.snapshot.data);
    this.node = new RaftNode({ id: options.id, rng: options.rng, stored, settings: options.settings });
    options.transport.handle(raftMessageMethod, (body, context) => this.receive(body, context));
    options.transport.handle(raftClientMethod, (body) => this.serveForwardedWrite(body));
  }

  start(): void {
    this.timer = setInterval(() => {
      this.node.tick();
      this.schedulePump();
    }, this.options.tickMs);
    this.schedulePump();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    const stopping = new KvUnavailableError('the peer is stopping; retry on another peer', undefined);
    for (const waiter of this.proposals.values()) this.settle(waiter, stopping);
    for (const waiter of this.reads.values()) this.settle(waiter, stopping);
    for (const { waiter } of this.appliedWaiters.splice(0)) this.settle(waiter, stopping);
    this.proposals.clear();
    this.awaitedIndexes.clear();
    this.results.clear();
    this.reads.clear();
    this.options.store.close();
  }

  status(): RaftStatus {
    return this.node.status();
  }

  get leader(): PeerId | undefined {
    return this.node.leader;
  }

  // ---- client operations --------------------------------------------------------------------

  /** A put, delete or compare-and-set; forwarded to the leader when this peer is not it. */
  async write(command: KvWrite, acks?: AckLevel): Promise<WriteOutcome> {
    if (this.node.role === 'leader') return this.proposeLocally(command, acks);
    const leader = this.node.leader;
    const address = leader === undefined ? undefined : this.options.addresses.get(leader);
    if (leader === undefined || address === undefined) throw new KvUnavailableError('no leader is known right now (an election may be under way); retry shortly', leader);
    try {
      return (await this.options.transport.request({ ...address, nodeId: leader }, raftClientMethod, { command, acks }, { timeoutMs: kvOperationTimeoutMs })) as WriteOutcome;
    } catch (error) {
      throw forwardingError(error, leader);
    }
  }

  async read(key: string, consistency: ReadConsistency, sessionIndex = 0): Promise<{ value: string | null; index: number }> {
    if (consistency === 'linearizable') {
      const readIndex = await this.readIndex();
      await this.waitApplied(readIndex);
    } else if (consistency === 'session') {
      await this.waitApplied(sessionIndex);
    }
    return { value: this.kv.get(key), index: this.kv.appliedIndex };
  }

  private proposeLocally(command: KvWrite, acks: AckLevel | undefined): Promise<WriteOutcome> {
    this.checkRoom();
    const full = { ...command, client: this.client, sequence: ++this.sequence } as KvCommand;
    const data = encodeKvCommand(full);
    const proposalId = `${this.client}:${full.sequence}`;
    const level = acks ?? this.options.settings?.defaultAcks ?? 'quorum';
    return new Promise<WriteOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.forgetProposal(proposalId);
        reject(new KvTimeoutError(`the write was not acknowledged within ${kvOperationTimeoutMs} ms; its outcome is unknown`));
      }, kvOperationTimeoutMs);
      const waiter: Waiter<WriteOutcome> & { acks: AckLevel; proposedIndex?: number } = { resolve, reject, timer, acks: level };
      this.proposals.set(proposalId, waiter);
      try {
        waiter.proposedIndex = this.node.propose(data, { proposalId, acks: level }).index;
        this.awaitedIndexes.add(waiter.proposedIndex);
      } catch (error) {
        clearTimeout(timer);
        this.proposals.delete(proposalId);
        reject(error instanceof NotLeaderError ? new KvUnavailableError('this peer lost the leadership; retry', error.leaderHint) : error);
        return;
      }
      this.schedulePump();
    });
  }

  /**
   * A read index asked of a leader that has since been replaced will never be answered (the
   * request or its answer died with it): refuse it now, so the caller retries with the new
   * leader instead of waiting out the timeout.
   */
  private abandonReadsOfFormerLeaders(): void {
    if (this.reads.size === 0) return;
    const leader = this.node.leader;
    const { term } = this.node.status();
    for (const [requestId, waiter] of this.reads) {
      if (waiter.term === term && (waiter.leader === undefined || waiter.leader === leader)) continue;
      this.reads.delete(requestId);
      this.settle(waiter, new KvUnavailableError('the leader changed before it confirmed the read; retry', leader));
    }
  }

  private readIndex(): Promise<number> {
    this.checkRoom();
    const requestId = randomBytes(8).toString('hex');
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reads.delete(requestId);
        reject(new KvTimeoutError(`the leader did not confirm a read index within ${kvOperationTimeoutMs} ms`));
      }, kvOperationTimeoutMs);
      this.reads.set(requestId, { resolve, reject, timer, leader: this.node.leader, term: this.node.status().term });
      this.node.readIndex(requestId);
      this.schedulePump();
    });
  }

  private waitApplied(index: number): Promise<void> {
    if (this.kv.appliedIndex >= index) return Promise.resolve();
    this.checkRoom();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const position = this.appliedWaiters.findIndex((item) => item.waiter.timer === timer);
        if (position >= 0) this.appliedWaiters.splice(position, 1);
        reject(new KvTimeoutError(`this peer had not applied index ${index} within ${kvOperationTimeoutMs} ms (it is at ${this.kv.appliedIndex})`));
      }, kvOperationTimeoutMs);
      this.appliedWaiters.push({ index, waiter: { resolve, reject, timer } });
    });
  }

  private checkRoom(): void {
    if (this.stopped) throw new KvUnavailableError('the peer is stopping; retry on another peer', undefined);
    if (this.proposals.size + this.reads.size + this.appliedWaiters.length >= kvWaitersMax) {
      throw new KvUnavailableError(`this peer already has ${kvWaitersMax} operations waiting; retry later`, undefined);
    }
  }

  // ---- network ------------------------------------------------------------------------------

  private receive(body: unknown, context: RpcContext): null {
    const problem = raftMessageProblem(body, this.id, context.peer.nodeId);
    if (problem !== undefined) {
      this.options.logger.warn({ from: context.peer.nodeId, problem }, 'raft message refused');
      throw new RpcHandlerError('BAD_RAFT_MESSAGE', problem);
    }
    if (!this.stopped) {
      this.node.step(asRaftMessage(body));
      this.schedulePump();
    }
    return null;
  }

  private async serveForwardedWrite(body: unknown): Promise<WriteOutcome> {
    const problem = forwardedWriteProblem(body);
    if (problem !== undefined) throw new RpcHandlerError('BAD_KV_COMMAND', problem);
    const { command, acks } = body as WriteRequest;
    if (this.node.role !== 'leader') throw new RpcHandlerError('KV_UNAVAILABLE', `the peer the write was forwarded to is no longer the leader (it believes in ${this.node.leader ?? 'no leader'}); retry`);
    try {
      return await this.proposeLocally(command, acks);
    } catch (error) {
      // Carry the error's code across, so the client's peer can tell unavailable from unknown outcome.
      const code = (error as { code?: unknown }).code;
      throw new RpcHandlerError(typeof code === 'string' ? code : 'KV_FAILED', error instanceof Error ? error.message : String(error));
    }
  }

  private send(ready: Ready): void {
    for (const message of ready.messages) {
      const address = this.options.addresses.get(message.to);
      if (address === undefined) continue;
      // Raft tolerates lost messages: a failed send is dropped and the core retries on its own schedule.
      this.options.transport.request({ ...address, nodeId: message.to }, raftMessageMethod, message, { timeoutMs: raftMessageTimeoutMs }).catch(() => undefined);
    }
  }

  // ---- the loop -----------------------------------------------------------------------------

  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (!this.stopped) this.pump();
    });
  }

  private pump(): void {
    while (this.node.hasReady()) {
      const ready = this.node.ready();
      this.options.store.write({ hardState: ready.hardState, snapshot: ready.snapshot, entries: ready.entries });
      this.send(ready);
      if (ready.snapshot?.fromLeader === true) this.kv.restore(ready.snapshot.snapshot.data);
      for (const entry of ready.committedEntries) {
        if (entry.index <= this.kv.appliedIndex) continue;
        const applied = this.kv.apply(entry);
        if (applied?.result !== undefined && this.awaitedIndexes.has(entry.index)) this.results.set(entry.index, applied.result);
        this.appliedSinceSnapshot++;
      }
      this.settleClients(ready);
      this.node.advance();
      this.maybeCompact();
    }
  }

  private settleClients(ready: Ready): void {
    for (const acknowledgement of ready.acknowledged) {
      const waiter = this.proposals.get(acknowledgement.proposalId);
      if (waiter === undefined) continue;
      waiter.index = acknowledgement.index;
      if (waiter.acks === 'leader') this.finishProposal(acknowledgement.proposalId, { index: acknowledgement.index });
    }
    for (const abandoned of ready.abandoned) {
      const waiter = this.proposals.get(abandoned.proposalId);
      if (waiter === undefined) continue;
      this.forgetProposal(abandoned.proposalId);
      this.settle(waiter, new KvOutcomeUnknownError(`the leader stepped down before write ${abandoned.index} was acknowledged; it may or may not have been applied: read the key to find out before retrying`));
    }
    // quorum and all answer once acknowledged AND applied, with the command's result.
    for (const [proposalId, waiter] of this.proposals) {
      if (waiter.index !== undefined && waiter.index <= this.kv.appliedIndex) {
        const result = this.results.get(waiter.index);
        this.finishProposal(proposalId, result === undefined ? { index: waiter.index } : { index: waiter.index, result });
      }
    }
    for (const state of ready.readStates) {
      const waiter = this.reads.get(state.requestId);
      if (waiter === undefined) continue;
      this.reads.delete(state.requestId);
      clearTimeout(waiter.timer);
      waiter.resolve(state.index);
    }
    for (const refusal of ready.readRefusals) {
      const waiter = this.reads.get(refusal.requestId);
      if (waiter === undefined) continue;
      this.reads.delete(refusal.requestId);
      this.settle(waiter, new KvUnavailableError('no leader could confirm a linearizable read; retry shortly', refusal.leaderHint));
    }
    this.abandonReadsOfFormerLeaders();
    const applied = this.kv.appliedIndex;
    for (let position = this.appliedWaiters.length - 1; position >= 0; position--) {
      const { index, waiter } = this.appliedWaiters[position];
      if (index > applied) continue;
      this.appliedWaiters.splice(position, 1);
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  private finishProposal(proposalId: string, outcome: WriteOutcome): void {
    const waiter = this.proposals.get(proposalId);
    if (waiter === undefined) return;
    this.forgetProposal(proposalId);
    clearTimeout(waiter.timer);
    waiter.resolve(outcome);
  }

  /** Drops a proposal and the result kept for its index. */
  private forgetProposal(proposalId: string): void {
    const waiter = this.proposals.get(proposalId);
    if (waiter === undefined) return;
    this.proposals.delete(proposalId);
    if (waiter.proposedIndex !== undefined) {
      this.awaitedIndexes.delete(waiter.proposedIndex);
      this.results.delete(waiter.proposedIndex);
    }
  }

  private settle<T>(waiter: Waiter<T>, error: Error): void {
    clearTimeout(waiter.timer);
    waiter.reject(error);
  }

  /** Bounds the log: past `snapshotEveryEntries` applied entries, snapshot the state machine and let the core drop what it covers. */
  private maybeCompact(): void {
    if (this.appliedSinceSnapshot < snapshotEveryEntries || this.node.hasReady()) return;
    this.node.compact(this.kv.appliedIndex, this.kv.snapshot());
    this.appliedSinceSnapshot = 0;
    this.schedulePump();
  }
}

/** The error a client sees when its write, forwarded to the leader, failed there or on the way. */
function forwardingError(error: unknown, leader: PeerId): Error {
  // Refused on this side before it was sent (too many requests in flight): never proposed, so safe to retry.
  if ((error as { code?: unknown }).code === 'RPC_IN_FLIGHT_LIMIT') return new KvUnavailableError(`too many requests are on their way to the leader ${leader}; retry`, leader);
  if (error instanceof RpcRemoteError) {
    if (error.remoteCode === 'KV_OUTCOME_UNKNOWN') return new KvOutcomeUnknownError(error.remoteMessage);
    if (error.remoteCode === 'KV_TIMEOUT') return new KvTimeoutError(error.remoteMessage);
    if (error.remoteCode === 'KV_COMMAND_INVALID') return new KvCommandError(error.remoteMessage);
    return new KvUnavailableError(`the leader ${leader} refused the write: ${error.remoteMessage}`, leader);
  }
  // The request may have reached the leader before the connection failed.
  return new KvOutcomeUnknownError(`the write was forwarded to the leader ${leader} but no answer came back (${error instanceof Error ? error.message : String(error)}); it may or may not have been applied: read the key to find out before retrying`);
}
