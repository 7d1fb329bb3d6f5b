/**
 * A simulated disk for one Raft peer. Writes go to a volatile list until `fsync`; a crash
 * keeps a random prefix of the unsynced writes (the operating system may have flushed some),
 * and the first write it did not keep may be torn: half there, bytes garbled. Recovery must
 * find a torn entry by its hash and cut the log there (it was never acknowledged, since
 * nothing is sent before fsync), and must never apply it.
 */
import type { Rng } from '../../core/rng.js';
import { verifyLog, type Entry, type HardState, type Snapshot, type StoredState } from '../../replication/leader/index.js';

type DiskRecord =
  | { readonly kind: 'hardState'; readonly hardState: HardState }
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot; readonly fromLeader: boolean }
  | { readonly kind: 'entry'; readonly entry: Entry };

export interface DiskRecovery {
  readonly stored: StoredState;
  /** A torn or corrupted entry was found by its hash and the log cut before it. */
  readonly tornEntryIndex: number | undefined;
}

export class SimulatedDisk {
  private hardState: HardState;
  private snapshot: Snapshot;
  private entries: Entry[];
  private unsynced: DiskRecord[] = [];
  /** Probability that a crash tears the first unsynced write it does not keep. */
  private readonly tearProbability: number;
  tornWrites = 0;

  constructor(initial: StoredState, tearProbability: number) {
    this.hardState = initial.hardState;
    this.snapshot = initial.snapshot;
    this.entries = [...initial.entries];
    this.tearProbability = tearProbability;
  }

  writeHardState(hardState: HardState): void {
    this.unsynced.push({ kind: 'hardState', hardState });
  }

  writeSnapshot(snapshot: Snapshot, fromLeader: boolean): void {
    this.unsynced.push({ kind: 'snapshot', snapshot, fromLeader });
  }

  writeEntries(entries: readonly Entry[]): void {
    for (const entry of entries) this.unsynced.push({ kind: 'entry', entry });
  }

  fsync(): void {
    for (const record of this.unsynced) this.apply(record);
    this.unsynced = [];
  }

  /** The power goes out: a random prefix of the unsynced writes survives, the next one may be torn. */
  crash(rng: Rng): void {
    const kept = rng.nextInt(this.unsynced.length + 1);
    for (let position = 0; position < kept; position++) this.apply(this.unsynced[position]);
    const torn = this.unsynced[kept];
    if (torn !== undefined && torn.kind === 'entry' && rng.nextFloat() < this.tearProbability) {
      this.apply({ kind: 'entry', entry: tear(torn.entry, rng) });
      this.tornWrites++;
    }
    this.unsynced = [];
  }

  /** What a restarting peer reads back: the log verified against its hash chain and cut at the first bad entry. */
  recover(): DiskRecovery {
    const verification = verifyLog(this.entries, this.snapshot.meta);
    let tornEntryIndex: number | undefined;
    if (!verification.ok) {
      tornEntryIndex = verification.index;
      this.entries = this.entries.slice(0, verification.position);
    }
    return { stored: { hardState: this.hardState, snapshot: this.snapshot, entries: [...this.entries] }, tornEntryIndex };
  }

  get entryCount(): number {
    return this.entries.length;
  }

  private apply(record: DiskRecord): void {
    switch (record.kind) {
      case 'hardState':
        this.hardState = record.hardState;
        return;
      case 'snapshot': {
        const meta = record.snapshot.meta;
        this.snapshot = record.snapshot;
        this.entries = record.fromLeader ? [] : this.entries.filter((entry) => entry.index > meta.index);
        return;
      }
      case 'entry': {
        const first = this.entries.length === 0 ? this.snapshot.meta.index + 1 : this.entries[0].index;
        // An entry at an index we hold replaces it and everything after it (a follower's conflict).
        const keep = Math.max(0, Math.min(this.entries.length, record.entry.index - first));
        this.entries.length = keep;
        this.entries.push(record.entry);
      }
    }
  }
}

/** A torn write: the entry's bytes cut short or garbled, as a half-finished sector write leaves them. */
function tear(entry: Entry, rng: Rng): Entry {
  const data = entry.data.slice(0, rng.nextInt(entry.data.length + 1));
  if (data.length === entry.data.length) {
    if (data.length === 0) return { ...entry, term: entry.term + 1 };
    data[rng.nextInt(data.length)] ^= 1 + rng.nextInt(255);
  }
  return { ...entry, data };
}
