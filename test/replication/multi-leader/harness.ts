/**
 * A small hand-driven cluster of MultiLeaderNodes for the core's tests: each node has a store
 * (what its shell would have made durable), messages wait in a queue until a test delivers,
 * drops or duplicates them, and a node can be restarted from its store.
 */
import { Rng } from '../../../src/core/rng.js';
import {
  MultiLeaderNode, type ChangeEntry, type KeyState, type MultiLeaderMessage, type MultiLeaderReply, type MultiLeaderSettings, type MultiLeaderWrite,
} from '../../../src/replication/multi-leader/index.js';
import type { VersionVector } from '../../../src/replication/versions/index.js';

export interface Store {
  keys: Map<string, KeyState>;
  log: Map<number, ChangeEntry>;
  applied: VersionVector;
}

export interface InFlight {
  from: string;
  to: string;
  message: MultiLeaderMessage;
}

export class Cluster {
  readonly nodes = new Map<string, MultiLeaderNode>();
  readonly stores = new Map<string, Store>();
  readonly replies = new Map<string, MultiLeaderReply>();
  queue: InFlight[] = [];
  nowMs = 1_000;
  private readonly rng = new Rng(7);

  constructor(readonly ids: readonly string[], readonly settings: Partial<MultiLeaderSettings> = {}) {
    for (const id of ids) {
      this.stores.set(id, { keys: new Map(), log: new Map(), applied: {} });
      this.start(id);
    }
  }

  /** A fresh node from its store (a restart: memory lost, disk kept). */
  start(id: string): MultiLeaderNode {
    const store = this.stores.get(id)!;
    const node = new MultiLeaderNode({
      id, peers: this.ids, settings: this.settings, rng: this.rng.fork(),
      restored: { keys: store.keys, log: [...store.log.values()].sort((left, right) => left.seq - right.seq), applied: store.applied },
    });
    this.nodes.set(id, node);
    return node;
  }

  node(id: string): MultiLeaderNode {
    return this.nodes.get(id)!;
  }

  write(id: string, write: MultiLeaderWrite): MultiLeaderReply {
    this.nowMs += 1;
    this.node(id).write(write, this.nowMs);
    this.flush(id);
    const reply = this.replies.get(write.requestId);
    if (reply === undefined) throw new Error(`no reply to ${write.requestId}`);
    return reply;
  }

  /** Persists and "sends" every Ready the node has, in order. */
  flush(id: string): void {
    const node = this.node(id);
    const store = this.stores.get(id)!;
    while (node.hasReady()) {
      const ready = node.ready();
      for (const entry of ready.logToAppend) store.log.set(entry.seq, entry);
      if (ready.logTruncatedThrough !== undefined) for (const seq of [...store.log.keys()]) if (seq <= ready.logTruncatedThrough) store.log.delete(seq);
      for (const { key, state } of ready.keysToPersist) store.keys.set(key, structuredClone(state));
      store.applied = { ...ready.applied };
      for (const { to, message } of ready.messages) this.queue.push({ from: id, to, message: structuredClone(message) });
      for (const reply of ready.replies) this.replies.set(reply.requestId, reply);
      node.advance();
    }
  }

  tick(ids: readonly string[] = this.ids): void {
    for (const id of ids) {
      this.node(id).tick();
      this.flush(id);
    }
  }

  /** Delivers queued messages (those `keep` accepts; the rest are dropped) until none are left. */
  deliverAll(keep: (message: InFlight) => boolean = () => true, roundsMax = 1_000): void {
    for (let round = 0; round < roundsMax && this.queue.length > 0; round++) {
      const batch = this.queue;
      this.queue = [];
      for (const item of batch) if (keep(item)) this.deliver(item);
    }
  }

  deliver(item: InFlight): void {
    this.nowMs += 1;
    this.node(item.to).step(item.from, item.message, this.nowMs);
    this.flush(item.to);
  }

  /** Ticks and delivers until nothing is left to ship (or `rounds` passes). */
  settle(rounds = 50): void {
    for (let round = 0; round < rounds; round++) {
      this.tick();
      this.deliverAll();
    }
  }

  /** Every node's keys, as JSON (equal strings = equal states). */
  keysOf(id: string, keys: readonly string[]): string {
    return JSON.stringify(keys.map((key) => this.node(id).read(key) ?? null));
  }
}
