/**
 * One leaderless storage peer (DESIGN.md section 5, Dynamo): a pure state machine in the
 * style of etcd-io/raft. It takes client requests, messages and ticks, and hands back a
 * `LeaderlessReady` the shell persists (one transaction), then sends and answers, then
 * calls `advance()`. Acknowledgements sent in a ready are therefore always fsynced.
 *
 * It plays three parts: coordinator of requests (coordinator.ts), replica of the keys the
 * ring gives it (merging every incoming state with `mergeRegisters`), and stand-in for down
 * peers (handoff.ts). Anti-entropy runs beside them over the ranges of the ring.
 *
 * A peer never forgets a key it held: when the ring moves a key away the peer hands it to the
 * new owners but keeps its copy (the Ready contract has no delete, and a copy that holds the
 * peer's own dots is what stops it from minting a dot twice if the key ever comes back).
 */
import { assert } from '../../core/assert.js';
import type { Rng } from '../../core/rng.js';
import {
  applyWrite, HybridLogicalClock, mergeRegisters, registersEqual, type RegisterState,
} from '../versions/index.js';
import { AntiEntropy } from './anti-entropy/index.js';
import { Coordinator, type CoordinatorHost, type Target } from './coordinator.js';
import { digestOf, HandoffStore } from './handoff.js';
import { leaderlessMessageProblem, requestProblem, type LeaderlessMessage } from './messages.js';
import { HashRing, rangeId } from './ring.js';
import { checkLeaderlessSettings, leaderlessSettings, pushStatesPerMessageMax, type LeaderlessSettings } from './settings.js';
import type { Hint, KvReply, KvRequest, LeaderlessReady, LeaderlessStatus } from './types.js';

export interface LeaderlessNodeOptions {
  id: string;
  /** Every storage peer, this one included. */
  peers: readonly string[];
  settings?: Partial<LeaderlessSettings>;
  rng: Rng;
  /** What the shell read back from its database after a restart. */
  restored?: { states: Iterable<[string, RegisterState]>; hints: Iterable<Hint> };
}

export class LeaderlessNode {
  readonly id: string;
  readonly settings: LeaderlessSettings;
  private ring: HashRing;
  private readonly up = new Map<string, boolean>();
  private readonly states = new Map<string, RegisterState>();
  private readonly handoff: HandoffStore;
  private readonly coordinator: Coordinator;
  private readonly antiEntropy: AntiEntropy;
  private readonly clock: HybridLogicalClock;
  private output = emptyOutput();
  private readyOutstanding = false;
  private lastNowMs = 0;

  constructor(options: LeaderlessNodeOptions) {
    this.id = options.id;
    this.settings = leaderlessSettings(options.settings);
    assert(options.peers.includes(options.id), `the peer list must include this peer (${options.id})`);
    checkLeaderlessSettings(this.settings, new Set(options.peers).size);
    this.ring = new HashRing([...new Set(options.peers)], this.settings.virtualNodesPerPeer);
    for (const peer of this.ring.peers) this.up.set(peer, true);
    this.handoff = new HandoffStore(this.settings.hintsMax, this.settings.handoffIntervalTicks);
    this.coordinator = new Coordinator(this.host(), `${options.rng.nextUint32().toString(36)}${options.rng.nextUint32().toString(36)}`);
    this.antiEntropy = new AntiEntropy({ self: this.id, settings: this.settings.antiEntropy, rng: options.rng.fork() });
    this.clock = new HybridLogicalClock(this.id);
    for (const [key, state] of options.restored?.states ?? []) {
      this.states.set(key, state);
      for (const sibling of state.siblings) this.clock.observe(sibling.timestamp, 0);
    }
    for (const hint of options.restored?.hints ?? []) this.handoff.restoreHint(hint);
    this.rebuildPlacement(undefined);
  }

  // ---- inputs ------------------------------------------------------------------------------

  /**
   * A client request; its reply comes in a later ready's `replies`. Any peer coordinates a get;
   * a put reaching a peer that is not one of the key's n replicas is forwarded to the first
   * replica this peer believes up (only replicas mint dots; see coordinator.ts). `nowMs` is
   * the wall clock, for the hybrid logical clock that orders last-writer-wins keys.
   */
  request(request: KvRequest, nowMs: number): void {
    this.noteTime(nowMs);
    const problem = requestProblem(request);
    if (problem !== undefined) {
      const requestId = typeof (request as { requestId?: unknown })?.requestId === 'string' ? request.requestId : '';
      this.output.replies.push({ requestId, ok: false, code: 'KV_COMMAND_INVALID', message: `invalid request: ${problem}`, answered: 0, needed: 0 });
      return;
    }
    this.coordinator.start(request, nowMs);
  }

  /** A message from peer `from` (validated again here; see leaderlessMessageProblem). */
  step(from: string, message: LeaderlessMessage, nowMs: number): void {
    this.noteTime(nowMs);
    // Messages arrive from the network: a malformed one is dropped here (the shell should already have refused it with the reason).
    if (leaderlessMessageProblem(message) !== undefined) return;
    // Only cluster members are heard, except for a hand-over: a decommissioned peer hands its keys over after it left the ring.
    if (!this.up.has(from) && message.type !== 'handoff') return;
    switch (message.type) {
      case 'write': {
        const stored = this.storeLocally(message.key, message.state, message.hintFor);
        if (message.ackWanted) this.send(from, { type: 'write-ack', requestId: message.requestId, key: message.key, stored });
        return;
      }
      case 'write-ack':
        return this.coordinator.writeAcknowledged(from, message.requestId, message.key, message.stored);
      case 'read':
        return this.send(from, { type: 'read-answer', requestId: message.requestId, key: message.key, state: this.readLocally(message.key, message.hintFor) });
      case 'read-answer':
        return this.coordinator.readAnswered(from, message.requestId, message.key, message.state);
      case 'forward':
        return this.coordinator.start(message.request, nowMs, { peer: from, forwardId: message.forwardId });
      case 'forward-reply':
        return this.coordinator.forwardReplied(from, message.forwardId, message.reply);
      case 'handoff':
        this.mergeOwn(message.key, message.state);
        return this.send(from, { type: 'handoff-ack', key: message.key, hintId: message.hintId, digest: digestOf(message.state) });
      case 'handoff-ack':
        return this.handoffAcknowledged(from, message);
      case 'ae':
        return this.antiEntropy.step(from, message.message);
      case 'ae-push':
        for (const { key, state } of message.states) this.mergeOwn(key, state);
    }
  }

  tick(): void {
    this.coordinator.tick();
    for (const { to, message } of this.handoff.tick((peer) => this.isUp(peer), (key) => this.states.get(key))) this.send(to, message);
    this.antiEntropy.tick();
  }

  /** The shell's failure detector: down peers are not written to (a stand-in takes their place) nor handed hints. */
  setPeerUp(peer: string, up: boolean): void {
    if (!this.up.has(peer) || peer === this.id) return;
    this.up.set(peer, up);
    this.antiEntropy.setPeerUp(peer, up);
  }

  /**
   * A membership change: the ring is rebuilt, and keys this peer no longer owns are handed to
   * their new owners. A list without this peer decommissions it: it owns nothing from then on
   * and hands every key over (stop it once `status().keys` have all been handed, see handoff.ts).
   */
  setPeers(peers: readonly string[]): void {
    const distinct = [...new Set(peers)];
    checkLeaderlessSettings(this.settings, distinct.length);
    const previous = this.ring;
    this.ring = new HashRing(distinct, this.settings.virtualNodesPerPeer);
    for (const peer of [...this.up.keys()]) if (!distinct.includes(peer)) this.up.delete(peer);
    for (const peer of distinct) if (!this.up.has(peer)) this.up.set(peer, true);
    // Hints for peers that left have no owner to go to: they become this peer's own copies, handed to the keys' current owners.
    for (const hint of [...this.handoff.allHints()]) {
      if (distinct.includes(hint.owner)) continue;
      this.handoff.deleteHint(hint.id);
      this.output.hints.set(hint.id, null);
      this.mergeOwn(hint.key, hint.state);
    }
    this.rebuildPlacement(previous);
  }

  // ---- outputs -----------------------------------------------------------------------------

  /** True when a ready has something to persist, send or answer; false while the last ready awaits `advance()`. */
  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    this.drainAntiEntropy();
    const o = this.output;
    return o.states.size + o.hints.size + o.messages.length + o.replies.length > 0;
  }

  /**
   * Drains the outputs. The shell writes `statesToPersist`, `hintsToPersist` and `hintsToDelete`
   * in one transaction and fsyncs it, then sends `messages` and delivers `replies`, then calls
   * `advance()`. Readies must be handled one after another, in order: a later ready's answers
   * may rely on an earlier ready's states being durable.
   */
  ready(): LeaderlessReady {
    assert(!this.readyOutstanding, 'ready() called again before advance()');
    this.drainAntiEntropy();
    const { states, hints, messages, replies } = this.output;
    const ready: LeaderlessReady = {
      statesToPersist: [...states].map(([key, state]) => ({ key, state })),
      hintsToPersist: [...hints.values()].filter((hint): hint is Hint => hint !== null),
      hintsToDelete: [...hints.entries()].filter(([, hint]) => hint === null).map(([id]) => id),
      messages,
      replies,
    };
    this.output = emptyOutput();
    this.readyOutstanding = true;
    return ready;
  }

  advance(): void {
    assert(this.readyOutstanding, 'advance() called without a ready() to acknowledge');
    this.readyOutstanding = false;
  }

  // ---- queries -----------------------------------------------------------------------------

  /** This peer's own copy of the key (not its hints): for stale reads and tests. */
  localState(key: string): RegisterState | undefined {
    return this.states.get(key);
  }

  /** The key's n replicas, in ring order from the key's hash. */
  preferenceList(key: string): string[] {
    return this.ring.walk(key, this.settings.n);
  }

  status(): LeaderlessStatus {
    return {
      id: this.id,
      peers: this.ring.peers.map((peer) => ({ id: peer, up: this.isUp(peer) })),
      keys: this.states.size,
      hintsHeld: this.handoff.hintCount,
      hintsByOwner: this.handoff.hintsByOwner(),
      pendingRequests: this.coordinator.pendingCount,
      readRepairs: this.coordinator.readRepairs,
      antiEntropy: this.antiEntropy.stats(),
      settings: this.settings,
    };
  }

  // ---- replica side ------------------------------------------------------------------------

  private isUp(peer: string): boolean {
    return peer === this.id || this.up.get(peer) === true;
  }

  /** Where a request for `key` goes: the key's replicas that are up, and (sloppy quorum) a stand-in for each that is down. */
  private targets(key: string): Target[] {
    const walk = this.ring.walk(key, this.ring.peers.length);
    const owners = walk.slice(0, this.settings.n);
    const targets: Target[] = owners.filter((peer) => this.isUp(peer)).map((peer) => ({ peer, hintFor: null }));
    if (!this.settings.sloppyQuorum) return targets;
    const standIns = walk.slice(this.settings.n).filter((peer) => this.isUp(peer));
    for (const owner of owners) {
      if (this.isUp(owner)) continue;
      const standIn = standIns.shift();
      if (standIn === undefined) break;
      targets.push({ peer: standIn, hintFor: owner });
    }
    return targets;
  }

  /** A replica write (or one to a stand-in, kept as a hint). False when a full stand-in refused it. */
  private storeLocally(key: string, state: RegisterState, hintFor: string | null): boolean {
    if (hintFor === null || hintFor === this.id) {
      this.mergeOwn(key, state);
      return true;
    }
    this.observe(state);
    const hint = this.handoff.storeHint(hintFor, key, state);
    if (hint === 'full') return false;
    if (hint !== undefined) this.persistHint(hint);
    return true;
  }

  private readLocally(key: string, hintFor: string | null): RegisterState | null {
    const own = this.states.get(key) ?? null;
    if (hintFor === null) return own;
    const hinted = this.handoff.hintState(key);
    if (hinted === null || own === null) return hinted ?? own;
    return mergeRegisters(own, hinted);
  }

  /** Merges a state into this peer's own copy of the key, persisting and recording it if it changed. */
  private mergeOwn(key: string, incoming: RegisterState): void {
    this.observe(incoming);
    const current = this.states.get(key);
    const merged = mergeRegisters(current ?? { clock: {}, siblings: [] }, incoming);
    if (current !== undefined && registersEqual(current, merged)) return;
    this.setState(key, merged);
  }

  private setState(key: string, state: RegisterState): void {
    this.states.set(key, state);
    this.output.states.set(key, state);
    const owners = this.preferenceList(key);
    if (owners.includes(this.id)) this.antiEntropy.record(rangeId(owners), key, digestOf(state));
    else this.handoff.addMove(key, owners);
  }

  private writeLocally(request: Extract<KvRequest, { kind: 'put' }>, nowMs: number): RegisterState {
    const current = this.states.get(request.key) ?? { clock: {}, siblings: [] };
    const { state } = applyWrite(current, {
      node: this.id, context: request.context ?? current.clock, value: request.value, timestamp: this.clock.now(nowMs),
      lastWriterWins: request.lastWriterWins === true, key: request.key,
    });
    this.setState(request.key, state);
    return state;
  }

  private handoffAcknowledged(from: string, message: Extract<LeaderlessMessage, { type: 'handoff-ack' }>): void {
    if (message.hintId === null) return this.handoff.moveAcknowledged(message.key, from, message.digest, this.states.get(message.key));
    if (this.handoff.hintAcknowledged(message.hintId, message.digest)) this.output.hints.set(message.hintId, null);
  }

  /** Hands anti-entropy's outputs to the network: its messages wrapped, its pushes as full states. */
  private drainAntiEntropy(): void {
    const { messages, pushKeys } = this.antiEntropy.ready();
    for (const { to, message } of messages) this.send(to, { type: 'ae', message });
    for (const { to, keys } of pushKeys) {
      const states = keys.flatMap((key) => {
        const state = this.states.get(key);
        return state === undefined ? [] : [{ key, state }];
      });
      for (let start = 0; start < states.length; start += pushStatesPerMessageMax) this.send(to, { type: 'ae-push', states: states.slice(start, start + pushStatesPerMessageMax) });
    }
  }

  /**
   * After the ring changed (or at start-up, `previous` undefined): anti-entropy gets the new
   * ranges and every owned key again; keys this peer stopped owning go to the owners that did
   * not have them (at start-up, to all their owners, since the old ring is unknown).
   */
  private rebuildPlacement(previous: HashRing | undefined): void {
    const ranges = new Map<string, string[]>();
    for (const [id, replicas] of this.ring.ranges(this.settings.n)) {
      if (replicas.includes(this.id)) ranges.set(id, replicas.filter((peer) => peer !== this.id));
    }
    this.antiEntropy.setRanges(ranges);
    for (const [key, state] of this.states) {
      const owners = this.preferenceList(key);
      if (owners.includes(this.id)) {
        this.handoff.dropMove(key);
        this.antiEntropy.record(rangeId(owners), key, digestOf(state));
        continue;
      }
      // Owners that were owners before already had the key (or get it from their co-owners by anti-entropy).
      const before = previous?.walk(key, this.settings.n) ?? [];
      this.handoff.addMove(key, owners.filter((owner) => !before.includes(owner)));
    }
  }

  private persistHint(hint: Hint): void {
    this.output.hints.set(hint.id, hint);
  }

  private observe(state: RegisterState): void {
    for (const sibling of state.siblings) this.clock.observe(sibling.timestamp, this.lastNowMs);
  }

  private noteTime(nowMs: number): void {
    this.lastNowMs = Math.max(this.lastNowMs, nowMs);
  }

  private send(to: string, message: LeaderlessMessage): void {
    if (to === this.id) return;
    this.output.messages.push({ to, message });
  }

  private host(): CoordinatorHost {
    return {
      self: this.id,
      settings: this.settings,
      preferenceList: (key) => this.preferenceList(key),
      isUp: (peer) => this.isUp(peer),
      targets: (key) => this.targets(key),
      writeLocally: (request, nowMs) => this.writeLocally(request, nowMs),
      storeLocally: (key, state, hintFor) => this.storeLocally(key, state, hintFor),
      readLocally: (key, hintFor) => this.readLocally(key, hintFor),
      send: (to, message) => this.send(to, message),
      reply: (reply: KvReply) => this.output.replies.push(reply),
    };
  }
}

interface PendingOutput {
  /** The latest state of each key changed since the last ready. */
  states: Map<string, RegisterState>;
  /** The latest change of each hint since the last ready: stored (the hint) or deleted (null); a later change replaces an earlier one. */
  hints: Map<string, Hint | null>;
  messages: Array<{ to: string; message: LeaderlessMessage }>;
  replies: KvReply[];
}

function emptyOutput(): PendingOutput {
  return { states: new Map(), hints: new Map(), messages: [], replies: [] };
}
