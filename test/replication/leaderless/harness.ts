/**
 * A small synchronous cluster of LeaderlessNodes for the core's tests: messages queue in one
 * list and are delivered in order (or dropped, for peers the test marks unreachable); every
 * Ready is "persisted" to a per-peer map, so a test can restart a node from what it persisted.
 */
import { Rng } from '../../../src/core/rng.js';
import { LeaderlessNode, type Hint, type KvReply, type KvRequest, type LeaderlessMessage, type LeaderlessReady, type LeaderlessSettings } from '../../../src/replication/leaderless/index.js';
import type { RegisterState } from '../../../src/replication/versions/index.js';

export interface Envelope {
  from: string;
  to: string;
  message: LeaderlessMessage;
}

export class Cluster {
  readonly nodes = new Map<string, LeaderlessNode>();
  readonly disks = new Map<string, { states: Map<string, RegisterState>; hints: Map<string, Hint> }>();
  readonly replies = new Map<string, KvReply>();
  readonly readies: Array<{ peer: string; ready: LeaderlessReady }> = [];
  /** Peers whose incoming and outgoing messages are dropped (crashed or cut off). */
  readonly unreachable = new Set<string>();
  queue: Envelope[] = [];
  nowMs = 1_000;
  private readonly rng: Rng;

  constructor(readonly peers: string[], readonly settings: Partial<LeaderlessSettings> = {}, seed = 1) {
    this.rng = new Rng(seed);
    for (const peer of peers) {
      this.disks.set(peer, { states: new Map(), hints: new Map() });
      this.nodes.set(peer, new LeaderlessNode({ id: peer, peers, settings, rng: this.rng.fork() }));
    }
  }

  node(peer: string): LeaderlessNode {
    return this.nodes.get(peer)!;
  }

  /** A node restarted from what it persisted. */
  restart(peer: string, peers = this.peers): void {
    const disk = this.disks.get(peer)!;
    this.nodes.set(peer, new LeaderlessNode({ id: peer, peers, settings: this.settings, rng: this.rng.fork(), restored: { states: disk.states, hints: disk.hints.values() } }));
  }

  request(peer: string, request: KvRequest): KvReply | undefined {
    this.node(peer).request(request, this.nowMs);
    this.flush(peer);
    this.deliverAll();
    return this.replies.get(request.requestId);
  }

  /** Every peer's failure detector learns the same thing. */
  markUp(peer: string, up: boolean): void {
    for (const [id, node] of this.nodes) if (id !== peer) node.setPeerUp(peer, up);
  }

  flush(peer: string): void {
    const node = this.node(peer);
    while (node.hasReady()) {
      const ready = node.ready();
      this.readies.push({ peer, ready });
      const disk = this.disks.get(peer)!;
      for (const { key, state } of ready.statesToPersist) disk.states.set(key, state);
      for (const hint of ready.hintsToPersist) disk.hints.set(hint.id, hint);
      for (const id of ready.hintsToDelete) disk.hints.delete(id);
      for (const { to, message } of ready.messages) this.queue.push({ from: peer, to, message });
      for (const reply of ready.replies) this.replies.set(reply.requestId, reply);
      node.advance();
    }
  }

  deliverAll(stepsMax = 100_000): void {
    for (let steps = 0; this.queue.length > 0 && steps < stepsMax; steps++) {
      const { from, to, message } = this.queue.shift()!;
      if (this.unreachable.has(from) || this.unreachable.has(to) || !this.nodes.has(to)) continue;
      this.node(to).step(from, message, this.nowMs);
      this.flush(to);
    }
  }

  tick(times = 1): void {
    for (let time = 0; time < times; time++) {
      this.nowMs += 10;
      for (const [peer, node] of this.nodes) {
        if (this.unreachable.has(peer)) continue;
        node.tick();
        this.flush(peer);
      }
      this.deliverAll();
    }
  }

  /** A key whose preference list (first replica first) satisfies `wanted`. */
  keyWhere(wanted: (owners: string[]) => boolean, prefix = 'key'): string {
    for (let index = 0; index < 100_000; index++) {
      const key = `${prefix}-${index}`;
      if (wanted(this.node(this.peers[0]).preferenceList(key))) return key;
    }
    throw new Error('no key found with the wanted preference list');
  }
}

export function values(reply: KvReply | undefined): string[] {
  if (reply === undefined || !reply.ok) throw new Error(`expected a successful reply, got ${JSON.stringify(reply)}`);
  return reply.state.siblings.filter((sibling) => sibling.value !== null).map((sibling) => sibling.value!).sort();
}
