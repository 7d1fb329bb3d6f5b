/**
 * The Raft log as the core holds it: a snapshot (everything up to `snapshot.index`, compacted)
 * followed by the entries after it. The core keeps the whole uncompacted tail in memory, which
 * snapshots keep short; the shell keeps a copy on disk and hands it back at start-up.
 *
 * Three marks move along it: `commit` (known committed, Raft §5.3), `applied` (handed to the
 * shell to apply, and advanced), and `persisted` (the shell has made durable every entry up
 * to here). `unstableFrom` is the first entry not yet handed to the shell to persist.
 */
import { assert } from '../../core/assert.js';
import { genesisHash, makeEntry } from './hash.js';
import type { Entry, EntryType, Snapshot, SnapshotMeta } from './types.js';

export class RaftLog {
  snapshot: SnapshotMeta;
  /** Entries snapshot.index + 1 .. lastIndex, in order. */
  private entries: Entry[];
  commit: number;
  applied: number;
  persisted: number;
  unstableFrom: number;

  constructor(snapshot: SnapshotMeta, entries: readonly Entry[], commit: number) {
    this.snapshot = snapshot;
    this.entries = [...entries];
    this.commit = commit;
    this.applied = snapshot.index;
    this.persisted = this.lastIndex();
    this.unstableFrom = this.lastIndex() + 1;
  }

  firstIndex(): number {
    return this.snapshot.index + 1;
  }

  lastIndex(): number {
    return this.snapshot.index + this.entries.length;
  }

  /** The term of the entry at `index`, or undefined when it is compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.snapshot.index) return this.snapshot.term;
    if (index < this.snapshot.index || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshot.index - 1].term;
  }

  lastTerm(): number {
    return this.term(this.lastIndex())!;
  }

  hashAt(index: number): string | undefined {
    if (index === this.snapshot.index) return this.snapshot.hash;
    if (index < this.snapshot.index || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshot.index - 1].hash;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.snapshot.index || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshot.index - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours if its last term is higher, or equal with an index at least ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm() || (lastTerm === this.lastTerm() && lastIndex >= this.lastIndex());
  }

  /** Entries from `from` (inclusive), at most `countMax` of them. `from` must not be compacted. */
  slice(from: number, countMax: number, through = this.lastIndex()): Entry[] {
    assert(from > this.snapshot.index, `slice from ${from} reaches into the snapshot (index ${this.snapshot.index})`);
    const start = from - this.snapshot.index - 1;
    const end = Math.min(through - this.snapshot.index, start + countMax);
    return this.entries.slice(start, Math.max(start, end));
  }

  /** A leader appends a new entry of its term at the end, extending the hash chain. */
  appendNew(term: number, type: EntryType, data: Uint8Array): Entry {
    const index = this.lastIndex() + 1;
    const entry = makeEntry(this.hashAt(index - 1)!, term, index, type, data);
    this.entries.push(entry);
    return entry;
  }

  /**
   * AppendEntries on a follower (Raft §5.3): if our log has an entry at `prevIndex` with
   * `prevTerm`, delete any entry that conflicts with the new ones (same index, different term)
   * and everything after it, append the new ones not already present, and return the index of
   * the last new entry. Returns undefined when the consistency check fails.
   */
  tryAppend(prevIndex: number, prevTerm: number, entries: readonly Entry[]): number | undefined {
    if (prevIndex < this.snapshot.index) {
      // Entries we compacted are committed, so they match the leader's: skip over them.
      const skip = this.snapshot.index - prevIndex;
      if (skip > entries.length) return prevIndex + entries.length;
      const boundary = entries[skip - 1];
      if (boundary !== undefined && boundary.term !== this.snapshot.term) return undefined;
      return this.tryAppend(this.snapshot.index, this.snapshot.term, entries.slice(skip));
    }
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    for (let position = 0; position < entries.length; position++) {
      const incoming = entries[position];
      const existing = this.term(incoming.index);
      if (existing === incoming.term) continue;
      if (existing !== undefined) this.truncateFrom(incoming.index);
      for (let rest = position; rest < entries.length; rest++) this.entries.push(entries[rest]);
      break;
    }
    return prevIndex + entries.length;
  }

  /** Deletes the entry at `index` and everything after it; committed entries are never deleted (Raft §5.4.2, Log Matching). */
  private truncateFrom(index: number): void {
    assert(index > this.commit, `refusing to truncate committed entry ${index} (commit ${this.commit}): a leader sent a conflicting committed entry`);
    this.entries.length = index - this.snapshot.index - 1;
    this.unstableFrom = Math.min(this.unstableFrom, index);
    this.persisted = Math.min(this.persisted, index - 1);
  }

  /** Where a follower tells a leader to try next after rejecting AppendEntries at `prevIndex` (the fast backtracking of Raft §5.3's last paragraphs). */
  rejectHint(prevIndex: number): number {
    if (prevIndex > this.lastIndex()) return this.lastIndex() + 1;
    const conflictTerm = this.term(prevIndex);
    let index = prevIndex;
    while (index - 1 > Math.max(this.commit, this.snapshot.index) && this.term(index - 1) === conflictTerm) index--;
    return index;
  }

  commitTo(index: number): boolean {
    if (index <= this.commit) return false;
    assert(index <= this.lastIndex(), `commit ${index} beyond the last index ${this.lastIndex()}`);
    this.commit = index;
    return true;
  }

  /** Entries handed to the shell for persisting: from `unstableFrom` to the end. Marks them handed. */
  takeUnstable(): Entry[] {
    if (this.unstableFrom > this.lastIndex()) return [];
    const entries = this.slice(this.unstableFrom, Number.POSITIVE_INFINITY);
    this.unstableFrom = this.lastIndex() + 1;
    return entries;
  }

  hasUnstable(): boolean {
    return this.unstableFrom <= this.lastIndex();
  }

  /**
   * The shell made durable every entry it was handed, through `index`. Entries replaced since
   * they were handed out (a conflict truncated them) are handed out again and do not count.
   */
  markPersisted(index: number): void {
    const through = Math.min(index, this.unstableFrom - 1);
    if (through > this.persisted) this.persisted = through;
  }

  /** Replaces the whole log with a snapshot from the leader (Raft §7: discard the entire log). */
  restore(snapshot: Snapshot): void {
    this.snapshot = snapshot.meta;
    this.entries = [];
    this.commit = snapshot.meta.index;
    this.applied = snapshot.meta.index;
    this.persisted = snapshot.meta.index;
    this.unstableFrom = snapshot.meta.index + 1;
  }

  /** Drops entries up to `meta.index`, which a local snapshot now covers. */
  compact(meta: SnapshotMeta): void {
    assert(meta.index > this.snapshot.index && meta.index <= this.applied, `compaction to ${meta.index} must be past the old snapshot (${this.snapshot.index}) and not past applied (${this.applied})`);
    this.entries = this.entries.slice(meta.index - this.snapshot.index);
    this.snapshot = meta;
  }

  /** Bytes of command data in entries after `commit` (the leader's uncommitted budget). */
  uncommittedBytes(): number {
    let bytes = 0;
    for (let index = this.commit + 1; index <= this.lastIndex(); index++) bytes += this.entry(index)!.data.length;
    return bytes;
  }
}

export function emptySnapshotMeta(voters: readonly string[], learners: readonly string[] = []): SnapshotMeta {
  return { index: 0, term: 0, hash: genesisHash, membership: { voters: [...voters].sort(), learners: [...learners].sort() } };
}
