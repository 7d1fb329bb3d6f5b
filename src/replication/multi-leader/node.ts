/**
 * One multi-leader peer as a pure state machine in the etcd-io/raft style (DESIGN.md
 * sections 3 and 5): clients' writes, peers' messages and ticks go in; a Ready of plain data
 * comes out, which the shell persists in one transaction, then sends and answers, then calls
 * `advance()`.
 *
 * Every peer accepts writes. A write is applied to the local state at once, appended to the
 * peer's own change log (seq 1, 2, ... per origin) and acknowledged once that Ready is
 * durable. The log is shipped to every other peer in the background, one batch in flight per
 * peer; the receiver applies what follows its applied cursor for that origin (the applied
 * version vector, persisted with the keys), ignores duplicates and gaps, and acknowledges its
 * cursor, so the sender resumes from there after loss, partitions and restarts of either side.
 * Own entries are dropped once every peer has acknowledged them.
 */
import { assert } from '../../core/assert.js';
import type { Rng } from '../../core/rng.js';
import { applyWrite, emptyRegister, HybridLogicalClock, TooManySiblingsError, versionVectorProblem, type HlcTimestamp, type RegisterState, type VersionVector } from '../versions/index.js';
import { mergeChange, registerDelta } from './key-state.js';
import { keyProblem, valueProblem } from './messages.js';
import { checkRestoredState, type RestoredState } from './restore.js';
import { multiLeaderSettings, shipValueCharactersMax, type MultiLeaderSettings } from './settings.js';
import type { Change, ChangeEntry, KeyState, MultiLeaderMessage, MultiLeaderReady, MultiLeaderReply, MultiLeaderStatus, MultiLeaderWrite, SetElement } from './types.js';

export interface MultiLeaderNodeOptions {
  id: string;
  /** Every storage peer, this one included. */
  peers: readonly string[];
  settings?: Partial<MultiLeaderSettings>;
  rng: Rng;
  restored?: RestoredState;
}

/** What this peer knows of shipping its own log to one other peer. */
interface Progress {
  up: boolean;
  /** The last own seq the peer has acknowledged (durably applied). */
  acknowledgedSeq: number;
  /** The last own seq sent to it; above acknowledgedSeq while a batch is in flight. */
  sentThroughSeq: number;
  ticksSinceSend: number;
  ticksSinceAck: number;
  /** Ships on ticks whose count modulo shipIntervalTicks equals this, so peers do not all ship on the same tick. */
  shipPhase: number;
}

/** A reply waiting for its Ready; successful ones get the Ready's applied vector as their session token. */
type PendingReply = Extract<MultiLeaderReply, { ok: false }> | Omit<Extract<MultiLeaderReply, { ok: true }>, 'applied'>;

export class MultiLeaderNode {
  readonly id: string;
  readonly settings: MultiLeaderSettings;
  private readonly keys: Map<string, KeyState>;
  /**
   * The keys as the last durable Ready left them: what reads see. Showing a change before it is
   * on disk would let a client read a write that a crash then loses, and write back a context
   * that names its dot; the restarted peer reuses that dot for another write, which the stale
   * context would then silently supersede.
   */
  private readonly durableKeys: Map<string, KeyState>;
  private readonly applied: Record<string, number>;
  /**
   * Own entries with seq truncatedThrough + 1 .. ownSeq, from `log[logStart]` on. Truncation
   * moves `logStart` and compacts the array only now and then, so that an ack costs no copy of
   * a long log.
   */
  private log: ChangeEntry[];
  private logStart = 0;
  private truncatedThrough: number;
  private readonly clock: HybridLogicalClock;
  private readonly progress = new Map<string, Progress>();
  /** The applied vector of the last Ready the shell made durable: what session tokens are checked against. */
  private durableApplied: VersionVector;
  private ticks = 0;
  private pendingLog: ChangeEntry[] = [];
  private pendingTruncation: number | undefined;
  private pendingKeys = new Map<string, KeyState>();
  private pendingMessages: MultiLeaderReady['messages'] = [];
  private pendingReplies: PendingReply[] = [];
  /** Peers whose changes arrived since the last Ready: each gets one ack with the cursor the Ready persists. */
  private pendingAcks = new Set<string>();
  private readyOutstanding: MultiLeaderReady | undefined;

  constructor(options: MultiLeaderNodeOptions) {
    assert(options.peers.includes(options.id), `the peer list must include this peer (${options.id})`);
    assert(new Set(options.peers).size === options.peers.length, 'the peer list names a peer twice');
    this.id = options.id;
    this.settings = multiLeaderSettings(options.settings);
    const state = checkRestoredState(options.id, options.restored);
    this.keys = state.keys;
    this.durableKeys = new Map(state.keys);
    this.applied = state.applied;
    this.log = state.log;
    this.truncatedThrough = state.truncatedThrough;
    this.clock = new HybridLogicalClock(options.id, state.lastTimestamp);
    this.durableApplied = { ...state.applied };
    for (const peer of options.peers) {
      if (peer === options.id) continue;
      // Every peer had acknowledged the truncated entries; the real cursor arrives with the first ack.
      const acknowledgedSeq = state.truncatedThrough;
      this.progress.set(peer, { up: true, acknowledgedSeq, sentThroughSeq: acknowledgedSeq, ticksSinceSend: 0, ticksSinceAck: 0, shipPhase: options.rng.nextInt(this.settings.shipIntervalTicks) });
    }
  }

  private get logEntries(): number {
    return this.log.length - this.logStart;
  }

  private get ownSeq(): number {
    return this.applied[this.id] ?? 0;
  }

  // ---- clients -----------------------------------------------------------------------------

  /** Takes a client's write; its reply comes in a Ready, after the write is durable (or at once, if refused). */
  write(write: MultiLeaderWrite, nowMs: number): void {
    assert(Number.isFinite(nowMs), 'nowMs must be a finite number of milliseconds');
    assert(typeof write.requestId === 'string', 'a write needs a requestId string');
    const refuse = (code: Extract<MultiLeaderReply, { ok: false }>['code'], message: string) => {
      this.pendingReplies.push({ requestId: write.requestId, ok: false, code, message });
    };
    const problem = writeProblem(write);
    if (problem !== undefined) return refuse('KV_COMMAND_INVALID', problem);
    if (this.logEntries >= this.settings.logEntriesMax) {
      const behind = [...this.progress].filter(([, progress]) => progress.acknowledgedSeq === this.truncatedThrough).map(([peer]) => peer);
      return refuse('KV_UNAVAILABLE', `this peer keeps ${this.logEntries} changes (logEntriesMax) that peer ${behind.join(', ')} has not acknowledged, and takes no more writes until it does: bring that peer back or remove it from the cluster`);
    }
    const current = this.keys.get(write.key);
    if (write.kind === 'put') {
      if (current?.kind === 'set') return refuse('KV_COMMAND_INVALID', `key ${JSON.stringify(write.key)} is an append-only set: append to it, or put under another key`);
      this.put(write, current?.state ?? emptyRegister, nowMs, refuse);
      return;
    }
    if (current?.kind === 'register') return refuse('KV_COMMAND_INVALID', `key ${JSON.stringify(write.key)} is a register: put to it, or append under another key`);
    const elements = current?.elements ?? [];
    if (elements.length >= this.settings.setElementsMax) return refuse('KV_COMMAND_INVALID', `set ${JSON.stringify(write.key)} holds ${elements.length} elements, its limit (setElementsMax); continue under a new key`);
    const seq = this.ownSeq + 1;
    const element: SetElement = { id: `${this.id}:${seq}`, timestamp: this.clock.now(nowMs), value: write.value };
    this.record({ origin: this.id, seq, key: write.key, change: { kind: 'append', element } });
    this.pendingReplies.push({ requestId: write.requestId, ok: true, element });
  }

  private put(write: Extract<MultiLeaderWrite, { kind: 'put' }>, before: RegisterState, nowMs: number, refuse: (code: 'KV_TOO_MANY_SIBLINGS', message: string) => void): void {
    // A write without a context replaces what this peer has seen (the key's clock here), as a
    // leaderless coordinator's does: a client writing one key again and again makes no siblings,
    // and concurrent writes on other peers still survive as siblings.
    const context = write.context ?? before.clock;
    const lastWriterWins = write.lastWriterWins === true;
    let result;
    try {
      result = applyWrite(before, { node: this.id, context, value: write.value, timestamp: this.clock.now(nowMs), lastWriterWins, key: write.key });
    } catch (error) {
      if (error instanceof TooManySiblingsError) return refuse('KV_TOO_MANY_SIBLINGS', error.message);
      throw error;
    }
    const delta = registerDelta(before, result.state, result.dot, context, lastWriterWins);
    this.record({ origin: this.id, seq: this.ownSeq + 1, key: write.key, change: { kind: 'put', delta } });
    this.pendingReplies.push({ requestId: write.requestId, ok: true, state: this.keyState(write.key, 'register') });
  }

  /** A new own change: applied here, appended to the own log, persisted with the next Ready. */
  private record(entry: ChangeEntry): void {
    assert(entry.seq === this.ownSeq + 1, 'own changes are numbered consecutively');
    this.applyChange(entry.key, entry.change);
    this.applied[this.id] = entry.seq;
    this.log.push(entry);
    this.pendingLog.push(entry);
    this.truncateAcknowledged();
  }

  private keyState(key: string, kind: 'register'): RegisterState {
    const state = this.keys.get(key);
    assert(state?.kind === kind, `key ${key} should be a ${kind} here`);
    return state.state;
  }

  /** This peer's durable copy of a key, at once (it may not hold the latest writes made elsewhere). */
  read(key: string): KeyState | undefined {
    return this.durableKeys.get(key);
  }

  /** What this peer has durably applied, per origin: a session read waits until this descends the token. */
  appliedVector(): VersionVector {
    return this.durableApplied;
  }

  // ---- peers -------------------------------------------------------------------------------

  step(from: string, message: MultiLeaderMessage, nowMs: number): void {
    const progress = this.progress.get(from);
    if (progress === undefined) return; // not a peer of this cluster (or this peer itself)
    if (message.type === 'ack') return this.acknowledged(from, progress, message.appliedSeq);
    this.pendingAcks.add(from);
    for (const entry of message.entries) {
      // Entries are shipped by their origin only; anything else is a confused or lying peer.
      if (entry.origin !== from) return;
      const next = (this.applied[from] ?? 0) + 1;
      if (entry.seq < next) continue; // a duplicate
      if (entry.seq > next) return; // a gap: the ack tells the sender where to resume
      this.observe(entry.change, nowMs);
      this.applyChange(entry.key, entry.change);
      this.applied[from] = entry.seq;
    }
  }

  tick(): void {
    this.ticks++;
    for (const [peer, progress] of this.progress) {
      progress.ticksSinceSend++;
      progress.ticksSinceAck++;
      if (this.ticks % this.settings.shipIntervalTicks === progress.shipPhase) this.ship(peer, progress);
    }
  }

  /** The shell's failure detector: nothing is shipped to a peer that is down; when it is back, shipping resumes from its acknowledged cursor. */
  setPeerUp(peer: string, up: boolean): void {
    const progress = this.progress.get(peer);
    if (progress === undefined || progress.up === up) return;
    progress.up = up;
    progress.sentThroughSeq = progress.acknowledgedSeq;
    if (up) this.ship(peer, progress);
  }

  private acknowledged(peer: string, progress: Progress, appliedSeq: number): void {
    // A peer cannot have applied changes this peer never made; such an ack is ignored.
    if (appliedSeq > this.ownSeq) return;
    progress.ticksSinceAck = 0;
    if (appliedSeq <= progress.acknowledgedSeq) return;
    progress.acknowledgedSeq = appliedSeq;
    this.truncateAcknowledged();
    if (appliedSeq >= progress.sentThroughSeq) {
      // The batch in flight arrived: send the next one now rather than at the next tick.
      progress.sentThroughSeq = appliedSeq;
      this.ship(peer, progress);
    }
  }

  /** Sends the next batch to one peer, unless one is in flight and not yet overdue. */
  private ship(peer: string, progress: Progress): void {
    if (!progress.up || progress.acknowledgedSeq >= this.ownSeq) return;
    if (progress.sentThroughSeq > progress.acknowledgedSeq) {
      if (progress.ticksSinceSend < this.settings.retransmitTicks) return;
      progress.sentThroughSeq = progress.acknowledgedSeq; // overdue: resend from the cursor
    }
    const first = progress.sentThroughSeq + 1;
    assert(first > this.truncatedThrough, `entry ${first} was truncated before peer ${peer} acknowledged it`);
    const entries: ChangeEntry[] = [];
    let characters = 0;
    for (let seq = first; seq <= this.ownSeq && entries.length < this.settings.shipBatchMax; seq++) {
      const entry = this.log[this.logStart + seq - this.truncatedThrough - 1];
      characters += changeCharacters(entry.change);
      if (entries.length > 0 && characters > shipValueCharactersMax) break;
      entries.push(entry);
    }
    progress.sentThroughSeq = entries[entries.length - 1].seq;
    progress.ticksSinceSend = 0;
    this.pendingMessages.push({ to: peer, message: { type: 'changes', entries } });
  }

  /** Drops own entries that every peer has acknowledged. */
  private truncateAcknowledged(): void {
    let through = this.ownSeq;
    for (const progress of this.progress.values()) through = Math.min(through, progress.acknowledgedSeq);
    if (through <= this.truncatedThrough) return;
    this.logStart += through - this.truncatedThrough;
    if (this.logStart >= 1024 && this.logStart * 2 >= this.log.length) {
      this.log = this.log.slice(this.logStart);
      this.logStart = 0;
    }
    this.truncatedThrough = through;
    this.pendingTruncation = through;
  }

  private observe(change: Change, nowMs: number): void {
    if (change.kind === 'append') return this.clock.observe(change.element.timestamp, nowMs);
    for (const sibling of change.delta.siblings) this.clock.observe(sibling.timestamp, nowMs);
  }

  private applyChange(key: string, change: Change): void {
    const merged = mergeChange(this.keys.get(key), change);
    if (merged === undefined) return;
    this.keys.set(key, merged);
    this.pendingKeys.set(key, merged);
  }

  // ---- Ready -------------------------------------------------------------------------------

  hasReady(): boolean {
    if (this.readyOutstanding !== undefined) return false;
    return this.pendingLog.length > 0 || this.pendingTruncation !== undefined || this.pendingKeys.size > 0 || this.pendingMessages.length > 0 || this.pendingReplies.length > 0 || this.pendingAcks.size > 0;
  }

  /**
   * Everything produced since the last Ready. Call `advance()` once it is persisted (before or
   * after sending and answering): reads and the applied vector show its changes from then on.
   */
  ready(): MultiLeaderReady {
    assert(this.readyOutstanding === undefined, 'ready() called again before advance()');
    const applied: VersionVector = { ...this.applied };
    const messages = this.pendingMessages;
    for (const peer of this.pendingAcks) messages.push({ to: peer, message: { type: 'ack', appliedSeq: applied[peer] ?? 0 } });
    const ready: MultiLeaderReady = {
      logToAppend: this.pendingLog,
      logTruncatedThrough: this.pendingTruncation,
      keysToPersist: [...this.pendingKeys].map(([key, state]) => ({ key, state })),
      applied,
      messages,
      replies: this.pendingReplies.map((reply): MultiLeaderReply => (reply.ok ? { ...reply, applied } : reply)),
    };
    this.pendingLog = [];
    this.pendingTruncation = undefined;
    this.pendingKeys = new Map();
    this.pendingMessages = [];
    this.pendingReplies = [];
    this.pendingAcks = new Set();
    this.readyOutstanding = ready;
    return ready;
  }

  advance(): void {
    assert(this.readyOutstanding !== undefined, 'advance() without a ready()');
    this.durableApplied = this.readyOutstanding.applied;
    for (const { key, state } of this.readyOutstanding.keysToPersist) this.durableKeys.set(key, state);
    this.readyOutstanding = undefined;
  }

  status(): MultiLeaderStatus {
    const ownSeq = this.ownSeq;
    return {
      id: this.id,
      applied: { ...this.applied },
      ownSeq,
      logEntries: this.logEntries,
      peers: [...this.progress].map(([id, progress]) => ({
        id, up: progress.up, acknowledgedSeq: progress.acknowledgedSeq, entriesBehind: ownSeq - progress.acknowledgedSeq, ticksSinceAck: progress.ticksSinceAck,
      })),
    };
  }

  /** The largest timestamp this peer issued or saw (a shell may persist it; the core also derives it from the keys on restore). */
  lastTimestamp(): HlcTimestamp {
    return this.clock.last();
  }
}

function writeProblem(write: MultiLeaderWrite): string | undefined {
  const badKey = keyProblem(write.key);
  if (badKey !== undefined) return badKey;
  if (write.kind === 'append') return typeof write.value === 'string' ? valueProblem(write.value) : 'an append needs value, a string';
  if (write.kind !== 'put') return `a write's kind is put or append, not ${JSON.stringify((write as { kind: unknown }).kind)}`;
  if (write.value !== null && typeof write.value !== 'string') return 'a put needs value, a string or null (to delete)';
  if (write.value !== null) {
    const badValue = valueProblem(write.value);
    if (badValue !== undefined) return badValue;
  }
  if (write.context !== undefined) {
    const badContext = versionVectorProblem(write.context);
    if (badContext !== undefined) return `the context is not a version vector: ${badContext}; pass the context a read returned`;
  }
  if (write.lastWriterWins !== undefined && typeof write.lastWriterWins !== 'boolean') return 'lastWriterWins must be true or false';
  return undefined;
}

function changeCharacters(change: Change): number {
  if (change.kind === 'append') return change.element.value.length;
  return change.delta.siblings.reduce((total, sibling) => total + (sibling.value?.length ?? 0), 0);
}
