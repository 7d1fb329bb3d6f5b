/**
 * A gateway-only peer with real processes: three storage + compute + gateway peers
 * (single-leader) and one peer with the gateway role alone — no SQLite, no replica — which
 * finds the storage peers through their DHT provider records and keeps conversations on them.
 * A conversation alternates between the gateway-only peer and a storage peer's gateway, each
 * turn seeing the last through its session token; then the storage leader is SIGKILLed and the
 * next turn through the gateway-only peer still succeeds and sees the whole history.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from './free-ports.js';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'nines-gateway-only-'));
const clusterDir = join(directory, 'cluster');
const conversationId = 'gateway-only-talk';

interface Peer {
  name: string;
  nodeId: string;
  dataDir: string;
  transportPort: number;
  apiPort: number;
  child?: ChildProcess;
  log: string[];
}
const peers: Peer[] = [];
const storagePeers = () => peers.slice(0, 3);
const gatewayOnly = () => peers[3];
const api = (peer: Peer) => `http://127.0.0.1:${peer.apiPort}`;
const contactOf = (peer: Peer) => `127.0.0.1:${peer.transportPort}#${peer.nodeId}`;

function launch(peer: Peer, roles: string[]): void {
  const bootstrap = storagePeers().filter((other) => other !== peer).flatMap((other) => ['--bootstrap', contactOf(other)]);
  const child = spawn(process.execPath, [
    cli, 'node', '--data-dir', peer.dataDir, '--cluster-dir', clusterDir, '--listen', `127.0.0.1:${peer.transportPort}`, '--api', `127.0.0.1:${peer.apiPort}`,
    ...roles, '--threads', '1', ...bootstrap,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => peer.log.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => peer.log.push(chunk.toString()));
  peer.child = child;
}

const logsOf = (peer: Peer) => `--- ${peer.name} ---\n${peer.log.join('').slice(-3000)}`;

interface Turn {
  session: string;
  promptTokens: number;
}

/** One turn of the conversation through `peer`'s gateway, with the session token of the turn before. */
async function turn(peer: Peer, content: string, session?: string): Promise<Turn> {
  const response = await fetch(`${api(peer)}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(session !== undefined && { 'x-nines-session': session }) },
    body: JSON.stringify({ model: 'nines-kjv', messages: [{ role: 'user', content }], max_tokens: 4, seed: 1, conversation_id: conversationId }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${peer.name} answered ${response.status}: ${text}\n${logsOf(peer)}`);
  const body = JSON.parse(text) as { usage: { prompt_tokens: number } };
  return { session: response.headers.get('x-nines-session')!, promptTokens: body.usage.prompt_tokens };
}

beforeAll(async () => {
  execFileSync(process.execPath, [cli, 'cluster', 'init', '--dir', clusterDir, '--open'], { stdio: 'pipe' });
  const ports = await freePorts(8);
  for (const [index, name] of ['storage-1', 'storage-2', 'storage-3', 'gateway-only'].entries()) {
    const dataDir = join(directory, name);
    const issued = execFileSync(process.execPath, [cli, 'cluster', 'issue', '--cluster-dir', clusterDir, '--data-dir', dataDir], { encoding: 'utf8' });
    peers.push({ name, nodeId: /node ([0-9a-f]{40})/.exec(issued)![1], dataDir, transportPort: ports[index], apiPort: ports[4 + index], log: [] });
  }
  const voters = storagePeers().map(contactOf).join(',');
  for (const peer of storagePeers()) launch(peer, ['--storage', '--voters', voters, '--compute', '--gateway']);
  launch(gatewayOnly(), ['--gateway']);
  // Ready once the gateway-only peer answers a plain chat: it has found a compute peer through the DHT.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(`${api(gatewayOnly())}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'nines-kjv', messages: [{ role: 'user', content: 'x' }], max_tokens: 1 }),
    }).catch(() => undefined);
    if (response?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`the gateway-only peer did not answer: ${response?.status}\n${peers.map(logsOf).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}, 75_000);

afterAll(() => {
  for (const peer of peers) peer.child?.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

describe('a gateway-only peer', () => {
  it('keeps no replica of its own', () => {
    const files = readdirSync(gatewayOnly().dataDir);
    expect(files.filter((file) => file.endsWith('.sqlite'))).toEqual([]);
    expect(existsSync(join(storagePeers()[0].dataDir, 'raft.sqlite'))).toBe(true);
  });

  it('keeps its health log on the storage peers: its own start is in the cluster\'s availability report', async () => {
    const deadline = Date.now() + 30_000;
    let peersReported: string[] = [];
    while (Date.now() < deadline) {
      // Until the store has a leader the report may be refused (503): ask again.
      const report = (await fetch(`${api(storagePeers()[0])}/v1/admin/availability?since=10m`).then((response) => response.json()).catch(() => ({}))) as { peers?: { peer: string }[] };
      peersReported = (report.peers ?? []).map((entry) => entry.peer);
      if (peersReported.includes(gatewayOnly().nodeId)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(peersReported).toContain(gatewayOnly().nodeId);
  }, 40_000);

  it('refuses --storage-peers on a storage peer, with the reason', () => {
    const refused = spawnSync(process.execPath, [cli, 'node', '--data-dir', join(directory, 'refused'), '--storage', '--voters', contactOf(peers[0]), '--gateway', '--storage-peers', contactOf(peers[0])], { encoding: 'utf8' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/--storage-peers is for a gateway without --storage/);
  });

  it('carries a conversation with a storage peer\'s gateway, each turn seeing the last, and goes on when the storage leader is SIGKILLed', async () => {
    const [storage] = storagePeers();
    const first = await turn(gatewayOnly(), 'In the beginning God created the heaven and the earth');
    const second = await turn(storage, 'And the earth was without form, and void', first.session);
    const third = await turn(gatewayOnly(), 'And God said, Let there be light', second.session);
    // Each turn's prompt holds the turns before it: the stored history, read with the last session token.
    expect(second.promptTokens).toBeGreaterThan(first.promptTokens + 8);
    expect(third.promptTokens).toBeGreaterThan(second.promptTokens + 8);
    expect(Number(third.session)).toBeGreaterThan(Number(second.session));

    const status = (await (await fetch(`${api(storage)}/v1/cluster/status`)).json()) as { leader?: string };
    const leader = storagePeers().find((peer) => peer.nodeId === status.leader);
    expect(leader, `a storage peer leads (status: ${JSON.stringify(status)})`).toBeDefined();
    leader!.child!.kill('SIGKILL');
    await new Promise((resolve) => leader!.child!.once('exit', resolve));

    const fourth = await turn(gatewayOnly(), 'and there was light', third.session);
    expect(fourth.promptTokens).toBeGreaterThan(third.promptTokens + 4);

    // The store holds every turn once: four questions and four answers, in order.
    const survivor = storagePeers().find((peer) => peer !== leader)!;
    const read = await fetch(`${api(survivor)}/v1/kv/${encodeURIComponent(`conversation/${conversationId}`)}?consistency=session`, { headers: { 'x-nines-session': fourth.session } });
    expect(read.status).toBe(200);
    const stored = JSON.parse(((await read.json()) as { value: string }).value) as Array<{ id: string; role: string; content: string }>;
    expect(stored.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(stored.filter((message) => message.role === 'user').map((message) => message.content)).toEqual([
      'In the beginning God created the heaven and the earth', 'And the earth was without form, and void', 'And God said, Let there be light', 'and there was light',
    ]);
    expect(new Set(stored.map((message) => message.id)).size).toBe(8);
  }, 45_000);
});
