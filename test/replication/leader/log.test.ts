import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RaftLog, emptySnapshotMeta } from '../../../src/replication/leader/log.js';
import { genesisHash, makeEntry, verifyLog, type Entry } from '../../../src/replication/leader/index.js';

/** A chain of entries with the given terms, starting at index 1. */
function chain(terms: readonly number[], salt = ''): Entry[] {
  const entries: Entry[] = [];
  let previous = genesisHash;
  terms.forEach((term, position) => {
    const entry = makeEntry(previous, term, position + 1, 'normal', new TextEncoder().encode(`${salt}${position}`));
    entries.push(entry);
    previous = entry.hash;
  });
  return entries;
}

const nonDecreasingTerms = fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 0, maxLength: 12 })
  .map((steps) => { let term = 1; return steps.map((step) => (term += step)); });

describe('RaftLog', () => {
  it('accepts entries only where the previous entry matches (Raft §5.3 consistency check)', () => {
    const log = new RaftLog(emptySnapshotMeta(['a']), chain([1, 1, 2]), 0);
    expect(log.tryAppend(3, 1, [])).toBeUndefined();
    expect(log.tryAppend(5, 2, [])).toBeUndefined();
    expect(log.tryAppend(3, 2, [])).toBe(3);
    expect(log.lastIndex()).toBe(3);
  });

  it('replaces a conflicting suffix and keeps matching entries (Log Matching, §5.3)', () => {
    const mine = chain([1, 1, 2, 2]);
    const leaders = chain([1, 1, 3, 3, 3], 'leader');
    const log = new RaftLog(emptySnapshotMeta(['a']), mine, 1);
    // The leader's first two entries differ in data but this test only compares terms, as Raft does.
    expect(log.tryAppend(2, 1, leaders.slice(2))).toBe(5);
    expect([1, 2, 3, 4, 5].map((index) => log.term(index))).toEqual([1, 1, 3, 3, 3]);
    expect(log.unstableFrom).toBe(3);
    expect(log.persisted).toBe(2);
  });

  it('never truncates a committed entry', () => {
    const log = new RaftLog(emptySnapshotMeta(['a']), chain([1, 1, 2]), 3);
    expect(() => log.tryAppend(2, 1, chain([1, 1, 3]).slice(2))).toThrow(/refusing to truncate committed entry 3/);
  });

  it('is idempotent under a repeated or stale AppendEntries', () => {
    fc.assert(fc.property(nonDecreasingTerms, fc.nat(12), (terms, cut) => {
      const entries = chain(terms);
      const log = new RaftLog(emptySnapshotMeta(['a']), [], 0);
      expect(log.tryAppend(0, 0, entries)).toBe(entries.length);
      // The same message again, or an older shorter one, changes nothing.
      expect(log.tryAppend(0, 0, entries.slice(0, Math.min(cut, entries.length)))).toBe(Math.min(cut, entries.length));
      expect(log.lastIndex()).toBe(entries.length);
      expect(log.slice(1, 100, log.lastIndex()).map((entry) => entry.hash)).toEqual(entries.map((entry) => entry.hash));
    }));
  });

  it('judges up-to-dateness by last term, then length (§5.4.1)', () => {
    const log = new RaftLog(emptySnapshotMeta(['a']), chain([1, 2, 2]), 0);
    expect(log.isUpToDate(3, 2)).toBe(true);
    expect(log.isUpToDate(2, 2)).toBe(false);
    expect(log.isUpToDate(1, 3)).toBe(true);
    expect(log.isUpToDate(10, 1)).toBe(false);
  });

  it('hints where to retry after a rejection: past our end, or the start of the conflicting term', () => {
    const log = new RaftLog(emptySnapshotMeta(['a']), chain([1, 2, 2, 2, 3]), 1);
    expect(log.rejectHint(9)).toBe(6);
    expect(log.rejectHint(4)).toBe(2);
  });

  it('compacts into a snapshot that continues the hash chain', () => {
    const entries = chain([1, 1, 2, 2]);
    const log = new RaftLog(emptySnapshotMeta(['a']), entries, 4);
    log.applied = 4;
    log.compact({ index: 2, term: 1, hash: entries[1].hash, membership: { voters: ['a'], learners: [] } });
    expect(log.firstIndex()).toBe(3);
    expect(log.term(2)).toBe(1);
    expect(log.term(1)).toBeUndefined();
    expect(verifyLog(log.slice(3, 10), log.snapshot).ok).toBe(true);
  });
});

describe('verifyLog', () => {
  it('accepts any honest chain and names the first altered entry', () => {
    fc.assert(fc.property(nonDecreasingTerms.filter((terms) => terms.length > 0), fc.nat(), fc.nat(255), (terms, pick, flip) => {
      const entries = chain(terms);
      expect(verifyLog(entries, undefined).ok).toBe(true);
      const position = pick % entries.length;
      const data = entries[position].data.slice();
      data[0] ^= 1 + (flip % 255);
      const altered = [...entries];
      altered[position] = { ...entries[position], data };
      const verdict = verifyLog(altered, undefined);
      expect(verdict.ok).toBe(false);
      if (!verdict.ok) {
        expect(verdict.index).toBe(position + 1);
        expect(verdict.lastGoodIndex).toBe(position);
        expect(verdict.reason).toMatch(/hash mismatch/);
      }
    }), { numRuns: 300 });
  });

  it('names gaps and terms that go backwards', () => {
    const entries = chain([1, 2, 3]);
    const gap = verifyLog([entries[0], entries[2]], undefined);
    expect(gap.ok === false && gap.index === 2 && /gap/.test(gap.reason)).toBe(true);
    const backwards = chain([2, 1]);
    const verdict = verifyLog(backwards, undefined);
    expect(verdict.ok === false && verdict.index === 2 && /lower than/.test(verdict.reason)).toBe(true);
  });

  it('checks that the log continues the snapshot', () => {
    const entries = chain([1, 1, 1]);
    const snapshot = { index: 2, term: 1, hash: entries[1].hash };
    expect(verifyLog(entries.slice(2), snapshot).ok).toBe(true);
    expect(verifyLog(entries.slice(2), { ...snapshot, hash: genesisHash }).ok).toBe(false);
  });
});
