import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readReplicationFile, replicationConfigProblem, settleReplication, writeReplicationFile } from '../../src/node/replication-file.js';

const directories: string[] = [];
function directory(): string {
  const made = mkdtempSync(join(tmpdir(), 'nines-replication-file-'));
  directories.push(made);
  return made;
}
afterEach(() => {
  for (const made of directories.splice(0)) rmSync(made, { recursive: true, force: true });
});

describe('the cluster replication mode', () => {
  it('is copied from the cluster into a data directory on first start, and kept there', () => {
    const cluster = directory();
    const data = directory();
    writeReplicationFile(cluster, { mode: 'leaderless', n: 3, r: 1, w: 3 });
    expect(settleReplication(data, cluster)).toEqual({ mode: 'leaderless', n: 3, r: 1, w: 3 });
    expect(readReplicationFile(data)).toEqual({ mode: 'leaderless', n: 3, r: 1, w: 3 });
    // Later starts without the cluster directory keep the mode.
    expect(settleReplication(data, undefined).mode).toBe('leaderless');
  });

  it('defaults to single-leader, the mode of clusters made before the choice existed', () => {
    expect(settleReplication(directory(), directory()).mode).toBe('single-leader');
  });

  it('refuses a data directory made for another mode, and says what to do', () => {
    const cluster = directory();
    const data = directory();
    writeReplicationFile(data, { mode: 'multi-leader', n: 3, r: 2, w: 2 });
    writeReplicationFile(cluster, { mode: 'single-leader', n: 3, r: 2, w: 2 });
    expect(() => settleReplication(data, cluster)).toThrow(/made for multi-leader .* uses single-leader.*fresh --data-dir/);
  });

  it('refuses impossible quorums and damaged files', () => {
    expect(replicationConfigProblem({ mode: 'leaderless', n: 2, r: 3, w: 1 })).toMatch(/cannot exceed n/);
    expect(replicationConfigProblem({ mode: 'raft', n: 3, r: 2, w: 2 })).toMatch(/mode must be one of/);
    expect(replicationConfigProblem({ mode: 'leaderless', n: 0, r: 1, w: 1 })).toMatch(/n must be a whole number/);
    const data = directory();
    writeFileSync(join(data, 'replication.json'), '{ not json');
    expect(() => readReplicationFile(data)).toThrow(/not JSON.*nines cluster init --replication/);
    expect(() => writeReplicationFile(data, { mode: 'leaderless', n: 1, r: 2, w: 1 })).toThrow(/cannot exceed n/);
    expect(readFileSync(join(data, 'replication.json'), 'utf8')).toBe('{ not json');
  });
});
