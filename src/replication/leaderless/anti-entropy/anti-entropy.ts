/**
 * Background anti-entropy for leaderless replication (Dynamo section 4.7), as a pure state
 * machine in the etcd-raft manner: the node calls `record` when a key changes, `tick` as time
 * passes and `step` with each message, then takes `ready()`'s messages and pushes and carries
 * them out. Every exchange compares one range's Merkle trees with one peer and ends with each
 * side pushing the other the full states of every key that differs or that the other lacks.
 *
 * Messages leave through a rate limit: each tick refills the byte budget to bytesPerTickMax (it
 * does not pile up while idle, so there is never a burst), a message may leave while the budget
 * is positive, and its size is then subtracted, so a tick sends at most the budget plus one
 * message and any overdraft is paid from the next tick.
 */
import { assert } from '../../../core/assert.js';
import type { Rng } from '../../../core/rng.js';
import { Exchange } from './exchange.js';
import { MerkleTree, saltedShortHash } from './merkle.js';
import { antiEntropyMessageProblem, messageBytes, type AntiEntropyMessage, type AntiEntropyRefusal } from './messages.js';
import { antiEntropySettings, entriesPerMessageMax, outboxMessagesMax, type AntiEntropySettings } from './settings.js';

export interface AntiEntropyReady {
  messages: Array<{ to: string; message: AntiEntropyMessage }>;
  /** Keys whose full register state this node must send to `to` (the node reads and sends them itself). */
  pushKeys: Array<{ to: string; rangeId: string; keys: string[] }>;
}

export interface AntiEntropyStats {
  exchangesStarted: number;
  exchangesCompleted: number;
  exchangesAbandoned: number;
  bytesSent: number;
  keysPushed: number;
  /** Ranges held whose latest exchange started here found the two trees equal. */
  rangesInSync: number;
}

interface OutboxItem {
  to: string;
  message: AntiEntropyMessage;
  bytes: number;
}

export class AntiEntropy {
  readonly settings: AntiEntropySettings;
  private readonly self: string;
  private readonly rng: Rng;
  private readonly trees = new Map<string, MerkleTree>();
  private peersOfRange = new Map<string, readonly string[]>();
  private readonly downPeers = new Set<string>();
  private readonly exchanges = new Map<string, Exchange>();
  private readonly rangesInSync = new Set<string>();
  private outbox: OutboxItem[] = [];
  private outboxHead = 0;
  private budgetBytes: number;
  private now = 0;
  private nextExchangeTick: number;
  private exchangeCounter = 0;
  private messages: AntiEntropyReady['messages'] = [];
  private pushes: AntiEntropyReady['pushKeys'] = [];
  private readonly counters = { exchangesStarted: 0, exchangesCompleted: 0, exchangesAbandoned: 0, bytesSent: 0, keysPushed: 0 };

  constructor(options: { self: string; settings?: Partial<AntiEntropySettings>; rng: Rng }) {
    assert(typeof options.self === 'string' && options.self.length > 0, 'self must name this replica');
    this.self = options.self;
    this.settings = antiEntropySettings(options.settings);
    this.rng = options.rng;
    this.budgetBytes = this.settings.bytesPerTickMax;
    // Replicas that start together should not all exchange on the same tick.
    this.nextExchangeTick = 1 + this.rng.nextInt(this.settings.exchangeIntervalTicks);
  }

  record(rangeId: string, key: string, digest: string | null): void {
    assert(typeof rangeId === 'string' && rangeId.length > 0, 'a range id must be a non-empty string');
    let tree = this.trees.get(rangeId);
    if (tree === undefined) {
      if (digest === null) return;
      tree = new MerkleTree(this.settings.treeDepth);
      this.trees.set(rangeId, tree);
    }
    tree.update(key, digest);
  }

  setRanges(ranges: ReadonlyMap<string, readonly string[]>): void {
    for (const rangeId of [...this.trees.keys()]) {
      if (ranges.has(rangeId)) continue;
      this.trees.delete(rangeId);
      this.rangesInSync.delete(rangeId);
    }
    this.peersOfRange = new Map();
    for (const [rangeId, peers] of ranges) {
      if (!this.trees.has(rangeId)) this.trees.set(rangeId, new MerkleTree(this.settings.treeDepth));
      this.peersOfRange.set(rangeId, peers.filter((peer) => peer !== this.self));
    }
    for (const exchange of [...this.exchanges.values()]) {
      if (!(this.peersOfRange.get(exchange.rangeId) ?? []).includes(exchange.peer)) this.abandon(exchange);
    }
  }

  setPeerUp(peer: string, up: boolean): void {
    if (up) {
      this.downPeers.delete(peer);
      return;
    }
    this.downPeers.add(peer);
    for (const exchange of [...this.exchanges.values()]) if (exchange.peer === peer) this.abandon(exchange);
  }

  tick(): void {
    this.now++;
    this.budgetBytes = Math.min(this.budgetBytes + this.settings.bytesPerTickMax, this.settings.bytesPerTickMax);
    for (const exchange of [...this.exchanges.values()]) {
      if (exchange.sentTick !== undefined && this.now - exchange.sentTick >= this.settings.exchangeTimeoutTicks) this.abandon(exchange);
    }
    if (this.now >= this.nextExchangeTick) {
      this.startExchange();
      const interval = this.settings.exchangeIntervalTicks;
      this.nextExchangeTick = this.now + Math.max(1, Math.round(interval * (0.5 + this.rng.nextFloat())));
    }
    this.flush();
  }

  step(from: string, message: AntiEntropyMessage): void {
    // The node validates on arrival too; checking again keeps a forgotten check from crashing the core.
    if (antiEntropyMessageProblem(message) !== undefined) return;
    switch (message.type) {
      case 'ae-hashes-request':
      case 'ae-entries-request':
        this.answer(from, message);
        break;
      case 'ae-push-request':
        this.pushRequested(from, message.rangeId, message.keys);
        break;
      case 'ae-hashes':
      case 'ae-entries':
      case 'ae-refused':
        this.receiveAnswer(from, message);
        break;
    }
    this.flush();
  }

  ready(): AntiEntropyReady {
    const ready = { messages: this.messages, pushKeys: this.pushes };
    this.messages = [];
    this.pushes = [];
    return ready;
  }

  stats(): AntiEntropyStats {
    return { ...this.counters, rangesInSync: this.rangesInSync.size };
  }

  rootHash(rangeId: string): string | undefined {
    return this.trees.get(rangeId)?.rootHash();
  }

  /** Picks a (range, up peer) pair at random among those not already being compared, if a slot is free. */
  private startExchange(): void {
    if (this.exchanges.size >= this.settings.exchangesInFlightMax) return;
    const busy = new Set([...this.exchanges.values()].map((exchange) => `${exchange.rangeId}\n${exchange.peer}`));
    const candidates: Array<[string, string]> = [];
    for (const [rangeId, peers] of this.peersOfRange) {
      for (const peer of peers) if (!this.downPeers.has(peer) && !busy.has(`${rangeId}\n${peer}`)) candidates.push([rangeId, peer]);
    }
    if (candidates.length === 0) return;
    const [rangeId, peer] = candidates[this.rng.nextInt(candidates.length)];
    // The id salts the exchange's short hashes, so it carries 64 random bits besides the counter.
    const random = (this.rng.nextUint32().toString(16).padStart(8, '0') + this.rng.nextUint32().toString(16).padStart(8, '0'));
    this.exchangeCounter++;
    const exchange = new Exchange(`${this.exchangeCounter.toString(36)}-${random}`, rangeId, peer, this.settings.treeDepth);
    this.exchanges.set(exchange.id, exchange);
    this.counters.exchangesStarted++;
    this.send(peer, exchange.start());
  }

  private answer(from: string, request: Extract<AntiEntropyMessage, { type: 'ae-hashes-request' | 'ae-entries-request' }>): void {
    const tree = this.trees.get(request.rangeId);
    const refusal: AntiEntropyRefusal | undefined =
      tree === undefined ? 'unknown-range' : !(this.peersOfRange.get(request.rangeId) ?? []).includes(from) ? 'not-a-peer' : request.depth !== tree.depth ? 'depth-mismatch' : undefined;
    if (tree === undefined || refusal !== undefined) {
      this.send(from, { type: 'ae-refused', exchangeId: request.exchangeId, reason: refusal ?? 'unknown-range' });
      return;
    }
    if (request.type === 'ae-hashes-request') {
      const indexes = request.level === 0 ? [0] : request.parents.flatMap((parent) => [2 * parent, 2 * parent + 1]);
      const hashes = indexes.map((index) => saltedShortHash(request.exchangeId, tree.hashAt(request.level, index)));
      this.send(from, { type: 'ae-hashes', exchangeId: request.exchangeId, hashes });
      return;
    }
    const buckets: Array<Array<[string, string]>> = [];
    let entries = 0;
    for (const bucket of request.buckets) {
      const pairs = tree.bucketEntries(request.level, bucket);
      entries += pairs.length;
      if (entries > entriesPerMessageMax) break;
      buckets.push(pairs.map(([key, digest]) => [key, saltedShortHash(request.exchangeId, digest)]));
    }
    this.send(from, { type: 'ae-entries', exchangeId: request.exchangeId, buckets });
  }

  /** A peer found these keys missing or different on its side: push the ones this replica holds in the range. */
  private pushRequested(from: string, rangeId: string, keys: string[]): void {
    const tree = this.trees.get(rangeId);
    if (tree === undefined || !(this.peersOfRange.get(rangeId) ?? []).includes(from)) return;
    this.addPushes(from, rangeId, keys.filter((key) => tree.digest(key) !== undefined));
  }

  private receiveAnswer(from: string, message: Extract<AntiEntropyMessage, { type: 'ae-hashes' | 'ae-entries' | 'ae-refused' }>): void {
    const exchange = this.exchanges.get(message.exchangeId);
    // Late answers to abandoned exchanges, and answers from anyone but the peer asked, are ignored.
    if (exchange === undefined || exchange.peer !== from) return;
    const tree = this.trees.get(exchange.rangeId);
    if (message.type === 'ae-refused' || tree === undefined || !exchange.expects(message)) {
      this.abandon(exchange);
      return;
    }
    const lesson = exchange.receive(message, tree);
    if (lesson.problem !== undefined) {
      this.abandon(exchange);
      return;
    }
    this.addPushes(exchange.peer, exchange.rangeId, lesson.pushKeys);
    for (let start = 0; start < lesson.wantKeys.length; start += this.settings.keysPerPushMax) {
      const keys = lesson.wantKeys.slice(start, start + this.settings.keysPerPushMax);
      this.send(exchange.peer, { type: 'ae-push-request', exchangeId: exchange.id, rangeId: exchange.rangeId, keys });
    }
    const next = exchange.nextRequest(tree);
    if (next !== undefined) {
      if (!this.send(exchange.peer, next)) this.abandon(exchange);
      return;
    }
    this.exchanges.delete(exchange.id);
    this.counters.exchangesCompleted++;
    if (exchange.foundDifference) this.rangesInSync.delete(exchange.rangeId);
    else this.rangesInSync.add(exchange.rangeId);
  }

  private addPushes(to: string, rangeId: string, keys: string[]): void {
    for (let start = 0; start < keys.length; start += this.settings.keysPerPushMax) {
      this.pushes.push({ to, rangeId, keys: keys.slice(start, start + this.settings.keysPerPushMax) });
    }
    this.counters.keysPushed += keys.length;
  }

  private abandon(exchange: Exchange): void {
    if (!this.exchanges.delete(exchange.id)) return;
    this.counters.exchangesAbandoned++;
  }

  /** Queues a message behind the rate limit; false when the outbox is full and the message was dropped. */
  private send(to: string, message: AntiEntropyMessage): boolean {
    if (this.outbox.length - this.outboxHead >= outboxMessagesMax) return false;
    this.outbox.push({ to, message, bytes: messageBytes(message) });
    return true;
  }

  /** Lets queued messages leave while budget remains; messages to peers now down are dropped unpaid. */
  private flush(): void {
    while (this.budgetBytes > 0 && this.outboxHead < this.outbox.length) {
      const item = this.outbox[this.outboxHead++];
      if (this.downPeers.has(item.to)) continue;
      this.budgetBytes -= item.bytes;
      this.counters.bytesSent += item.bytes;
      this.messages.push({ to: item.to, message: item.message });
      const exchange = this.exchanges.get(item.message.exchangeId);
      if (exchange !== undefined && (item.message.type === 'ae-hashes-request' || item.message.type === 'ae-entries-request')) exchange.sentTick = this.now;
    }
    if (this.outboxHead === this.outbox.length) {
      this.outbox = [];
      this.outboxHead = 0;
    }
  }
}
