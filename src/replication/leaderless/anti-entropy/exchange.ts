/**
 * One exchange, seen from the replica that started it. The initiator keeps all the state: the
 * nodes it has seen differ, level by level, and the buckets whose entries it still has to fetch.
 * Each answer is compared with the initiator's own tree (hashed with the same salt), and only
 * the children of differing nodes are asked for next. Below the tree's leaves the descent goes
 * on through buckets made on demand until a differing bucket holds at most
 * bucketKeysForEntriesMax keys here; then the two entry lists give the keys to push each way.
 * The responder only answers, so it holds nothing per exchange.
 */
import { assert } from '../../../core/assert.js';
import { bucketIndex, saltedShortHash, type MerkleTree } from './merkle.js';
import type { AntiEntropyMessage } from './messages.js';
import { bucketKeysForEntriesMax, bucketsPerRequestMax, entriesPerRequestTarget, keyHashBits, parentsPerRequestMax } from './settings.js';

type Outstanding = { kind: 'hashes'; level: number; parents: number[] } | { kind: 'entries'; level: number; buckets: number[] };

/** What an answer taught the initiator: keys to push to the peer, keys to ask the peer for, or why the answer was unusable. */
export interface ExchangeLesson {
  pushKeys: string[];
  wantKeys: string[];
  problem?: string;
}

export class Exchange {
  /** The tick the outstanding request left this replica (undefined while it waits for rate-limit budget). */
  sentTick: number | undefined;
  /** Whether any node was seen to differ, so the range was not in sync when the exchange began. */
  foundDifference = false;
  private outstanding: Outstanding | undefined;
  /** Differing nodes whose children are still to be fetched, by level (0 to keyHashBits - 1). */
  private readonly pendingParents: number[][] = Array.from({ length: keyHashBits }, () => []);
  /** Differing buckets whose entries are still to be fetched, by level (depth to keyHashBits). */
  private readonly pendingBuckets: number[][] = Array.from({ length: keyHashBits + 1 }, () => []);

  constructor(
    readonly id: string,
    readonly rangeId: string,
    readonly peer: string,
    private readonly depth: number,
  ) {}

  /** The first request: the peer's root. */
  start(): AntiEntropyMessage {
    assert(this.outstanding === undefined, 'an exchange starts once');
    this.outstanding = { kind: 'hashes', level: 0, parents: [] };
    return { type: 'ae-hashes-request', exchangeId: this.id, rangeId: this.rangeId, depth: this.depth, level: 0, parents: [] };
  }

  /**
   * The next request, or undefined when nothing differs any more. Buckets come first and then
   * the deepest pending level, so repairs begin after a few round trips rather than at the end.
   */
  nextRequest(tree: MerkleTree): AntiEntropyMessage | undefined {
    assert(this.outstanding === undefined, 'one request at a time per exchange');
    this.sentTick = undefined;
    for (let level = keyHashBits; level >= this.depth; level--) {
      if (this.pendingBuckets[level].length === 0) continue;
      const buckets = this.takeBuckets(tree, level);
      this.outstanding = { kind: 'entries', level, buckets };
      return { type: 'ae-entries-request', exchangeId: this.id, rangeId: this.rangeId, depth: this.depth, level, buckets };
    }
    for (let parentLevel = keyHashBits - 1; parentLevel >= 0; parentLevel--) {
      const pending = this.pendingParents[parentLevel];
      if (pending.length === 0) continue;
      const parents = pending.splice(0, parentsPerRequestMax);
      this.outstanding = { kind: 'hashes', level: parentLevel + 1, parents };
      return { type: 'ae-hashes-request', exchangeId: this.id, rangeId: this.rangeId, depth: this.depth, level: parentLevel + 1, parents };
    }
    return undefined;
  }

  /** Takes buckets whose entries, judged by this replica's own copies, come to about entriesPerRequestTarget. */
  private takeBuckets(tree: MerkleTree, level: number): number[] {
    const pending = this.pendingBuckets[level];
    let count = 0;
    let entries = 0;
    while (count < pending.length && count < bucketsPerRequestMax) {
      entries += Math.max(1, tree.bucketKeyCount(level, pending[count]));
      if (count > 0 && entries > entriesPerRequestTarget) break;
      count++;
    }
    return pending.splice(0, count);
  }

  /** Whether `message` is the answer this exchange waits for. */
  expects(message: AntiEntropyMessage): boolean {
    return (message.type === 'ae-hashes' && this.outstanding?.kind === 'hashes') || (message.type === 'ae-entries' && this.outstanding?.kind === 'entries');
  }

  /** Compares the answer to the outstanding request with this replica's tree. */
  receive(message: AntiEntropyMessage, tree: MerkleTree): ExchangeLesson {
    const outstanding = this.outstanding;
    assert(outstanding !== undefined && this.expects(message), 'receive takes the awaited answer only');
    this.outstanding = undefined;
    if (message.type === 'ae-hashes' && outstanding.kind === 'hashes') return this.receiveHashes(outstanding, message.hashes, tree);
    if (message.type === 'ae-entries' && outstanding.kind === 'entries') return this.receiveEntries(outstanding, message.buckets, tree);
    return { pushKeys: [], wantKeys: [], problem: 'answer of the wrong kind' };
  }

  private receiveHashes(request: { level: number; parents: number[] }, hashes: string[], tree: MerkleTree): ExchangeLesson {
    const level = request.level;
    const indexes = level === 0 ? [0] : request.parents.flatMap((parent) => [2 * parent, 2 * parent + 1]);
    if (hashes.length !== indexes.length) return { pushKeys: [], wantKeys: [], problem: `expected ${indexes.length} hashes, got ${hashes.length}` };
    for (let i = 0; i < indexes.length; i++) {
      if (saltedShortHash(this.id, tree.hashAt(level, indexes[i])) === hashes[i]) continue;
      this.foundDifference = true;
      const listEntries = level >= this.depth && (level === keyHashBits || tree.bucketKeyCount(level, indexes[i]) <= bucketKeysForEntriesMax);
      (listEntries ? this.pendingBuckets : this.pendingParents)[level].push(indexes[i]);
    }
    return { pushKeys: [], wantKeys: [] };
  }

  private receiveEntries(request: { level: number; buckets: number[] }, answered: Array<Array<[string, string]>>, tree: MerkleTree): ExchangeLesson {
    const { level, buckets } = request;
    if (answered.length === 0) {
      // The first bucket alone holds more entries than fit in a message on the peer (this side
      // holds few there, or it would have split it): split it after all, and retry the rest.
      if (level === keyHashBits) return { pushKeys: [], wantKeys: [], problem: `the peer's bucket ${buckets[0]} at level ${level} holds more entries than fit in a message` };
      this.pendingParents[level].push(buckets[0]);
      this.pendingBuckets[level].unshift(...buckets.slice(1));
      return { pushKeys: [], wantKeys: [] };
    }
    if (answered.length > buckets.length) return { pushKeys: [], wantKeys: [], problem: `asked for ${buckets.length} buckets, got ${answered.length}` };
    // Buckets the answer had no room for go back to the front of the queue.
    this.pendingBuckets[level].unshift(...buckets.slice(answered.length));
    const pushKeys: string[] = [];
    const wantKeys: string[] = [];
    for (let i = 0; i < answered.length; i++) {
      const theirs = new Map<string, string>();
      for (const [key, short] of answered[i]) {
        // A key outside the bucket is a peer's mistake; asking for it would repair nothing here.
        if (bucketIndex(key, level) === buckets[i]) theirs.set(key, short);
      }
      for (const [key, digest] of tree.bucketEntries(level, buckets[i])) {
        const short = theirs.get(key);
        if (short === saltedShortHash(this.id, digest)) {
          theirs.delete(key);
          continue;
        }
        pushKeys.push(key);
      }
      // What is left of theirs is missing here or held differently: both ways get the full state.
      for (const key of theirs.keys()) wantKeys.push(key);
    }
    return { pushKeys, wantKeys };
  }
}
