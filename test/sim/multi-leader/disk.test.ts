import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import type { ChangeEntry, KeyState } from '../../../src/replication/multi-leader/index.js';
import { SimulatedMultiLeaderDisk } from '../../../src/sim/multi-leader/index.js';

const element = (seq: number) => ({ id: `a:${seq}`, timestamp: { wallMs: seq, logical: 0, node: 'a' }, value: `${seq}` });
const entry = (seq: number): ChangeEntry => ({ origin: 'a', seq, key: 'chat', change: { kind: 'append', element: element(seq) } });
const set = (count: number): KeyState => ({ kind: 'set', elements: Array.from({ length: count }, (_, index) => element(index + 1)) });
const transaction = (seq: number) => ({ logToAppend: [entry(seq)], logTruncatedThrough: undefined, keysToPersist: [{ key: 'chat', state: set(seq) }], applied: { a: seq } });

describe('SimulatedMultiLeaderDisk', () => {
  it('keeps what was synced, and of the unsynced transactions a prefix, each whole or not at all', () => {
    const kept = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const durable: number[] = [];
      const disk = new SimulatedMultiLeaderDisk((change) => durable.push(change.seq));
      disk.write(transaction(1));
      disk.fsync();
      for (let seq = 2; seq <= 4; seq++) disk.write(transaction(seq));
      disk.crash(new Rng(seed));
      const restored = disk.recover();
      const seq = restored.applied.a!;
      kept.add(seq);
      expect(seq).toBeGreaterThanOrEqual(1);
      // Keys, log and cursor always come from the same transaction boundary.
      expect([...restored.log].map((change) => change.seq)).toEqual(Array.from({ length: seq }, (_, index) => index + 1));
      expect([...restored.keys]).toEqual([['chat', set(seq)]]);
      expect(durable).toEqual(Array.from({ length: seq }, (_, index) => index + 1));
      expect(disk.lostTransactions).toBe(4 - seq);
    }
    expect([...kept].sort()).toEqual([1, 2, 3, 4]);
  });

  it('drops truncated log entries, and restores without keys only when a test asks for that bug', () => {
    const disk = new SimulatedMultiLeaderDisk();
    disk.write(transaction(1));
    disk.write({ ...transaction(2), logTruncatedThrough: 1 });
    disk.fsync();
    expect([...disk.recover().log].map((change) => change.seq)).toEqual([2]);
    expect([...disk.recover(true).keys]).toEqual([]);
  });
});
