/**
 * Mid-answer failover with real processes: a gateway peer (no model computing of its own) and
 * two compute peers. A streamed answer's compute peer is SIGKILLed after the first tokens;
 * the client's stream must go on to the end, with the text identical, token for token, to an
 * uninterrupted run with the same seed — for several seeds. The model is a random one the
 * test writes, large enough that an answer takes a while.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRandomModel } from '../../bench/random-model.js';
import { loadModel } from '../../src/model/load-file.js';
import { freePorts } from './free-ports.js';
import { PeerRefusedError, Transport } from '../../src/net/index.js';
import { authenticatePeerCertificate, initCluster, issuePeerCertificate } from '../../src/p2p/identity/index.js';

const silentLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'nines-swarm-failover-'));
const modelPath = join(directory, 'model.gguf');
const clusterDir = join(directory, 'cluster');
const children: ChildProcess[] = [];

interface Peer {
  name: string;
  nodeId: string;
  dataDir: string;
  transportPort: number;
  apiPort: number;
  roles: string[];
  child?: ChildProcess;
  log: string[];
}
const peers: Peer[] = [];

function launch(peer: Peer): void {
  const voters = peers.map((other) => `127.0.0.1:${other.transportPort}#${other.nodeId}`).join(',');
  const bootstrap = peer === peers[0] ? [] : ['--bootstrap', `127.0.0.1:${peers[0].transportPort}#${peers[0].nodeId}`];
  const child = spawn(process.execPath, [
    cli, 'node', '--data-dir', peer.dataDir, '--cluster-dir', clusterDir, '--listen', `127.0.0.1:${peer.transportPort}`, '--api', `127.0.0.1:${peer.apiPort}`,
    '--storage', '--voters', voters, ...peer.roles, '--model', modelPath, '--threads', '1', ...bootstrap,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => peer.log.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => peer.log.push(chunk.toString()));
  children.push(child);
  peer.child = child;
}

const gateway = () => `http://127.0.0.1:${peers[0].apiPort}`;

function request(seed: number, stream: boolean): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'failover-test', messages: [{ role: 'user', content: 'And God said' }], max_tokens: 200, temperature: 0.8, seed, stream, trace: true, trace_top_k: 1 }),
  };
}

/** Streams an answer; `onToken` sees each token's compute peer as it arrives. */
async function streamAnswer(seed: number, onToken: (count: number, peer: string | undefined) => void = () => undefined): Promise<{ text: string; tokens: number; peers: Set<string> }> {
  const response = await fetch(`${gateway()}/v1/chat/completions`, request(seed, true));
  if (response.status !== 200) throw new Error(`the gateway answered ${response.status}: ${await response.text()}\n${peers[0].log.join('').slice(-2000)}`);
  const decoder = new TextDecoder();
  let buffered = '';
  let text = '';
  let tokens = 0;
  const seen = new Set<string>();
  for await (const bytes of response.body!) {
    buffered += decoder.decode(bytes as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const frame = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = frame.replace(/^data: /, '');
      if (data === '[DONE]') continue;
      const chunk = JSON.parse(data) as { error?: unknown; choices: Array<{ delta: { content?: string } }>; nines_trace?: Array<{ peer?: string }> };
      if (chunk.error !== undefined) throw new Error(`the stream failed: ${JSON.stringify(chunk.error)}\n${peers[0].log.join('').slice(-2000)}`);
      text += chunk.choices[0]?.delta.content ?? '';
      for (const entry of chunk.nines_trace ?? []) {
        tokens++;
        if (entry.peer !== undefined) seen.add(entry.peer);
        onToken(tokens, entry.peer);
      }
    }
  }
  return { text, tokens, peers: seen };
}

beforeAll(async () => {
  const base = loadModel(undefined, { threads: 1 });
  writeRandomModel(modelPath, {
    config: { architecture: 'llama', vocabSize: base.tokenizer.vocabSize, dim: 384, hiddenDim: 1024, layerCount: 6, headCount: 6, kvHeadCount: 6, contextLength: 512, ropeFreqBase: 10000, normEpsilon: 1e-5, tiedEmbeddings: false },
    tokenizer: base.tokenizer, matrixType: 'F32', seed: 5, name: 'failover-test', nextTokenMap: true,
  });
  await base.close();
  execFileSync(process.execPath, [cli, 'cluster', 'init', '--dir', clusterDir, '--open'], { stdio: 'pipe' });
}, 120_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

/** A gateway and two compute peers with the given roles; resolves once the gateway answers. */
async function startSwarm(label: string, computeRoles: [string[], string[]]): Promise<void> {
  for (const peer of peers) peer.child?.kill('SIGKILL');
  peers.length = 0;
  const ports = await freePorts(6);
  const roles = [['--gateway'], ...computeRoles];
  for (const [index, name] of ['gateway', 'compute-1', 'compute-2'].entries()) {
    const dataDir = join(directory, `${label}-${name}`);
    const issued = execFileSync(process.execPath, [cli, 'cluster', 'issue', '--cluster-dir', clusterDir, '--data-dir', dataDir], { encoding: 'utf8' });
    peers.push({ name, nodeId: /node ([0-9a-f]{40})/.exec(issued)![1], dataDir, transportPort: ports[index], apiPort: ports[3 + index], roles: roles[index], log: [] });
  }
  for (const peer of peers) launch(peer);
  // Ready once the gateway has found a compute peer through the DHT and an answer comes back.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(`${gateway()}/v1/chat/completions`, { ...request(1, false), body: JSON.stringify({ model: 'failover-test', messages: [{ role: 'user', content: 'x' }], max_tokens: 1 }) }).catch(() => undefined);
    if (response?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`the swarm did not answer: ${response?.status} ${peers.map((peer) => peer.log.join('').slice(-400)).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // And once the gateway knows both compute peers: a kill before the second has announced itself (its warm-up is slow on a busy machine) would leave nobody to fail over to.
  await untilGatewayUses([peers[1].nodeId, peers[2].nodeId]);
}

async function untilGatewayUses(nodeIds: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = (await adminGet(`/v1/admin/peers/${peers[0].nodeId}/status`)).body as { serving: { gateway: { computePeers: { id: string; suspected: boolean; breaker: string }[] } } };
    const usable = status.serving.gateway.computePeers.filter((peer) => !peer.suspected && peer.breaker === 'closed').map((peer) => peer.id);
    // A suspicion expires on its own: the peer must also answer, with its model loaded.
    const loaded = await Promise.all(nodeIds.map(async (id) => {
      const answer = await adminGet(`/v1/admin/peers/${id}/status`);
      return answer.status === 200 && (answer.body as { serving: { compute: { loaded: boolean } | null } }).serving.compute?.loaded === true;
    }));
    if (nodeIds.every((id) => usable.includes(id)) && loaded.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`the gateway does not use ${nodeIds.join(', ')} after 60 s: ${JSON.stringify(status.serving.gateway.computePeers)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Streams the answer for `seed`, SIGKILLs its compute peer after the 10th token, and checks the text against an uninterrupted run. */
async function killMidAnswer(seed: number): Promise<{ victim: Peer; finishedBy: Set<string> }> {
  const uninterrupted = await streamAnswer(seed);
  expect(uninterrupted.tokens).toBeGreaterThan(60);
  let victim: Peer | undefined;
  const interrupted = await streamAnswer(seed, (count, peer) => {
    if (count === 10 && victim === undefined) {
      victim = peers.find((candidate) => candidate.nodeId === peer);
      victim?.child!.kill('SIGKILL');
    }
  });
  expect(victim, `the first tokens name the compute peer that made them (${[...interrupted.peers].join(', ')})`).toBeDefined();
  expect(interrupted.text).toBe(uninterrupted.text);
  expect(interrupted.tokens).toBe(uninterrupted.tokens);
  expect(interrupted.peers.size, 'the answer was finished by another compute peer').toBe(2);
  const killed = victim!.child!;
  if (killed.exitCode === null && killed.signalCode === null) await new Promise((resolve) => killed.once('exit', resolve));
  return { victim: victim!, finishedBy: interrupted.peers };
}

/** A peer whose certificate comes from another CA cannot ask a compute peer for chunks; one from the cluster's CA can. */
async function checkForeignCertificateRefused(): Promise<void> {
  const foreignCluster = join(directory, 'foreign-cluster');
  await initCluster(foreignCluster, { name: 'intruders' });
  const intruder = new Transport({ identity: await issuePeerCertificate(foreignCluster, join(directory, 'intruder')), authenticatePeer: authenticatePeerCertificate, logger: silentLogger });
  const member = new Transport({ identity: await issuePeerCertificate(clusterDir, join(directory, 'member')), authenticatePeer: authenticatePeerCertificate, logger: silentLogger });
  const computePeer = { host: '127.0.0.1', port: peers[1].transportPort, nodeId: peers[1].nodeId };
  const chunkRequest = { jobId: 'intruder', model: 'failover-test', prompt: [1, 2, 3], sampler: { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, repetitionWindow: 0, seed: 0 }, maxTokens: 4, stop: [], traceTopK: 0, chunkTokens: 4 };
  try {
    await expect(intruder.request(computePeer, 'compute.generate', chunkRequest, { timeoutMs: 5_000 })).rejects.toBeInstanceOf(PeerRefusedError);
    const answer = (await member.request(computePeer, 'compute.generate', chunkRequest, { timeoutMs: 10_000 })) as { steps: unknown[] };
    expect(answer.steps).toHaveLength(4);
  } finally {
    await intruder.close();
    await member.close();
  }
}

function exitOf(peer: Peer): Promise<{ code: number | null; signal: string | null }> {
  const child = peer.child!;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

interface SwarmAnswer {
  peers: { nodeId: string; state: string; roles: string[]; api: string | null; reaches: string[] }[];
  leader: string | null;
  localSwarm: boolean;
}

async function adminGet(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${gateway()}${path}`);
  return { status: response.status, body: await response.json() };
}

/** The admin API on one peer shows every peer, reaches into the others' status and routing tables, and marks a killed one down. */
async function checkAdminSwarmView(): Promise<void> {
  let view = (await adminGet('/v1/admin/swarm')).body as SwarmAnswer;
  for (let attempt = 0; attempt < 50 && (view.peers.length < 3 || view.leader === null); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    view = (await adminGet('/v1/admin/swarm')).body as SwarmAnswer;
  }
  expect(view.peers.map((peer) => peer.state)).toEqual(['up', 'up', 'up']);
  expect(view.leader).not.toBeNull();
  expect(view.localSwarm).toBe(false);
  const computePeer = view.peers.find((peer) => peer.nodeId === peers[1].nodeId)!;
  expect(computePeer.roles).toContain('compute');
  expect(computePeer.api).toBe(`http://127.0.0.1:${peers[1].apiPort}`);
  const status = await adminGet(`/v1/admin/peers/${peers[1].nodeId}/status`);
  expect((status.body as { nodeId: string }).nodeId).toBe(peers[1].nodeId);
  const table = await adminGet(`/v1/admin/peers/${peers[2].nodeId}/routing-table`);
  expect((table.body as { size: number }).size).toBeGreaterThan(0);
  expect((await adminGet(`/v1/admin/local-swarm/peers/${peers[2].nodeId}/kill`)).status, 'kill is a POST, and only on local swarms').toBe(404);
  // Prometheus text on every peer: the DHT's own lookups with their hops, the failure detector's view, Raft.
  const metrics = await (await fetch(`http://127.0.0.1:${peers[1].apiPort}/metrics`)).text();
  expect(metrics).toMatch(/^nines_dht_operations_total\{kind="[a-zA-Z]+",result="ok"\} [1-9]/m);
  expect(metrics).toMatch(new RegExp(`^nines_peer_state\\{peer="${peers[2].nodeId}",state="up"\\} 1`, 'm'));
  expect(metrics).toMatch(/^nines_raft_term [1-9]/m);
  // The gateway counts its completions by model and outcome (startSwarm's first answer among them).
  const gatewayMetrics = await (await fetch(`${gateway()}/metrics`)).text();
  expect(gatewayMetrics).toMatch(/^nines_completions_total\{model="failover-test",outcome="success"\} [1-9]/m);
  const killed = peers[2].child!;
  killed.kill('SIGKILL');
  await new Promise((resolve) => killed.once('exit', resolve));
  const after = (await adminGet('/v1/admin/swarm')).body as SwarmAnswer;
  expect(after.peers.find((peer) => peer.nodeId === peers[2].nodeId)?.state).toBe('down');
  launch(peers[2]);
  await untilGatewayUses([peers[2].nodeId]);
}

describe('a compute peer SIGKILLed mid-answer', () => {
  it('hot-hot: the stream completes, with the same text as an uninterrupted run, for several seeds', async () => {
    await startSwarm('hot-hot', [['--compute'], ['--compute']]);
    await checkAdminSwarmView();
    await checkForeignCertificateRefused();
    for (const seed of [3, 4, 5]) {
      const { victim } = await killMidAnswer(seed);
      // Bring the killed peer back before the next seed, so there is always a peer to fail over to.
      launch(victim);
      await untilGatewayUses([victim.nodeId]);
    }
  }, 120_000);

  it('SIGTERM: a stopping compute peer finishes or hands off the answer, a stopping gateway finishes its stream; both exit cleanly', async () => {
    await startSwarm('sigterm', [['--compute'], ['--compute']]);
    const uninterrupted = await streamAnswer(9);
    let stopped: Peer | undefined;
    const computeStopped = await streamAnswer(9, (count, peer) => {
      if (count === 10 && stopped === undefined) {
        stopped = peers.find((candidate) => candidate.nodeId === peer);
        stopped?.child!.kill('SIGTERM');
      }
    });
    expect(computeStopped.text).toBe(uninterrupted.text);
    expect(await exitOf(stopped!)).toEqual({ code: 0, signal: null });
    // The gateway itself: its stream goes on to the end before it exits.
    launch(stopped!);
    await untilGatewayUses([stopped!.nodeId]);
    let gatewayStopped = false;
    const gatewayStream = await streamAnswer(9, (count) => {
      if (count === 10 && !gatewayStopped) {
        gatewayStopped = true;
        peers[0].child!.kill('SIGTERM');
      }
    });
    expect(gatewayStream.text).toBe(uninterrupted.text);
    expect(await exitOf(peers[0])).toEqual({ code: 0, signal: null });
  }, 120_000);

  for (const standby of ['warm', 'cold'] as const) {
    it(`hot-${standby}: the primary serves; when it dies mid-answer the ${standby} standby takes over with the same text`, async () => {
      await startSwarm(`hot-${standby}`, [['--compute'], ['--compute', '--standby', standby]]);
      const [, primary, standbyPeer] = peers;
      // The standby may have answered while the primary's announcement was still on its way; wait for the primary.
      const deadline = Date.now() + 30_000;
      let alone = await streamAnswer(7);
      while (!alone.peers.has(primary.nodeId) && Date.now() < deadline) alone = await streamAnswer(7);
      expect(alone.peers, 'while the primary is healthy, only it serves').toEqual(new Set([primary.nodeId]));
      const { victim, finishedBy } = await killMidAnswer(8);
      expect(victim).toBe(primary);
      expect(finishedBy.has(standbyPeer.nodeId)).toBe(true);
      if (standby === 'cold') expect(standbyPeer.log.join('')).toMatch(/cold standby loaded the model to take over/);
    }, 120_000);
  }
});
