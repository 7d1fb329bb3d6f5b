import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { bootstrapStoredState, makeEntry, type Entry } from '../../../src/replication/leader/index.js';
import { SimulatedDisk } from '../../../src/sim/raft/disk.js';

function nextEntries(after: Entry, count: number, term = 2): Entry[] {
  const entries: Entry[] = [];
  let previous = after;
  for (let offset = 1; offset <= count; offset++) {
    previous = makeEntry(previous.hash, term, after.index + offset, 'normal', new TextEncoder().encode(`entry ${after.index + offset}`));
    entries.push(previous);
  }
  return entries;
}

describe('SimulatedDisk', () => {
  const initial = bootstrapStoredState(['a', 'b', 'c']);

  it('keeps what was synced and loses at most what was not', () => {
    for (let seed = 0; seed < 50; seed++) {
      const disk = new SimulatedDisk(initial, 0);
      const synced = nextEntries(initial.entries[0], 3);
      disk.writeEntries(synced);
      disk.writeHardState({ term: 2, vote: 'a', commit: 2 });
      disk.fsync();
      disk.writeEntries(nextEntries(synced[2], 3));
      disk.writeHardState({ term: 2, vote: 'a', commit: 6 });
      disk.crash(new Rng(seed));
      const { stored } = disk.recover();
      expect(stored.entries.length).toBeGreaterThanOrEqual(4);
      expect(stored.entries.length).toBeLessThanOrEqual(7);
      expect([2, 6]).toContain(stored.hardState.commit);
      // The commit index never points past the recovered log: entries are written before the hard state.
      expect(stored.hardState.commit).toBeLessThanOrEqual(stored.entries.length);
    }
  });

  it('finds a torn entry by its hash and cuts the log there, so it is never applied', () => {
    let torn = 0;
    for (let seed = 0; seed < 100; seed++) {
      const disk = new SimulatedDisk(initial, 1);
      const entries = nextEntries(initial.entries[0], 4);
      disk.writeEntries(entries);
      disk.crash(new Rng(seed));
      const recovery = disk.recover();
      if (recovery.tornEntryIndex !== undefined) {
        torn++;
        expect(recovery.stored.entries.length).toBe(recovery.tornEntryIndex - 1);
      }
      // Whatever survived is a prefix of what was written, entry for entry.
      recovery.stored.entries.forEach((entry, position) => expect(entry.hash).toBe([initial.entries[0], ...entries][position].hash));
    }
    expect(torn).toBeGreaterThan(40);
  });
});
