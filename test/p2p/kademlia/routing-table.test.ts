import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Contact } from '../../../src/p2p/kademlia/contact.js';
import type { NodeId } from '../../../src/p2p/kademlia/node-id.js';
import { RoutingTable, type AnsweredOutcome, type RoutingTableSettings } from '../../../src/p2p/kademlia/routing-table.js';
import { arbitraryId, arbitraryIdNear, contactOf, referenceBucket, xorDistance } from './helpers.js';

interface Member {
  contact: Contact;
  lastSeen: number;
  failures: number;
}

interface ReferenceBucket {
  members: Member[];
  replacements: { contact: Contact; seen: number }[];
  pinging: NodeId | undefined;
}

/**
 * The routing-table rules written the dumb way: BigInt distances, one array per bucket, a full
 * sort for every closest query. The optimised table must agree with it after every step.
 */
class ReferenceTable {
  private readonly buckets = new Map<number, ReferenceBucket>();

  constructor(
    private readonly self: NodeId,
    private readonly settings: RoutingTableSettings,
  ) {}

  private bucket(nodeId: NodeId): ReferenceBucket {
    const index = referenceBucket(this.self, nodeId);
    let bucket = this.buckets.get(index);
    if (bucket === undefined) {
      bucket = { members: [], replacements: [], pinging: undefined };
      this.buckets.set(index, bucket);
    }
    return bucket;
  }

  noteAnswered(contact: Contact, now: number): AnsweredOutcome {
    if (contact.nodeId === this.self) return { change: 'self' };
    const bucket = this.bucket(contact.nodeId);
    if (bucket.pinging === contact.nodeId) bucket.pinging = undefined;
    const existing = bucket.members.findIndex((member) => member.contact.nodeId === contact.nodeId);
    if (existing >= 0) {
      bucket.members.splice(existing, 1);
      bucket.members.push({ contact, lastSeen: now, failures: 0 });
      return { change: 'updated' };
    }
    bucket.replacements = bucket.replacements.filter((entry) => entry.contact.nodeId !== contact.nodeId);
    if (bucket.members.length < this.settings.bucketSize) {
      bucket.members.push({ contact, lastSeen: now, failures: 0 });
      return { change: 'added' };
    }
    if (this.settings.replacementCacheSize > 0) {
      bucket.replacements.push({ contact, seen: now });
      if (bucket.replacements.length > this.settings.replacementCacheSize) bucket.replacements.shift();
    }
    const oldest = bucket.members[0];
    if (bucket.pinging === undefined && oldest.lastSeen + this.settings.contactFreshTicks <= now) {
      bucket.pinging = oldest.contact.nodeId;
      return { change: 'cached', pingOldest: oldest.contact };
    }
    return { change: 'cached' };
  }

  noteSeen(contact: Contact, now: number): void {
    if (contact.nodeId === this.self) return;
    const bucket = this.bucket(contact.nodeId);
    const existing = bucket.members.findIndex((member) => member.contact.nodeId === contact.nodeId);
    if (existing < 0) return;
    bucket.members.splice(existing, 1);
    bucket.members.push({ contact, lastSeen: now, failures: 0 });
  }

  wouldConsider(nodeId: NodeId, now: number): boolean {
    if (nodeId === this.self) return false;
    const bucket = this.bucket(nodeId);
    if (bucket.members.length < this.settings.bucketSize) return true;
    return bucket.pinging === undefined && bucket.members[0].lastSeen + this.settings.contactFreshTicks <= now;
  }

  noteFailed(nodeId: NodeId): string {
    if (nodeId === this.self) return 'absent';
    const bucket = this.bucket(nodeId);
    bucket.replacements = bucket.replacements.filter((entry) => entry.contact.nodeId !== nodeId);
    if (bucket.pinging === nodeId) bucket.pinging = undefined;
    const index = bucket.members.findIndex((member) => member.contact.nodeId === nodeId);
    if (index < 0) return 'absent';
    const replacement = bucket.replacements.pop();
    if (replacement !== undefined) {
      bucket.members.splice(index, 1);
      // Members stay ordered by when they were last seen; equal times keep their order of arrival.
      let position = bucket.members.length;
      while (position > 0 && bucket.members[position - 1].lastSeen > replacement.seen) position--;
      bucket.members.splice(position, 0, { contact: replacement.contact, lastSeen: replacement.seen, failures: 0 });
      return 'replaced';
    }
    bucket.members[index].failures++;
    if (bucket.members[index].failures >= this.settings.contactFailuresMax) {
      bucket.members.splice(index, 1);
      return 'removed';
    }
    return 'kept';
  }

  closest(target: NodeId, count: number, excludeFailing: boolean): Contact[] {
    return this.members()
      .filter((member) => !excludeFailing || member.failures === 0)
      .sort((a, b) => {
        const difference = xorDistance(target, a.contact.nodeId) - xorDistance(target, b.contact.nodeId);
        return difference < 0n ? -1 : difference > 0n ? 1 : 0;
      })
      .slice(0, count)
      .map((member) => member.contact);
  }

  /** Members bucket by bucket from bucket 0, least recently seen first, as `RoutingTable.contacts` lists them. */
  members(): Member[] {
    return [...this.buckets.entries()].sort(([a], [b]) => a - b).flatMap(([, bucket]) => bucket.members);
  }

  /** Members with an eviction ping out, in bucket order. */
  pinging(): NodeId[] {
    return [...this.buckets.entries()].sort(([a], [b]) => a - b).flatMap(([, bucket]) => (bucket.pinging === undefined ? [] : [bucket.pinging]));
  }

  bucketIndexes(): number[] {
    return [...this.buckets.keys()];
  }

  replacements(index: number): Contact[] {
    return (this.buckets.get(index)?.replacements ?? []).map((entry) => entry.contact);
  }
}

type Operation =
  | { kind: 'answered' | 'seen' | 'failed' | 'consider'; id: number }
  | { kind: 'wait'; ticks: number }
  | { kind: 'resolvePing'; id: number; answered: boolean }
  | { kind: 'closest'; target: NodeId; count: number; excludeFailing: boolean };

const settings: RoutingTableSettings = { bucketSize: 3, replacementCacheSize: 2, contactFreshTicks: 4, contactFailuresMax: 2 };

/**
 * Inside the property, a mismatch throws a short error instead of failing an `expect`: fast-check
 * re-runs the scenario hundreds of times while shrinking, and building a pretty diff of two
 * tables on every one of those runs made shrinking take minutes.
 */
function same(actual: unknown, expected: unknown, what: string): void {
  const actualText = JSON.stringify(actual);
  const expectedText = JSON.stringify(expected);
  if (actualText !== expectedText) throw new Error(`${what}: got ${actualText}, the reference says ${expectedText}`);
}

describe('RoutingTable against a dumb reference', () => {
  it('agrees with the reference after every step, and keeps its invariants', () => {
    const scenario = arbitraryId.chain((self) => fc.tuple(
      fc.constant(self),
      // A small pool of ids crowded into the first buckets, so that buckets fill and overflow, plus a few anywhere.
      fc.uniqueArray(fc.oneof(arbitraryIdNear(self, 2), arbitraryIdNear(self, 2), arbitraryIdNear(self)), { minLength: 8, maxLength: 24 }).map((ids) => [self, ...ids]),
      fc.array(fc.oneof(
        fc.record({ kind: fc.constantFrom('answered' as const, 'answered' as const, 'seen' as const, 'failed' as const, 'failed' as const, 'consider' as const), id: fc.nat() }),
        // Short waits, so that ties in last-seen ticks and the freshness boundary come up often.
        fc.record({ kind: fc.constant('wait' as const), ticks: fc.integer({ min: 1, max: 3 }) }),
        // The pinged member answers or times out, as it would in a node.
        fc.record({ kind: fc.constant('resolvePing' as const), id: fc.nat(), answered: fc.boolean() }),
        fc.record({ kind: fc.constant('closest' as const), target: fc.oneof(arbitraryId, arbitraryIdNear(self)), count: fc.integer({ min: 1, max: 30 }), excludeFailing: fc.boolean() }),
        fc.record({ kind: fc.constant('closest' as const), target: fc.oneof(arbitraryId, arbitraryIdNear(self)), count: fc.integer({ min: 1, max: 30 }), excludeFailing: fc.boolean() }),
      ), { minLength: 60, maxLength: 150 }),
    ));
    fc.assert(fc.property(scenario, ([self, ids, operations]: [NodeId, NodeId[], Operation[]]) => {
      const table = new RoutingTable(self, settings);
      const reference = new ReferenceTable(self, settings);
      let now = 0;
      for (const operation of operations) {
        switch (operation.kind) {
          case 'answered': {
            const contact = contactOf(ids[operation.id % ids.length], 4000 + (now % 7));
            same(table.noteAnswered(contact, now), reference.noteAnswered(contact, now), `noteAnswered(${contact.nodeId}) at ${now}`);
            break;
          }
          case 'seen': {
            const contact = contactOf(ids[operation.id % ids.length]);
            table.noteSeen(contact, now);
            reference.noteSeen(contact, now);
            break;
          }
          case 'failed': {
            const nodeId = ids[operation.id % ids.length];
            same(table.noteFailed(nodeId), reference.noteFailed(nodeId), `noteFailed(${nodeId})`);
            break;
          }
          case 'consider': {
            const nodeId = ids[operation.id % ids.length];
            if (!table.has(nodeId)) same(table.wouldConsider(nodeId, now), reference.wouldConsider(nodeId, now), `wouldConsider(${nodeId}) at ${now}`);
            break;
          }
          case 'wait':
            now += operation.ticks;
            break;
          case 'resolvePing': {
            const pinged = reference.pinging();
            if (pinged.length === 0) break;
            const nodeId = pinged[operation.id % pinged.length];
            if (operation.answered) same(table.noteAnswered(contactOf(nodeId), now), reference.noteAnswered(contactOf(nodeId), now), `ping answered by ${nodeId}`);
            else same(table.noteFailed(nodeId), reference.noteFailed(nodeId), `ping to ${nodeId} failed`);
            break;
          }
          case 'closest': {
            const found = table.closest(operation.target, operation.count, operation.excludeFailing);
            same(found, reference.closest(operation.target, operation.count, operation.excludeFailing), `closest(${operation.target}, ${operation.count})`);
            for (let i = 1; i < found.length; i++) {
              if (xorDistance(operation.target, found[i - 1].nodeId) >= xorDistance(operation.target, found[i].nodeId)) throw new Error('closest is not sorted by distance');
            }
            break;
          }
        }
        // Invariants: no bucket over k, own id never present, the same members, order, failure counts and replacements as the reference.
        if (!table.bucketFill().every((fill) => fill <= settings.bucketSize)) throw new Error('a bucket holds more than k contacts');
        if (table.has(self)) throw new Error('the table holds its own id');
        const members = table.contacts();
        const expected = reference.members();
        same(members, expected.map((member) => member.contact), 'members');
        same(table.size, members.length, 'size');
        same(members.map((contact) => table.failuresOf(contact.nodeId)), expected.map((member) => member.failures), 'failure counts');
        for (const index of reference.bucketIndexes()) same(table.replacementsOf(index), reference.replacements(index), `replacements of bucket ${index}`);
      }
    }), { numRuns: 150, interruptAfterTimeLimit: 30_000 });
  });

  it('returns the n closest of a large table, sorted by XOR distance, like a full sort', () => {
    fc.assert(fc.property(arbitraryId, fc.array(arbitraryId, { minLength: 50, maxLength: 400 }), arbitraryId, fc.integer({ min: 1, max: 60 }), (self, ids, target, count) => {
      const bigSettings: RoutingTableSettings = { bucketSize: 20, replacementCacheSize: 0, contactFreshTicks: 10, contactFailuresMax: 3 };
      const table = new RoutingTable(self, bigSettings);
      const reference = new ReferenceTable(self, bigSettings);
      for (const nodeId of ids) {
        table.noteAnswered(contactOf(nodeId), 0);
        reference.noteAnswered(contactOf(nodeId), 0);
      }
      same(table.closest(target, count), reference.closest(target, count, false), 'closest to a random target');
      same(table.closest(self, count), reference.closest(self, count, false), 'closest to our own id');
    }), { numRuns: 100 });
  });
});

describe('RoutingTable eviction', () => {
  const self = '8000000000000000000000000000000000000000';
  // All of these fall into bucket 0 of `self` (their first bit differs from self's).
  const first = '0000000000000000000000000000000000000001';
  const second = '0000000000000000000000000000000000000002';
  const third = '0000000000000000000000000000000000000003';
  const newcomer = '0000000000000000000000000000000000000004';
  const tableSettings: RoutingTableSettings = { bucketSize: 3, replacementCacheSize: 2, contactFreshTicks: 10, contactFailuresMax: 2 };

  function fullBucket(): RoutingTable {
    const table = new RoutingTable(self, tableSettings);
    for (const nodeId of [first, second, third]) expect(table.noteAnswered(contactOf(nodeId), 0).change).toBe('added');
    return table;
  }

  it('evicts the least-recently-seen member only after it fails a ping, and lets the newcomer in', () => {
    const table = fullBucket();
    const outcome = table.noteAnswered(contactOf(newcomer), 20);
    expect(outcome).toEqual({ change: 'cached', pingOldest: contactOf(first) });
    expect(table.has(newcomer)).toBe(false);
    expect(table.has(first)).toBe(true);
    expect(table.noteFailed(first)).toBe('replaced');
    expect(table.has(first)).toBe(false);
    expect(table.has(newcomer)).toBe(true);
    expect(table.contacts().map((contact) => contact.nodeId)).toEqual([second, third, newcomer]);
  });

  it('keeps the oldest member when it answers the ping, and the newcomer stays out', () => {
    const table = fullBucket();
    expect(table.noteAnswered(contactOf(newcomer), 20).pingOldest).toEqual(contactOf(first));
    expect(table.noteAnswered(contactOf(first), 21)).toEqual({ change: 'updated' });
    expect(table.has(newcomer)).toBe(false);
    expect(table.contacts().map((contact) => contact.nodeId)).toEqual([second, third, first]);
    expect(table.replacementsOf(0).map((contact) => contact.nodeId)).toEqual([newcomer]);
  });

  it('does not ping a member heard from recently, and never pings twice at once', () => {
    const table = fullBucket();
    expect(table.noteAnswered(contactOf(newcomer), 5).pingOldest).toBeUndefined();
    expect(table.noteAnswered(contactOf(newcomer), 20).pingOldest).toEqual(contactOf(first));
    expect(table.noteAnswered(contactOf('0000000000000000000000000000000000000005'), 21).pingOldest).toBeUndefined();
    expect(table.wouldConsider('0000000000000000000000000000000000000006', 21)).toBe(false);
  });

  it('puts a promoted replacement where its last-seen tick belongs, after members seen at the same tick', () => {
    const table = fullBucket();
    expect(table.noteAnswered(contactOf(first), 5).change).toBe('updated');
    expect(table.noteAnswered(contactOf(newcomer), 5)).toEqual({ change: 'cached' });
    expect(table.noteFailed(third)).toBe('replaced');
    expect(table.contacts().map((contact) => contact.nodeId)).toEqual([second, first, newcomer]);
  });

  it('adds only through noteAnswered: a peer that is merely seen stays out', () => {
    const table = new RoutingTable(self, tableSettings);
    table.noteSeen(contactOf(first), 0);
    expect(table.has(first)).toBe(false);
    expect(table.wouldConsider(first, 0)).toBe(true);
    expect(table.noteAnswered(contactOf(self), 0)).toEqual({ change: 'self' });
    expect(table.size).toBe(0);
  });

  it('drops a member without replacement after contactFailuresMax failures in a row', () => {
    const table = fullBucket();
    expect(table.noteFailed(second)).toBe('kept');
    expect(table.failuresOf(second)).toBe(1);
    expect(table.closest(second, 3, true).map((contact) => contact.nodeId)).not.toContain(second);
    expect(table.noteFailed(second)).toBe('removed');
    expect(table.has(second)).toBe(false);
    expect(table.noteFailed(second)).toBe('absent');
  });
});
