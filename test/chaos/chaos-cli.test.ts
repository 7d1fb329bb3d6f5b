/**
 * `nines chaos` end to end (run `npm run build` first: the peers run dist/): a 25-second run on a
 * swarm of its own with three peers, a kill every 8 s on average and 4 s of repair, seed 1. The
 * run must kill, restart, lose no acknowledged write, write report.json and a self-contained
 * report.html, keep the peers' logs, remove its temporary swarm, and exit 1 exactly when its
 * report says a target was missed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChaosReport } from '../../src/chaos/index.js';
import { checkBuilt } from '../node/swarm.js';

const out = mkdtempSync(join(tmpdir(), 'nines-chaos-report-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

function runChaos(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', resolve('scripts/typescript-loader.mjs'), resolve('test/chaos/chaos-cli.ts'), 'chaos', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolvePromise) => child.once('exit', (code) => resolvePromise({ code, output })));
}

describe('nines chaos', () => {
  it('runs 25 s on a swarm of its own, kills and restarts peers, and reports no lost write', async () => {
    checkBuilt();
    const { code, output } = await runChaos(['--peers', '3', '--duration', '25s', '--mtbf', '8s', '--repair', '4s', '--seed', '1', '--out', out]);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ChaosReport;
    expect(code, output).toBe(report.passed ? 0 : 1);
    expect(report.seed).toBe(1);
    expect(report.configuration).toMatchObject({ peers: 3, durationMs: 25_000, mtbfMs: 8_000, repairMs: 4_000, replication: 'single-leader', acks: 'quorum' });
    const kills = report.actions.filter((action) => action.kind === 'kill');
    expect(kills.length).toBeGreaterThanOrEqual(1);
    expect(report.actions.filter((action) => action.kind === 'restart' && action.readyAtMs !== null)).toHaveLength(kills.length);
    expect(report.lostMessages).toBe(0);
    expect(report.conversations.unverified).toEqual([]);
    expect(report.conversations.acknowledgedMessages).toBeGreaterThan(10);
    expect(report.kv.acknowledgedPuts).toBeGreaterThan(5);
    expect(report.requests.chat.ok).toBeGreaterThan(10);
    expect(report.leaderChanges.length).toBeGreaterThanOrEqual(1);
    expect(report.measured.kills).toBe(kills.length);
    expect(report.availability.peers).toHaveLength(3);
    expect(report.perSecond.length).toBeGreaterThanOrEqual(25);
    expect(report.targets.map((target) => target.name)).toEqual(['chat success', 'lost acknowledged writes', 'leader failover MTTR']);
    if (!report.passed) expect(output).toContain('replay with --seed 1');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('uPlot');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(readdirSync(join(out, 'logs')).sort()).toEqual(['front-gateway-1.log', 'peer-1.log', 'peer-2.log', 'peer-3.log']);
    const swarmDir = /starting 3 peers \(single-leader, acks=quorum\)(?: and 1 gateway-only peer [^\n]*)? in (\S+)/.exec(output)![1];
    expect(existsSync(swarmDir)).toBe(false);
  }, 120_000);

  // The other refusals (--partitions, bad durations, ...) take the same path; settings.test.ts checks each.
  it('refuses a non-loopback target before starting anything, with exit code 1', async () => {
    const remote = await runChaos(['--target', 'http://203.0.113.7:8080', '--out', join(out, 'never')]);
    expect(remote.code).toBe(1);
    expect(remote.output).toMatch(/--target http:\/\/203\.0\.113\.7:8080 is not a loopback http address/);
    expect(existsSync(join(out, 'never'))).toBe(false);
  }, 60_000);
});
