/**
 * A production `MultiLeaderNode` as a simulated peer, doing the shell's duties the way the
 * real shell must: persist each Ready on the simulated disk, wait for the fsync (a tick or
 * two), call `advance()`, and only then send its messages and answer its clients. It is also
 * the failure detector: a peer the workload marks down is probed now and then, and anything
 * received from a peer marks it up again, as src/node/replica/replica-shell.ts does.
 *
 * Clients sit next to their peer (the workload calls `write` and the reads directly), so a
 * partition cuts peers from each other, not clients from their peer: the availability
 * multi-leader replication is for.
 */
import { assert } from '../../core/assert.js';
import type { Rng } from '../../core/rng.js';
import { MultiLeaderNode, type KeyState, type MultiLeaderNodeOptions, type MultiLeaderMessage, type MultiLeaderReady, type MultiLeaderReply, type MultiLeaderSettings, type MultiLeaderWrite } from '../../replication/multi-leader/index.js';
import { descends, type VersionVector } from '../../replication/versions/index.js';
import type { AddressedMessage, SimulatedPeer } from '../peer.js';
import type { SimulatedMultiLeaderDisk } from './disk.js';

/**
 * Deliberate bugs a test turns on to show that the checkers catch them:
 * - `ackBeforeFsync`: answer clients and send messages before the Ready is on disk;
 * - `loseKeysOnRestart`: restart with the persisted cursor but without the keys;
 * - `sessionReadsIgnoreToken`: serve session reads at once, without waiting for the token.
 */
export type MultiLeaderMutation = 'none' | 'ackBeforeFsync' | 'loseKeysOnRestart' | 'sessionReadsIgnoreToken';

/**
 * What travels between simulated peers: the core's messages, and the shell's probes of a peer
 * it believes down (a probe is answered, and any arrival from a peer marks it up).
 */
export type SimulatedMultiLeaderMessage = { kind: 'core'; message: MultiLeaderMessage } | { kind: 'probe' } | { kind: 'probeReply' };

/** Session reads one peer holds while it catches up to their tokens. */
export const sessionReadsMax = 256;
/** A peer believed down is probed every this many ticks. */
export const probeIntervalTicks = 20;

export interface MultiLeaderPeerOptions {
  address: string;
  peers: readonly string[];
  disk: SimulatedMultiLeaderDisk;
  settings: Partial<MultiLeaderSettings>;
  /** Ticks an fsync takes. */
  fsyncTicks: number;
  /** This peer's wall clock: the simulated time plus its skew, in milliseconds. */
  wallClockMs: () => number;
  mutation: MultiLeaderMutation;
  /** Makes the core; a test hands in a deliberately broken one to show the checkers catch it. */
  makeNode?: (options: MultiLeaderNodeOptions) => MultiLeaderNode;
  /** The core accepted a write as its own change `seq` (it may still be lost to a crash before its fsync). */
  accepted?: (seq: number, write: MultiLeaderWrite) => void;
}

interface SessionRead {
  key: string;
  token: VersionVector;
  ticksLeft: number;
  answer: (state: KeyState | undefined, applied: VersionVector | undefined) => void;
}

export class SimulatedMultiLeaderPeer implements SimulatedPeer<SimulatedMultiLeaderMessage> {
  readonly node: MultiLeaderNode;
  private readonly options: MultiLeaderPeerOptions;
  private outbox: AddressedMessage<SimulatedMultiLeaderMessage>[] = [];
  private persisting: { ready: MultiLeaderReady; ticksLeft: number } | undefined;
  private readonly waiting = new Map<string, (reply: MultiLeaderReply) => void>();
  private sessionReads: SessionRead[] = [];
  private readonly down = new Set<string>();
  private lastPersistedApplied = '';
  private ticks = 0;

  constructor(options: MultiLeaderPeerOptions, rng: Rng) {
    this.options = options;
    const restored = options.disk.recover(options.mutation === 'loseKeysOnRestart');
    this.lastPersistedApplied = JSON.stringify(restored.applied);
    const nodeOptions = { id: options.address, peers: options.peers, settings: options.settings, rng, restored };
    this.node = options.makeNode?.(nodeOptions) ?? new MultiLeaderNode(nodeOptions);
  }

  // ---- what clients call ----------------------------------------------------------------

  /** A write; `answer` gets the reply once it is durable (or at once, if refused). */
  write(write: MultiLeaderWrite, answer: (reply: MultiLeaderReply) => void): void {
    assert(!this.waiting.has(write.requestId), `request ${write.requestId} is already waiting`);
    this.waiting.set(write.requestId, answer);
    const before = this.node.status().ownSeq;
    this.node.write(write, this.options.wallClockMs());
    const after = this.node.status().ownSeq;
    if (after > before) this.options.accepted?.(after, write);
  }

  /** A read of this peer's copy, at once. */
  read(key: string): { state: KeyState | undefined; applied: VersionVector } {
    return { state: this.node.read(key), applied: this.node.appliedVector() };
  }

  /** A read that first waits (up to `ticksMax`) until this peer has applied everything `token` names; `answer` gets undefined on time-out. */
  sessionRead(key: string, token: VersionVector, ticksMax: number, answer: SessionRead['answer']): void {
    if (this.options.mutation === 'sessionReadsIgnoreToken' || descends(this.node.appliedVector(), token)) return answer(this.node.read(key), this.node.appliedVector());
    if (this.sessionReads.length >= sessionReadsMax) return answer(undefined, undefined);
    this.sessionReads.push({ key, token, ticksLeft: ticksMax, answer });
  }

  /** The shell's failure detector says a peer cannot be reached. */
  markDown(peer: string): void {
    if (peer === this.options.address || this.down.has(peer)) return;
    this.down.add(peer);
    this.node.setPeerUp(peer, false);
  }

  // ---- SimulatedPeer ---------------------------------------------------------------------

  tick(): void {
    this.ticks++;
    this.node.tick();
    if (this.ticks % probeIntervalTicks === 0) {
      for (const peer of this.down) this.outbox.push({ to: peer, message: { kind: 'probe' } });
    }
    for (const read of this.sessionReads) read.ticksLeft--;
    const expired = this.sessionReads.filter((read) => read.ticksLeft <= 0);
    this.sessionReads = this.sessionReads.filter((read) => read.ticksLeft > 0);
    for (const read of expired) read.answer(undefined, undefined);
    if (this.persisting !== undefined && --this.persisting.ticksLeft <= 0) this.finishReady();
  }

  ticksUntilDue(): number {
    return 1;
  }

  receive(from: string, message: SimulatedMultiLeaderMessage): void {
    if (this.down.delete(from)) this.node.setPeerUp(from, true);
    if (message.kind === 'probe') this.outbox.push({ to: from, message: { kind: 'probeReply' } });
    else if (message.kind === 'core') this.node.step(from, message.message, this.options.wallClockMs());
  }

  takeMessages(): readonly AddressedMessage<SimulatedMultiLeaderMessage>[] {
    while (this.persisting === undefined && this.node.hasReady()) this.startReady();
    const messages = this.outbox;
    this.outbox = [];
    return messages;
  }

  // ---- the Ready contract ----------------------------------------------------------------

  private startReady(): void {
    const ready = this.node.ready();
    const applied = JSON.stringify(ready.applied);
    const needsSync = ready.logToAppend.length > 0 || ready.logTruncatedThrough !== undefined || ready.keysToPersist.length > 0 || applied !== this.lastPersistedApplied;
    this.lastPersistedApplied = applied;
    this.options.disk.write(ready);
    this.persisting = { ready, ticksLeft: this.options.fsyncTicks };
    if (this.options.mutation === 'ackBeforeFsync') this.release(ready);
    if (!needsSync) this.finishReady();
  }

  private finishReady(): void {
    const { ready } = this.persisting!;
    this.persisting = undefined;
    this.options.disk.fsync();
    this.node.advance();
    if (this.options.mutation !== 'ackBeforeFsync') this.release(ready);
    this.answerSessionReads();
  }

  /** Sends a durable Ready's messages and answers its clients. */
  private release(ready: MultiLeaderReady): void {
    for (const { to, message } of ready.messages) this.outbox.push({ to, message: { kind: 'core', message } });
    for (const reply of ready.replies) {
      const answer = this.waiting.get(reply.requestId);
      this.waiting.delete(reply.requestId);
      answer?.(reply);
    }
  }

  private answerSessionReads(): void {
    if (this.sessionReads.length === 0) return;
    const applied = this.node.appliedVector();
    const due = this.sessionReads.filter((read) => descends(applied, read.token));
    this.sessionReads = this.sessionReads.filter((read) => !descends(applied, read.token));
    for (const read of due) read.answer(this.node.read(read.key), applied);
  }
}
