/**
 * Five `nines node --storage` processes on loopback in each replication mode: several
 * clients write through random peers while peers are SIGKILLed and restarted; afterwards
 * every acknowledged write must be on every replica — all five peers in single-leader and
 * multi-leader mode, the key's n replicas in leaderless mode — read from each peer's own copy.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { freePorts } from './free-ports.js';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'nines-replica-processes-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

const peerCount = 5;
const clientCount = 4;
const requestTimeoutMs = 3_000;
const replicasPerKey = 3;

interface Peer {
  nodeId: string;
  dataDir: string;
  transportPort: number;
  apiPort: number;
  process?: ChildProcess;
  output: string[];
}

type Mode = 'single-leader' | 'multi-leader' | 'leaderless';

function launch(peer: Peer, peers: readonly Peer[], clusterDir: string): void {
  const voters = peers.map((other) => `127.0.0.1:${other.transportPort}#${other.nodeId}`).join(',');
  const child = spawn(process.execPath, [
    cli, 'node', '--data-dir', peer.dataDir, '--cluster-dir', clusterDir, '--listen', `127.0.0.1:${peer.transportPort}`,
    '--storage', '--voters', voters, '--api', `127.0.0.1:${peer.apiPort}`, '--tick-ms', '25', '--election-ticks', '12', '--heartbeat-ticks', '2',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => peer.output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => peer.output.push(chunk.toString()));
  children.push(child);
  peer.process = child;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function request(peer: Peer, method: string, path: string, body?: string): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${peer.apiPort}${path}`, { method, body, signal: AbortSignal.timeout(requestTimeoutMs) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** The values a peer's own copy of `key` holds (no quorum, no forwarding). */
async function localValues(peer: Peer, mode: Mode, key: string): Promise<string[] | undefined> {
  const consistency = mode === 'single-leader' ? 'stale' : 'local';
  const answer = await request(peer, 'GET', `/v1/kv/${encodeURIComponent(key)}?consistency=${consistency}`);
  if (answer === undefined) return undefined;
  if (answer.status === 404) return [];
  if (answer.status !== 200) return undefined;
  if (Array.isArray(answer.body.elements)) return (answer.body.elements as Array<{ value: string }>).map((element) => element.value);
  if (Array.isArray(answer.body.values)) return answer.body.values as string[];
  return [answer.body.value as string];
}

async function startCluster(mode: Mode): Promise<{ peers: Peer[]; clusterDir: string }> {
  const clusterDir = join(directory, `cluster-${mode}`);
  execFileSync(process.execPath, [cli, 'cluster', 'init', '--dir', clusterDir, '--open', '--replication', mode, '--n', String(replicasPerKey), '--r', '2', '--w', '2'], { stdio: 'pipe' });
  const ports = await freePorts(2 * peerCount);
  const peers: Peer[] = Array.from({ length: peerCount }, (_, index) => {
    const dataDir = join(directory, `${mode}-peer-${index}`);
    const output = execFileSync(process.execPath, [cli, 'cluster', 'issue', '--cluster-dir', clusterDir, '--data-dir', dataDir], { encoding: 'utf8' });
    return { nodeId: /node ([0-9a-f]{40})/.exec(output)![1], dataDir, transportPort: ports[index], apiPort: ports[peerCount + index], output: [] };
  });
  for (const peer of peers) launch(peer, peers, clusterDir);
  // Ready when a write through the first peer is acknowledged (single-leader: a leader was elected).
  await until('the cluster to accept a write', async () => ((await request(peers[0], 'PUT', '/v1/kv/ready', 'yes'))?.status === 200 ? true : undefined));
  return { peers, clusterDir };
}

async function runMode(mode: Mode): Promise<void> {
  const { peers, clusterDir } = await startCluster(mode);
  const acknowledged: Array<{ key: string; value: string }> = [];
  let running = true;
  const client = async (id: number) => {
    const rng = new Rng(id + 17);
    let counter = 0;
    while (running) {
      const peer = peers[rng.nextInt(peerCount)];
      const value = `${id}-${counter++}`;
      // Multi-leader clients also append to a shared conversation: concurrent appends must all survive.
      if (mode === 'multi-leader' && rng.nextInt(3) === 0) {
        const answer = await request(peer, 'POST', '/v1/kv/conversation/append', value);
        if (answer?.status === 200) acknowledged.push({ key: 'conversation', value });
        continue;
      }
      const key = `k-${value}`;
      const answer = await request(peer, 'PUT', `/v1/kv/${key}`, value);
      if (answer?.status === 200) acknowledged.push({ key, value });
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const clients = Array.from({ length: clientCount }, (_, id) => client(id));
  const chaos = new Rng(mode.length);
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const victim = peers[chaos.nextInt(peerCount)];
    victim.process!.kill('SIGKILL');
    await new Promise((resolve) => victim.process!.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    launch(victim, peers, clusterDir);
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  running = false;
  await Promise.all(clients);
  expect(acknowledged.length).toBeGreaterThan(30);

  // Every acknowledged write reaches every replica once the cluster has healed.
  const copiesNeeded = mode === 'leaderless' ? replicasPerKey : peerCount;
  const deadline = Date.now() + 45_000;
  let absent: string[] = [];
  do {
    absent = [];
    // A batch of keys at a time, every peer asked at once.
    for (let start = 0; start < acknowledged.length; start += 32) {
      await Promise.all(acknowledged.slice(start, start + 32).map(async ({ key, value }) => {
        const held = await Promise.all(peers.map(async (peer) => (await localValues(peer, mode, key))?.includes(value) === true));
        const copies = held.filter(Boolean).length;
        if (copies < copiesNeeded) absent.push(`${key}=${value} on ${copies} of ${copiesNeeded} replicas`);
      }));
    }
    if (absent.length > 0) await new Promise((resolve) => setTimeout(resolve, 500));
  } while (absent.length > 0 && Date.now() < deadline);
  expect(absent).toEqual([]);
}

describe('five storage peers as real processes, peers SIGKILLed and restarted', () => {
  for (const mode of ['single-leader', 'multi-leader', 'leaderless'] as const) {
    it(`${mode}: every acknowledged write ends on every replica`, () => runMode(mode), 120_000);
  }
});
