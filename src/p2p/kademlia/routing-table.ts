/**
 * The routing table: 160 buckets of at most k contacts, bucket i holding the peers whose
 * ids share exactly i leading bits with ours (Maymounkov and Mazieres, section 2.2).
 *
 * Rules this table keeps, and that test/p2p/kademlia/routing-table.test.ts checks against
 * a dumb reference:
 * - a contact enters only through `noteAnswered`, which the node calls when a peer
 *   answered one of its requests; a peer that merely asked us something is not added;
 * - no bucket holds more than k contacts, and our own id is never held;
 * - a full bucket evicts its least-recently-seen member only after that member failed a
 *   ping: meanwhile the newcomer waits in the bucket's replacement cache;
 * - `closest` returns contacts sorted by XOR distance to the target.
 *
 * Each bucket keeps its members' id words in one typed array, so that distance work
 * neither parses hex nor allocates.
 */
import { assert } from '../../core/assert.js';
import type { Rng } from '../../core/rng.js';
import type { Contact } from './contact.js';
import { idBits } from './constants.js';
import { closestGroup as group, growClosestGroup, takeClosestGroup } from './closest-group.js';
import { commonPrefixLength, idToWords, idWords, randomIdInBucket, writeIdWords, type NodeId } from './node-id.js';

export interface RoutingTableSettings {
  bucketSize: number;
  replacementCacheSize: number;
  contactFreshTicks: number;
  contactFailuresMax: number;
}

/** What the node must do after `noteAnswered`: nothing, or ping the bucket's oldest member. */
export interface AnsweredOutcome {
  readonly change: 'updated' | 'added' | 'cached' | 'self';
  readonly pingOldest?: Contact;
}

class Bucket {
  /** Members, least recently seen first. */
  readonly contacts: Contact[] = [];
  /** Members' id words, `idWords` per member, in the order of `contacts`. */
  readonly words: Uint32Array;
  readonly lastSeenTick: number[] = [];
  readonly failures: number[] = [];
  /** Contacts that answered us while the bucket was full, most recently seen last, and when each was seen. */
  readonly replacements: Contact[] = [];
  readonly replacementSeenTick: number[] = [];
  /** The member being pinged to decide whether it makes room, if any. */
  pinging: NodeId | undefined;

  constructor(capacity: number) {
    this.words = new Uint32Array(capacity * idWords);
  }

  indexOf(nodeId: NodeId): number {
    const contacts = this.contacts;
    for (let i = 0; i < contacts.length; i++) if (contacts[i].nodeId === nodeId) return i;
    return -1;
  }

  append(contact: Contact, nowTick: number): void {
    writeIdWords(contact.nodeId, this.words, this.contacts.length * idWords);
    this.contacts.push(contact);
    this.lastSeenTick.push(nowTick);
    this.failures.push(0);
  }

  /** Inserts a member where its last-seen tick belongs, keeping the least recently seen first. */
  insertBySeen(contact: Contact, seenTick: number): void {
    let index = this.contacts.length;
    while (index > 0 && this.lastSeenTick[index - 1] > seenTick) index--;
    const count = this.contacts.length;
    this.words.copyWithin((index + 1) * idWords, index * idWords, count * idWords);
    writeIdWords(contact.nodeId, this.words, index * idWords);
    this.contacts.splice(index, 0, contact);
    this.lastSeenTick.splice(index, 0, seenTick);
    this.failures.splice(index, 0, 0);
  }

  remove(index: number): void {
    this.words.copyWithin(index * idWords, (index + 1) * idWords, this.contacts.length * idWords);
    this.contacts.splice(index, 1);
    this.lastSeenTick.splice(index, 1);
    this.failures.splice(index, 1);
  }

  /** Moves a member to the most-recently-seen end, with a fresh address. */
  moveToTail(index: number, contact: Contact, nowTick: number): void {
    this.remove(index);
    this.append(contact, nowTick);
  }

  removeReplacement(nodeId: NodeId): void {
    const index = this.replacements.findIndex((candidate) => candidate.nodeId === nodeId);
    if (index >= 0) {
      this.replacements.splice(index, 1);
      this.replacementSeenTick.splice(index, 1);
    }
  }

  addReplacement(contact: Contact, nowTick: number, cacheSize: number): void {
    if (cacheSize === 0) return;
    if (this.replacements.length >= cacheSize) {
      this.replacements.shift();
      this.replacementSeenTick.shift();
    }
    this.replacements.push(contact);
    this.replacementSeenTick.push(nowTick);
  }
}

export class RoutingTable {
  readonly selfId: NodeId;
  private readonly selfWords: Uint32Array;
  private readonly settings: RoutingTableSettings;
  private readonly buckets: (Bucket | undefined)[] = new Array<Bucket | undefined>(idBits).fill(undefined);
  /** The tick at which a lookup last targeted each bucket's range; idle buckets get refreshed. */
  private readonly lastLookupTick: Float64Array = new Float64Array(idBits);
  /** Bucket of every member, so that membership tests need no distance work. */
  private readonly members = new Map<NodeId, number>();
  private readonly scratchWords = new Uint32Array(idWords);
  private readonly targetScratch = new Uint32Array(idWords);
  /** Highest index of a bucket ever used: buckets above it are all empty, so searches stop there. */
  private highestBucket = -1;

  constructor(selfId: NodeId, settings: RoutingTableSettings, nowTick = 0) {
    assert(settings.bucketSize >= 1 && settings.replacementCacheSize >= 0 && settings.contactFailuresMax >= 1, 'routing-table settings out of range');
    this.selfId = selfId;
    this.selfWords = idToWords(selfId);
    this.settings = settings;
    this.lastLookupTick.fill(nowTick);
  }

  get size(): number {
    return this.members.size;
  }

  /** The bucket an id falls into, or `idBits` for our own id. */
  bucketIndexOf(nodeId: NodeId): number {
    writeIdWords(nodeId, this.scratchWords, 0);
    return commonPrefixLength(this.selfWords, 0, this.scratchWords, 0);
  }

  has(nodeId: NodeId): boolean {
    return this.members.has(nodeId);
  }

  /** Failed requests in a row of a member, or undefined for a peer not in the table. */
  failuresOf(nodeId: NodeId): number | undefined {
    const bucketIndex = this.members.get(nodeId);
    if (bucketIndex === undefined) return undefined;
    const bucket = this.buckets[bucketIndex]!;
    return bucket.failures[bucket.indexOf(nodeId)];
  }

  /**
   * A peer answered one of our requests: refresh it if it is a member, add it if its bucket
   * has room, otherwise keep it as a replacement and, when the bucket's oldest member has
   * been silent for a while and no ping is out, ask the node to ping that member.
   */
  noteAnswered(contact: Contact, nowTick: number): AnsweredOutcome {
    const bucketIndex = this.members.get(contact.nodeId) ?? this.bucketIndexOf(contact.nodeId);
    if (bucketIndex === idBits) return { change: 'self' };
    let bucket = this.buckets[bucketIndex];
    if (bucket === undefined) {
      bucket = this.buckets[bucketIndex] = new Bucket(this.settings.bucketSize);
      if (bucketIndex > this.highestBucket) this.highestBucket = bucketIndex;
    }
    if (bucket.pinging === contact.nodeId) bucket.pinging = undefined;
    const index = bucket.indexOf(contact.nodeId);
    if (index >= 0) {
      bucket.moveToTail(index, contact, nowTick);
      return { change: 'updated' };
    }
    bucket.removeReplacement(contact.nodeId);
    if (bucket.contacts.length < this.settings.bucketSize) {
      bucket.append(contact, nowTick);
      this.members.set(contact.nodeId, bucketIndex);
      return { change: 'added' };
    }
    bucket.addReplacement(contact, nowTick, this.settings.replacementCacheSize);
    if (bucket.pinging === undefined && bucket.lastSeenTick[0] + this.settings.contactFreshTicks <= nowTick) {
      bucket.pinging = bucket.contacts[0].nodeId;
      return { change: 'cached', pingOldest: bucket.contacts[0] };
    }
    return { change: 'cached' };
  }

  /** A member sent us a request: it is alive, so it becomes the most recently seen. Unknown peers are ignored. */
  noteSeen(contact: Contact, nowTick: number): void {
    const bucketIndex = this.members.get(contact.nodeId);
    if (bucketIndex === undefined) return;
    const bucket = this.buckets[bucketIndex]!;
    bucket.moveToTail(bucket.indexOf(contact.nodeId), contact, nowTick);
  }

  /**
   * Whether a peer that is not a member would be let in if it answered a ping now: its
   * bucket has room, or the bucket's oldest member is due for an eviction ping.
   */
  wouldConsider(nodeId: NodeId, nowTick: number): boolean {
    const bucketIndex = this.bucketIndexOf(nodeId);
    if (bucketIndex === idBits) return false;
    const bucket = this.buckets[bucketIndex];
    if (bucket === undefined || bucket.contacts.length < this.settings.bucketSize) return true;
    return bucket.pinging === undefined && bucket.lastSeenTick[0] + this.settings.contactFreshTicks <= nowTick;
  }

  /**
   * A request to this peer went unanswered (a failed ping). A member with a replacement
   * waiting is replaced at once by the most recently seen replacement; without one it is
   * kept, flagged, until it has failed `contactFailuresMax` times in a row.
   */
  noteFailed(nodeId: NodeId): 'replaced' | 'removed' | 'kept' | 'absent' {
    const bucketIndex = this.bucketIndexOf(nodeId);
    const bucket = this.buckets[bucketIndex];
    if (bucket === undefined) return 'absent';
    bucket.removeReplacement(nodeId);
    if (bucket.pinging === nodeId) bucket.pinging = undefined;
    const index = bucket.indexOf(nodeId);
    if (index < 0) return 'absent';
    const replacement = bucket.replacements.pop();
    if (replacement !== undefined) {
      const seenTick = bucket.replacementSeenTick.pop()!;
      bucket.remove(index);
      bucket.insertBySeen(replacement, seenTick);
      this.members.delete(nodeId);
      this.members.set(replacement.nodeId, bucketIndex);
      return 'replaced';
    }
    bucket.failures[index]++;
    if (bucket.failures[index] >= this.settings.contactFailuresMax) {
      bucket.remove(index);
      this.members.delete(nodeId);
      return 'removed';
    }
    return 'kept';
  }

  /**
   * The `count` members closest to `target` by XOR distance, closest first. With
   * `excludeFailing`, members whose last request failed are left out (they are probably gone,
   * and answering a lookup with them would waste the asker's time).
   *
   * It never sorts the whole table. With i the bucket the target falls into, members of
   * bucket i are closer to the target than anything else; members of buckets above i are
   * next (they all differ from the target first at bit i); then buckets i-1, i-2 and so on,
   * each farther than the one before. So buckets are taken in that order and only the
   * members of each group are sorted.
   */
  closest(target: NodeId, count: number, excludeFailing = false): Contact[] {
    const targetWords = this.targetScratch;
    writeIdWords(target, targetWords, 0);
    const targetBucket = commonPrefixLength(this.selfWords, 0, targetWords, 0);
    const result: Contact[] = [];
    if (targetBucket < idBits) {
      this.gather(targetBucket, excludeFailing);
      takeClosestGroup(result, count, targetWords);
    }
    for (let index = targetBucket + 1; index <= this.highestBucket && result.length < count; index++) this.gather(index, excludeFailing);
    takeClosestGroup(result, count, targetWords);
    for (let index = Math.min(targetBucket, this.highestBucket + 1) - 1; index >= 0 && result.length < count; index--) {
      this.gather(index, excludeFailing);
      takeClosestGroup(result, count, targetWords);
    }
    return result;
  }

  /** Adds a bucket's members to the scratch group, with their sort keys. */
  private gather(bucketIndex: number, excludeFailing: boolean): void {
    const bucket = this.buckets[bucketIndex];
    if (bucket === undefined) return;
    const target = this.targetScratch;
    for (let index = 0; index < bucket.contacts.length; index++) {
      if (excludeFailing && bucket.failures[index] !== 0) continue;
      if (group.size === group.keys.length) growClosestGroup();
      const offset = index * idWords;
      const slot = group.size++;
      group.contacts[slot] = bucket.contacts[index];
      group.words[slot] = bucket.words;
      group.offsets[slot] = offset;
      group.keys[slot] = ((bucket.words[offset] ^ target[0]) >>> 0) * 2_097_152 + (((bucket.words[offset + 1] ^ target[1]) >>> 0) >>> 11);
    }
  }

  /** Every member, bucket by bucket, least recently seen first within a bucket. */
  contacts(): Contact[] {
    const all: Contact[] = [];
    for (const bucket of this.buckets) if (bucket !== undefined) all.push(...bucket.contacts);
    return all;
  }

  /** Members per bucket, for buckets 0 to the deepest non-empty one. */
  bucketFill(): number[] {
    const fill: number[] = [];
    for (let index = 0; index < idBits; index++) fill.push(this.buckets[index]?.contacts.length ?? 0);
    while (fill.length > 0 && fill[fill.length - 1] === 0) fill.pop();
    return fill;
  }

  /** Replacement contacts waiting in a bucket, most recently seen last (for tests and the dashboard). */
  replacementsOf(bucketIndex: number): readonly Contact[] {
    return this.buckets[bucketIndex]?.replacements ?? [];
  }

  /** Remembers that a lookup for `target` started now, so its bucket is not idle. */
  noteLookup(target: NodeId, nowTick: number): void {
    const bucketIndex = this.bucketIndexOf(target);
    if (bucketIndex < idBits) this.lastLookupTick[bucketIndex] = nowTick;
  }

  /**
   * Random ids to look up, one in the range of each idle bucket from bucket 0 to the deepest
   * non-empty one (deeper buckets are empty because no such peers exist, and looking there
   * finds nothing). The buckets count as looked up from now on.
   */
  refreshTargets(nowTick: number, refreshIntervalTicks: number, rng: Rng, targetsMax: number): NodeId[] {
    return this.bucketTargets(this.deepestBucket(), nowTick, refreshIntervalTicks, rng, targetsMax);
  }

  /**
   * Random ids in the range of every bucket farther than our closest neighbour's, to look
   * up right after joining (Maymounkov and Mazieres, section 2.3: "u refreshes all k-buckets
   * further away than its closest neighbor"). The self-lookup only met peers near us; these
   * lookups give each far bucket members, and without them a lookup for a far key can stall
   * at peers whose bucket for it is empty.
   */
  joinRefreshTargets(nowTick: number, rng: Rng, targetsMax: number): NodeId[] {
    return this.bucketTargets(this.deepestBucket() - 1, nowTick, 0, rng, targetsMax);
  }

  private deepestBucket(): number {
    let deepest = this.highestBucket;
    while (deepest >= 0 && (this.buckets[deepest]?.contacts.length ?? 0) === 0) deepest--;
    return deepest;
  }

  private bucketTargets(deepest: number, nowTick: number, refreshIntervalTicks: number, rng: Rng, targetsMax: number): NodeId[] {
    const targets: NodeId[] = [];
    for (let index = 0; index <= deepest && targets.length < targetsMax; index++) {
      if (this.lastLookupTick[index] + refreshIntervalTicks > nowTick) continue;
      this.lastLookupTick[index] = nowTick;
      targets.push(randomIdInBucket(this.selfWords, index, rng));
    }
    return targets;
  }
}
