/**
 * Three `nines node --storage` processes on loopback, several clients writing, reading and
 * compare-and-setting through every peer's HTTP API, the leader SIGKILLed mid-way and
 * restarted: the whole history, closed by final reads through the restarted peer, must be
 * linearizable (the simulator's checker). An acknowledged write that went missing would
 * make some later read impossible to place, so this also checks that none is lost.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLinearizability, type HistoryOperation } from '../../src/sim/checkers/linearizability.js';
import { Rng } from '../../src/core/rng.js';
import { freePorts } from './free-ports.js';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'nines-raft-processes-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

const peerCount = 3;
const keys = ['a', 'b', 'c'];
const requestTimeoutMs = 3_000;
/** The cluster's API key (`nines cluster key add`): the key-value API takes it like the OpenAI API does. */
const authorization: Record<string, string> = {};

interface Peer {
  nodeId: string;
  dataDir: string;
  transportPort: number;
  apiPort: number;
  process?: ChildProcess;
  output: string[];
}

function launch(peer: Peer, peers: readonly Peer[]): void {
  const voters = peers.map((other) => `127.0.0.1:${other.transportPort}#${other.nodeId}`).join(',');
  const child = spawn(process.execPath, [
    cli, 'node', '--data-dir', peer.dataDir, '--cluster-dir', join(directory, 'cluster'), '--listen', `127.0.0.1:${peer.transportPort}`,
    '--storage', '--voters', voters, '--api', `127.0.0.1:${peer.apiPort}`, '--tick-ms', '25', '--election-ticks', '12', '--heartbeat-ticks', '2', '--acks', 'quorum',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => peer.output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => peer.output.push(chunk.toString()));
  children.push(child);
  peer.process = child;
}

async function status(peer: Peer): Promise<{ role: string; leader?: string; applied: number } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${peer.apiPort}/v1/cluster/status`, { headers: authorization, signal: AbortSignal.timeout(1_000) });
    return response.ok ? ((await response.json()) as { role: string; leader?: string; applied: number }) : undefined;
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function leaderOf(peers: readonly Peer[]): Promise<Peer> {
  return until('a leader', async () => {
    for (const peer of peers) if ((await status(peer))?.role === 'leader') return peer;
    return undefined;
  });
}

type Outcome = { kind: 'ok'; body: Record<string, unknown> } | { kind: 'refused' } | { kind: 'unknown' };

/** One HTTP call: ok, refused before it could take effect (503: never proposed), or unknown. */
async function call(peer: Peer, method: string, path: string, body?: string): Promise<Outcome> {
  try {
    const response = await fetch(`http://127.0.0.1:${peer.apiPort}${path}`, { method, body, headers: authorization, signal: AbortSignal.timeout(requestTimeoutMs) });
    const json = (await response.json()) as Record<string, unknown> & { error?: { code: string } };
    if (response.ok) return { kind: 'ok', body: json };
    if (response.status === 404 && json.error?.code === 'KEY_NOT_FOUND') return { kind: 'ok', body: { value: null } };
    if (response.status === 503 || response.status === 400) return { kind: 'refused' };
    return { kind: 'unknown' };
  } catch {
    // Connection refused means the request never reached a peer; anything later may have taken effect.
    return { kind: 'unknown' };
  }
}

describe('three storage peers as real processes', () => {
  it('keeps a linearizable history and every acknowledged write across a SIGKILL of the leader', async () => {
    const clusterDir = join(directory, 'cluster');
    execFileSync(process.execPath, [cli, 'cluster', 'init', '--dir', clusterDir], { stdio: 'pipe' });
    authorization.authorization = `Bearer ${execFileSync(process.execPath, [cli, 'cluster', 'key', 'add', 'test', '--dir', clusterDir], { encoding: 'utf8' }).split('\n')[0]}`;
    const ports = await freePorts(2 * peerCount);
    const peers: Peer[] = Array.from({ length: peerCount }, (_, index) => {
      const dataDir = join(directory, `peer-${index}`);
      const output = execFileSync(process.execPath, [cli, 'cluster', 'issue', '--cluster-dir', clusterDir, '--data-dir', dataDir], { encoding: 'utf8' });
      return { nodeId: /node ([0-9a-f]{40})/.exec(output)![1], dataDir, transportPort: ports[index], apiPort: ports[peerCount + index], output: [] };
    });
    for (const peer of peers) launch(peer, peers);
    await leaderOf(peers);

    const history: HistoryOperation[] = [];
    let running = true;
    const now = () => performance.now();
    const client = async (id: number) => {
      const rng = new Rng(id + 1);
      let counter = 0;
      while (running) {
        const peer = peers[rng.nextInt(peerCount)];
        const key = keys[rng.nextInt(keys.length)];
        const choice = rng.nextInt(3);
        const callAt = now();
        if (choice === 0) {
          const value = `${id}-${counter++}`;
          const outcome = await call(peer, 'PUT', `/v1/kv/${key}`, value);
          if (outcome.kind === 'refused') continue;
          history.push({ kind: 'write', key, value, client: id, callAt, output: outcome.kind === 'ok' ? {} : undefined, returnAt: outcome.kind === 'ok' ? now() : Number.POSITIVE_INFINITY });
        } else if (choice === 1) {
          const outcome = await call(peer, 'GET', `/v1/kv/${key}?consistency=linearizable`);
          if (outcome.kind !== 'ok') continue;
          history.push({ kind: 'read', key, client: id, callAt, output: { value: (outcome.body.value as string | null) ?? null }, returnAt: now() });
        } else {
          const expected = history.filter((operation) => operation.key === key && operation.kind === 'write').at(-1);
          const expectedValue = expected?.kind === 'write' ? expected.value : null;
          const value = `${id}-${counter++}`;
          const outcome = await call(peer, 'POST', `/v1/kv/${key}/cas`, JSON.stringify({ expected: expectedValue, value }));
          if (outcome.kind === 'refused') continue;
          const succeeded = outcome.kind === 'ok' ? (outcome.body.result as { succeeded: boolean }).succeeded : undefined;
          history.push({ kind: 'cas', key, expected: expectedValue, value, client: id, callAt, output: succeeded === undefined ? undefined : { succeeded }, returnAt: succeeded === undefined ? Number.POSITIVE_INFINITY : now() });
        }
      }
    };
    const clients = Array.from({ length: 4 }, (_, id) => client(id));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const leader = await leaderOf(peers);
    leader.process!.kill('SIGKILL');
    const survivors = peers.filter((peer) => peer !== leader);
    await leaderOf(survivors);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    launch(leader, peers);
    await until('the old leader to rejoin', async () => ((await status(leader))?.leader !== undefined ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    running = false;
    await Promise.all(clients);

    // Final linearizable reads through the restarted peer close the history.
    for (const key of keys) {
      const callAt = now();
      const outcome = await until(`a final read of ${key}`, async () => {
        const answer = await call(leader, 'GET', `/v1/kv/${key}?consistency=linearizable`);
        return answer.kind === 'ok' ? answer : undefined;
      });
      history.push({ kind: 'read', key, client: 99, callAt, output: { value: (outcome.body.value as string | null) ?? null }, returnAt: now() });
    }
    const writes = history.filter((operation) => operation.kind !== 'read' && operation.output !== undefined).length;
    expect(writes).toBeGreaterThan(20);
    const report = checkLinearizability(history);
    expect(report.violations).toEqual([]);
    expect(report.undecided).toEqual([]);
    expect(report.ok).toBe(true);
  }, 90_000);
});
