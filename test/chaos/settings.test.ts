import { describe, expect, it } from 'vitest';
import { ChaosConfigError, ChaosTargetError, chaosSettings, formatDuration, isLoopbackUrl, parseDurationMs, type ChaosFlags } from '../../src/chaos/index.js';

const defaults: ChaosFlags = { peers: '5', duration: '10m', mtbf: '30s', repair: '10s', replication: 'single-leader', acks: 'quorum', threads: '1' };
const settings = (flags: Partial<ChaosFlags>) => chaosSettings({ ...defaults, ...flags }, () => 4242, '2026-11-26T11:00:00.000Z');

describe('chaosSettings', () => {
  it('takes the defaults of npm run chaos, draws a seed when none is given, and names the report directory by time', () => {
    expect(settings({})).toMatchObject({ peers: 5, durationMs: 600_000, mtbfMs: 30_000, repairMs: 10_000, seed: 4242, seedGiven: false, replication: 'single-leader', acks: 'quorum', targets: [], outDir: 'chaos-report-2026-11-26T11-00-00-000Z' });
    expect(settings({ seed: '1', out: 'here', killsMax: '3' })).toMatchObject({ seed: 1, seedGiven: true, outDir: 'here', killsMax: 3 });
  });

  it('refuses a target that is not on loopback, with the reason', () => {
    expect(() => settings({ target: ['http://127.0.0.1:8080', 'http://10.0.0.5:8080'] })).toThrow(ChaosTargetError);
    expect(() => settings({ target: ['http://example.com:8080'] })).toThrow(/not a loopback http address/);
    expect(() => settings({ target: ['https://127.0.0.1:8080'] })).toThrow(/not a loopback/);
    expect(settings({ target: ['http://127.0.0.1:8080', 'http://localhost:8081/', 'http://[::1]:8082'] }).targets).toHaveLength(3);
  });

  it('refuses --partitions and says what it would need', () => {
    expect(() => settings({ partitions: true })).toThrow(ChaosConfigError);
    expect(() => settings({ partitions: true })).toThrow(/network namespace.*root/);
  });

  it.each([
    [{ peers: '2' }, /--peers 2 leaves no minority to kill/],
    [{ peers: '10' }, /--peers must be between 1 and 9/],
    [{ duration: 'soon' }, /--duration must be a duration such as/],
    [{ mtbf: '10ms' }, /--mtbf must be between 1 s and/],
    [{ replication: 'two-leaders' }, /--replication must be one of single-leader, multi-leader, leaderless/],
    [{ acks: 'some' }, /--acks must be one of leader, quorum, all/],
    [{ seed: '-1' }, /--seed must be a whole number/],
    [{ killsMax: 'many' }, /--kills-max must be a whole number/],
    [{ target: ['http://127.0.0.1:1'], model: 'm.gguf' }, /--model is for the swarm nines chaos starts itself/],
  ])('refuses %j with a message that says what to pass', (flags, message) => {
    expect(() => settings(flags)).toThrow(message);
  });

  it('lets two peers run without kills', () => {
    expect(settings({ peers: '2', killsMax: '0' }).peers).toBe(2);
  });
});

describe('durations', () => {
  it('reads the units people type and prints them back', () => {
    expect(parseDurationMs('500ms', '--x', 1, 1e9)).toBe(500);
    expect(parseDurationMs('30s', '--x', 1, 1e9)).toBe(30_000);
    expect(parseDurationMs('1.5m', '--x', 1, 1e9)).toBe(90_000);
    expect(parseDurationMs('2h', '--x', 1, 1e9)).toBe(7_200_000);
    expect(parseDurationMs('45', '--x', 1, 1e9)).toBe(45_000);
    expect([850, 12_500, 600_000, 7_200_000].map(formatDuration)).toEqual(['850 ms', '12.5 s', '10 min', '2 h']);
  });
});

describe('isLoopbackUrl', () => {
  it('is true only for http on 127/8, ::1 and localhost', () => {
    expect(['http://127.0.0.1:1', 'http://127.3.2.1', 'http://[::1]:80', 'http://localhost:5'].every(isLoopbackUrl)).toBe(true);
    expect(['http://128.0.0.1', 'http://127.0.0.1.example.com', 'ftp://127.0.0.1', 'not a url', 'http://0.0.0.0:1'].some(isLoopbackUrl)).toBe(false);
  });
});
