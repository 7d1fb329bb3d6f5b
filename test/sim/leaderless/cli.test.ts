import { describe, expect, it } from 'vitest';
import { runLeaderlessCli } from '../../../src/sim/cli-leaderless.js';

describe('sim:leaderless command line', () => {
  it('runs the given seeds and prints a summary', () => {
    const lines: string[] = [];
    const summary = runLeaderlessCli(['--seeds', '3', '--start-seed', '10', '--verbose'], (line) => lines.push(line));
    expect(summary.seeds).toBe(3);
    expect(summary.failingSeeds).toEqual([]);
    expect(lines[0]).toBe('leaderless simulation: seeds 10..12');
    expect(lines.filter((line) => line.startsWith('seed '))).toHaveLength(3);
    expect(lines.some((line) => line.startsWith('read-your-writes where promised'))).toBe(true);
  });

  it('refuses bad arguments with the reason', () => {
    expect(() => runLeaderlessCli(['--seeds', '0'], () => {})).toThrow(/--seeds must be an integer of at least 1/);
    expect(() => runLeaderlessCli(['--bogus'], () => {})).toThrow();
  });
});
