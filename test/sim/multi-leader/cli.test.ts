import { describe, expect, it } from 'vitest';
import { runMultiLeaderCli } from '../../../src/sim/cli-multileader.js';

describe('cli-multileader', () => {
  it('runs the seeds it is given and prints a summary', () => {
    const lines: string[] = [];
    const summary = runMultiLeaderCli(['--seeds', '3', '--start-seed', '10', '--verbose'], (line) => lines.push(line));
    expect(summary.seeds).toBe(3);
    expect(summary.failingSeeds).toEqual([]);
    expect(summary.acknowledgedWrites).toBeGreaterThan(0);
    expect(lines[0]).toBe('multi-leader simulation: seeds 10..12');
    expect(lines.filter((line) => line.startsWith('seed '))).toHaveLength(3);
    expect(lines.some((line) => line.startsWith('convergence after the clients stopped'))).toBe(true);
  });

  it('refuses a bad argument with the reason', () => {
    expect(() => runMultiLeaderCli(['--seeds', '0'])).toThrow(/--seeds must be an integer of at least 1/);
    expect(() => runMultiLeaderCli(['--wat'])).toThrow();
  });
});
