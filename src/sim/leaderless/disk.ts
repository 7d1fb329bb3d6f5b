/**
 * A simulated disk for one leaderless peer, standing in for its SQLite database. Each Ready is
 * one transaction; transactions stay volatile until `fsync`. A crash keeps a random prefix of
 * the unsynced transactions (the operating system may have flushed some) and loses the rest
 * whole: SQLite's journal makes a transaction atomic, so nothing is torn half-way.
 */
import type { Rng } from '../../core/rng.js';
import type { Hint } from '../../replication/leaderless/index.js';
import type { RegisterState } from '../../replication/versions/index.js';

interface Transaction {
  readonly states: ReadonlyArray<{ key: string; state: RegisterState }>;
  readonly hintsToPersist: readonly Hint[];
  readonly hintsToDelete: readonly string[];
}

export class SimulatedLeaderlessDisk {
  private readonly states = new Map<string, RegisterState>();
  private readonly hints = new Map<string, Hint>();
  private unsynced: Transaction[] = [];
  /** Transactions a crash threw away, and hints ever written (sloppy quorum at work), for the report. */
  lostTransactions = 0;
  hintsWritten = 0;

  write(transaction: Transaction): void {
    this.hintsWritten += transaction.hintsToPersist.length;
    this.unsynced.push(transaction);
  }

  get hasUnsynced(): boolean {
    return this.unsynced.length > 0;
  }

  fsync(): void {
    for (const transaction of this.unsynced) this.apply(transaction);
    this.unsynced = [];
  }

  /** The power goes out: a random prefix of the unsynced transactions survives. */
  crash(rng: Rng): void {
    const kept = rng.nextInt(this.unsynced.length + 1);
    for (let index = 0; index < kept; index++) this.apply(this.unsynced[index]);
    this.lostTransactions += this.unsynced.length - kept;
    this.unsynced = [];
  }

  /** What a restarting peer reads back. */
  recover(): { states: Array<[string, RegisterState]>; hints: Hint[] } {
    return { states: [...this.states], hints: [...this.hints.values()] };
  }

  private apply(transaction: Transaction): void {
    for (const { key, state } of transaction.states) this.states.set(key, state);
    for (const hint of transaction.hintsToPersist) this.hints.set(hint.id, hint);
    for (const id of transaction.hintsToDelete) this.hints.delete(id);
  }
}
