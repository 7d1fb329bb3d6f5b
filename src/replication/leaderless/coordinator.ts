/**
 * The coordinator side of the leaderless store (Dynamo section 4.5): a request's fan-out to
 * the key's replicas, the counting of answers against r or w, timeouts, forwarding of puts
 * that reached a peer which is not one of the key's replicas, and read repair.
 *
 * Any peer coordinates a get. A put is coordinated only by one of the key's own n replicas,
 * because the put's dot (node, counter) must be minted from a copy of the key that holds
 * every dot that node minted before: a peer without the key could reuse a counter and two
 * different writes would share a dot. So a peer that is not a replica forwards the put to the
 * first replica it believes up, and relays the answer.
 */
import { mergeRegisters, registerCovers, TooManySiblingsError, type RegisterState } from '../versions/index.js';
import type { LeaderlessMessage } from './messages.js';
import { pendingRequestsMax, type LeaderlessSettings } from './settings.js';
import type { KvErrorCode, KvReply, KvRequest } from './types.js';

/** A replica a request goes to: a key's own replica (hintFor null) or a stand-in for a down one. */
export interface Target {
  peer: string;
  hintFor: string | null;
}

/** What the coordinator needs from its node. */
export interface CoordinatorHost {
  readonly self: string;
  readonly settings: LeaderlessSettings;
  preferenceList(key: string): string[];
  isUp(peer: string): boolean;
  targets(key: string): Target[];
  /** The coordinator's own write (applyWrite with the request's context), persisted in this ready. */
  writeLocally(request: Extract<KvRequest, { kind: 'put' }>, nowMs: number): RegisterState;
  /** A replica write addressed to this very peer (it may be a stand-in for a get's target): true when stored. */
  storeLocally(key: string, state: RegisterState, hintFor: string | null): boolean;
  readLocally(key: string, hintFor: string | null): RegisterState | null;
  send(to: string, message: LeaderlessMessage): void;
  reply(reply: KvReply): void;
}

interface PendingRequest {
  readonly kind: 'get' | 'put';
  readonly requestId: string;
  readonly key: string;
  readonly needed: number;
  readonly targets: readonly Target[];
  /** Get: each target's answer. Put: the targets that stored the write. */
  readonly answers: Map<string, RegisterState | null>;
  /** Put: the coordinator's state after the write, which the reply carries. */
  readonly written: RegisterState | undefined;
  /** Where the reply goes when the request was forwarded to this peer. */
  readonly origin: { peer: string; forwardId: string } | undefined;
  ticksLeft: number;
  replied: boolean;
}

interface PendingForward {
  readonly requestId: string;
  readonly to: string;
  ticksLeft: number;
}

export class Coordinator {
  readRepairs = 0;
  private readonly host: CoordinatorHost;
  private readonly pending = new Map<string, PendingRequest>();
  private readonly forwards = new Map<string, PendingForward>();
  /** Internal ids carry a random prefix, so an answer to a request of before a restart never counts for a new one. */
  private readonly idPrefix: string;
  private nextId = 0;

  constructor(host: CoordinatorHost, idPrefix: string) {
    this.host = host;
    this.idPrefix = idPrefix;
  }

  get pendingCount(): number {
    return this.pending.size + this.forwards.size;
  }

  /** A client request (checked for shape already), or a forwarded put when `origin` is set. */
  start(request: KvRequest, nowMs: number, origin?: { peer: string; forwardId: string }): void {
    const reply = (result: KvReply) => this.deliver(result, origin);
    const needed = request.kind === 'get' ? request.r ?? this.host.settings.r : request.w ?? this.host.settings.w;
    const name = request.kind === 'get' ? 'r' : 'w';
    const clusterN = this.host.settings.n;
    const n = request.n ?? clusterN;
    if (n < 1 || n > clusterN) return reply(failure(request.requestId, 'KV_COMMAND_INVALID', `n must be between 1 and the cluster's n (${clusterN}), got ${n}`, 0, needed));
    if (needed < 1 || needed > n) return reply(failure(request.requestId, 'KV_COMMAND_INVALID', `${name} must be between 1 and n (${n}), got ${needed}`, 0, needed));
    if (this.pendingCount >= pendingRequestsMax) {
      return reply(failure(request.requestId, 'KV_UNAVAILABLE', `this peer already has ${pendingRequestsMax} requests in flight (pendingRequestsMax); retry shortly`, 0, needed));
    }
    const owners = this.host.preferenceList(request.key);
    if (request.kind === 'put' && !owners.includes(this.host.self)) return this.forward(request, owners, needed, origin);
    // With a per-request n below the cluster's, the request reaches that many replicas now; the
    // coordinator's own copy comes first, since a put has already been written there.
    const all = this.host.targets(request.key);
    const targets = [...all.filter((target) => target.peer === this.host.self), ...all.filter((target) => target.peer !== this.host.self)].slice(0, n);
    if (targets.length < needed) {
      const message = `only ${targets.length} of the key's replicas are reachable, and ${name}=${needed} are needed; retry when peers are back, or ask for a lower ${name}`;
      return reply(failure(request.requestId, 'KV_UNAVAILABLE', message, targets.length, needed));
    }
    let written: RegisterState | undefined;
    if (request.kind === 'put') {
      try {
        written = this.host.writeLocally(request, nowMs);
      } catch (error) {
        if (!(error instanceof TooManySiblingsError)) throw error;
        return reply(failure(request.requestId, 'KV_TOO_MANY_SIBLINGS', error.message, 0, needed));
      }
    }
    const id = `${this.idPrefix}.${this.nextId++}`;
    const pending: PendingRequest = {
      kind: request.kind, requestId: request.requestId, key: request.key, needed, targets, answers: new Map(), written, origin,
      ticksLeft: this.host.settings.requestTimeoutTicks, replied: false,
    };
    this.pending.set(id, pending);
    for (const target of targets) this.contact(id, pending, target);
    this.progress(id, pending);
  }

  private contact(id: string, pending: PendingRequest, target: Target): void {
    const { key } = pending;
    if (target.peer === this.host.self) {
      // The coordinator's own copy answers at once; a put's own write was applied by writeLocally.
      if (pending.kind === 'get') pending.answers.set(target.peer, this.host.readLocally(key, target.hintFor));
      else if (target.hintFor !== null ? this.host.storeLocally(key, pending.written!, target.hintFor) : true) pending.answers.set(target.peer, null);
      return;
    }
    if (pending.kind === 'get') this.host.send(target.peer, { type: 'read', requestId: id, key, hintFor: target.hintFor });
    else this.host.send(target.peer, { type: 'write', requestId: id, key, state: pending.written!, hintFor: target.hintFor, ackWanted: true });
  }

  private forward(request: KvRequest, owners: readonly string[], needed: number, origin: { peer: string; forwardId: string } | undefined): void {
    const to = owners.find((peer) => this.host.isUp(peer));
    // A forwarded put is never forwarded again: two peers with different ring views could bounce it forever.
    if (to === undefined || origin !== undefined) {
      const message = to === undefined ? 'none of the key\'s replicas is reachable to coordinate the put; retry when peers are back' : 'the put was forwarded to a peer that is not one of the key\'s replicas (the ring is changing); retry';
      return this.deliver(failure(request.requestId, 'KV_UNAVAILABLE', message, 0, needed), origin);
    }
    const forwardId = `${this.idPrefix}.${this.nextId++}`;
    this.forwards.set(forwardId, { requestId: request.requestId, to, ticksLeft: this.host.settings.requestTimeoutTicks });
    this.host.send(to, { type: 'forward', forwardId, request });
  }

  forwardReplied(from: string, forwardId: string, reply: KvReply): void {
    const forward = this.forwards.get(forwardId);
    if (forward === undefined || forward.to !== from || forward.requestId !== reply.requestId) return;
    this.forwards.delete(forwardId);
    this.host.reply(reply);
  }

  writeAcknowledged(from: string, id: string, key: string, stored: boolean): void {
    const pending = this.pending.get(id);
    if (pending === undefined || pending.kind !== 'put' || pending.key !== key || !stored) return;
    if (!pending.targets.some((target) => target.peer === from)) return;
    pending.answers.set(from, null);
    this.progress(id, pending);
  }

  readAnswered(from: string, id: string, key: string, state: RegisterState | null): void {
    const pending = this.pending.get(id);
    if (pending === undefined || pending.kind !== 'get' || pending.key !== key || pending.answers.has(from)) return;
    if (!pending.targets.some((target) => target.peer === from)) return;
    pending.answers.set(from, state);
    this.progress(id, pending);
  }

  tick(): void {
    for (const [id, pending] of this.pending) {
      if (--pending.ticksLeft > 0) continue;
      if (!pending.replied) {
        const message = `only ${pending.answers.size} of the ${pending.needed} replicas needed answered within ${this.host.settings.requestTimeoutTicks} ticks; the outcome of a put is unknown (it may still reach every replica)`;
        this.deliver(failure(pending.requestId, 'KV_TIMEOUT', message, pending.answers.size, pending.needed), pending.origin);
      }
      this.finish(id, pending);
    }
    for (const [forwardId, forward] of this.forwards) {
      if (--forward.ticksLeft > 0) continue;
      this.forwards.delete(forwardId);
      this.host.reply(failure(forward.requestId, 'KV_TIMEOUT', `the replica ${forward.to} that coordinates this put did not answer in time; its outcome is unknown`, 0, 1));
    }
  }

  private progress(id: string, pending: PendingRequest): void {
    if (!pending.replied && pending.answers.size >= pending.needed) {
      pending.replied = true;
      const replicas = [...pending.answers.keys()];
      if (pending.kind === 'put') {
        // The coordinator leads the list: the put's dot is its node and its counter in the returned clock.
        const ordered = [this.host.self, ...replicas.filter((peer) => peer !== this.host.self)];
        this.deliver({ requestId: pending.requestId, ok: true, kind: 'put', state: pending.written!, replicas: ordered }, pending.origin);
      } else {
        this.deliver({ requestId: pending.requestId, ok: true, kind: 'get', state: mergeAnswers(pending.answers), replicas }, pending.origin);
      }
    }
    // A put is done once answered; a get waits for every target (or the timeout) so read repair sees them all.
    if (pending.replied && (pending.kind === 'put' || pending.answers.size === pending.targets.length)) this.finish(id, pending);
  }

  private finish(id: string, pending: PendingRequest): void {
    this.pending.delete(id);
    if (pending.kind === 'get' && this.host.settings.readRepair) this.repair(pending);
  }

  /** Read repair: every one of the key's own replicas that answered with less than the merged state gets it. */
  private repair(pending: PendingRequest): void {
    if (pending.answers.size < 2) return;
    const merged = mergeAnswers(pending.answers);
    if (merged.siblings.length === 0 && Object.keys(merged.clock).length === 0) return;
    for (const target of pending.targets) {
      if (target.hintFor !== null || !pending.answers.has(target.peer)) continue;
      const answer = pending.answers.get(target.peer)!;
      if (answer !== null && registerCovers(answer, merged)) continue;
      this.readRepairs++;
      if (target.peer === this.host.self) this.host.storeLocally(pending.key, merged, null);
      else this.host.send(target.peer, { type: 'write', requestId: `${this.idPrefix}.repair`, key: pending.key, state: merged, hintFor: null, ackWanted: false });
    }
  }

  private deliver(reply: KvReply, origin: { peer: string; forwardId: string } | undefined): void {
    if (origin === undefined) this.host.reply(reply);
    else this.host.send(origin.peer, { type: 'forward-reply', forwardId: origin.forwardId, reply });
  }
}

function mergeAnswers(answers: ReadonlyMap<string, RegisterState | null>): RegisterState {
  let merged: RegisterState = { clock: {}, siblings: [] };
  for (const state of answers.values()) if (state !== null) merged = mergeRegisters(merged, state);
  return merged;
}

function failure(requestId: string, code: KvErrorCode, message: string, answered: number, needed: number): KvReply {
  return { requestId, ok: false, code, message, answered, needed };
}
