import { describe, expect, it } from 'vitest';
import { checkLeaderlessSettings, leaderlessDefaults, leaderlessSettings, LeaderlessSettingsError } from '../../../src/replication/leaderless/index.js';

describe('leaderless settings', () => {
  it('defaults to n=3, r=2, w=2 and 64 virtual nodes', () => {
    expect(leaderlessDefaults).toMatchObject({ n: 3, r: 2, w: 2, virtualNodesPerPeer: 64, requestTimeoutTicks: 40, hintsMax: 100_000, handoffIntervalTicks: 10, readRepair: true });
    expect(() => checkLeaderlessSettings(leaderlessSettings(), 3)).not.toThrow();
  });

  it('refuses broken relationships with an error that says what to change', () => {
    const check = (overrides: Parameters<typeof leaderlessSettings>[0], peers: number) => () => checkLeaderlessSettings(leaderlessSettings(overrides), peers);
    expect(check({ r: 4 }, 5)).toThrow(/r \(4\) must not exceed n \(3\)/);
    expect(check({ w: 4 }, 5)).toThrow(/w \(4\) must not exceed n \(3\)/);
    expect(check({}, 2)).toThrow(/n \(3\) must not exceed the number of storage peers \(2\)/);
    expect(check({ n: 0 }, 2)).toThrow(/n must be a positive integer/);
    expect(check({ requestTimeoutTicks: 1.5 }, 3)).toThrow(LeaderlessSettingsError);
    expect(check({ virtualNodesPerPeer: 1_000_000 }, 3)).toThrow(/ringPointsMax/);
  });
});
