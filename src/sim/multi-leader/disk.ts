/**
 * A simulated disk for one multi-leader peer, modelled on how SQLite behaves: each Ready is
 * one transaction, written to a volatile list until `fsync`. A crash keeps a random prefix of
 * the unsynced transactions (the operating system may have flushed some of them), each whole
 * or not at all, since a SQLite transaction is atomic; the rest are lost. Nothing is sent or
 * acknowledged before its fsync, so what a crash loses was never promised to anyone.
 */
import type { Rng } from '../../core/rng.js';
import type { ChangeEntry, KeyState, MultiLeaderReady, RestoredState } from '../../replication/multi-leader/index.js';
import type { VersionVector } from '../../replication/versions/index.js';

type Transaction = Pick<MultiLeaderReady, 'logToAppend' | 'logTruncatedThrough' | 'keysToPersist' | 'applied'>;

export class SimulatedMultiLeaderDisk {
  private readonly keys = new Map<string, KeyState>();
  private readonly log = new Map<number, ChangeEntry>();
  private applied: VersionVector = {};
  private unsynced: Transaction[] = [];
  /** Transactions a crash threw away before they reached the disk. */
  lostTransactions = 0;

  /** `durable` hears of every own change that reaches the disk for good (for the checkers). */
  constructor(private readonly durable: (entry: ChangeEntry) => void = () => undefined) {}

  /** One Ready's writes, volatile until `fsync`. Key states are immutable values in the core, so they are kept by reference. */
  write(ready: Transaction): void {
    this.unsynced.push({ logToAppend: ready.logToAppend, logTruncatedThrough: ready.logTruncatedThrough, keysToPersist: ready.keysToPersist, applied: ready.applied });
  }

  fsync(): void {
    for (const transaction of this.unsynced) this.apply(transaction);
    this.unsynced = [];
  }

  /** The power goes out: a random prefix of the unsynced transactions survives. */
  crash(rng: Rng): void {
    const kept = rng.nextInt(this.unsynced.length + 1);
    for (let position = 0; position < kept; position++) this.apply(this.unsynced[position]);
    this.lostTransactions += this.unsynced.length - kept;
    this.unsynced = [];
  }

  /** What a restarting peer reads back. `withoutKeys` is a test's mutation: a shell that forgot to restore the keys but kept the cursor. */
  recover(withoutKeys = false): RestoredState {
    return {
      keys: withoutKeys ? [] : [...this.keys],
      log: [...this.log.values()].sort((left, right) => left.seq - right.seq),
      applied: { ...this.applied },
    };
  }

  private apply(transaction: Transaction): void {
    for (const entry of transaction.logToAppend) {
      this.log.set(entry.seq, entry);
      this.durable(entry);
    }
    if (transaction.logTruncatedThrough !== undefined) {
      for (const seq of this.log.keys()) if (seq <= transaction.logTruncatedThrough) this.log.delete(seq);
    }
    for (const { key, state } of transaction.keysToPersist) this.keys.set(key, state);
    this.applied = transaction.applied;
  }
}
