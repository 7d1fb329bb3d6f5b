/**
 * A swarm for the benchmark, as real processes on loopback: one gateway peer (storage and
 * gateway, no model computing of its own, so every token crosses the network) and compute
 * peers (storage and compute), under an open cluster. The built CLI in dist/ runs.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnMember, stopProcess, waitUntil } from '../raft/kv-cluster.js';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

interface Member {
  name: string;
  nodeId: string;
  dataDir: string;
  transportPort: number;
  apiPort: number;
  roles: string[];
  child?: ChildProcess;
  log: string[];
}

export class SwarmProcesses {
  private readonly directory = mkdtempSync(join(tmpdir(), 'nines-bench-swarm-'));
  private readonly members: Member[] = [];
  /** One kept-alive connection to the gateway, as a client that sends one request after another would hold. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly modelPath: string,
    private readonly computePeers: number,
    private readonly basePort: number,
  ) {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build`);
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.members[0].apiPort}`;
  }

  async start(): Promise<void> {
    const clusterDir = join(this.directory, 'cluster');
    execFileSync(process.execPath, [cli, 'cluster', 'init', '--dir', clusterDir, '--open'], { stdio: 'pipe' });
    const names = ['gateway', ...Array.from({ length: this.computePeers }, (_, index) => `compute-${index + 1}`)];
    for (const [index, name] of names.entries()) {
      const dataDir = join(this.directory, name);
      const issued = execFileSync(process.execPath, [cli, 'cluster', 'issue', '--cluster-dir', clusterDir, '--data-dir', dataDir], { encoding: 'utf8' });
      this.members.push({ name, nodeId: /node ([0-9a-f]{40})/.exec(issued)![1], dataDir, transportPort: this.basePort + index, apiPort: this.basePort + 100 + index, roles: index === 0 ? ['--gateway'] : ['--compute'], log: [] });
    }
    for (const member of this.members) this.launch(member, clusterDir);
    await waitUntil(async () => (await this.complete(1)).ok, 60_000, `the swarm to answer (${this.members.map((member) => member.log.join('').slice(-300)).join(' | ')})`);
  }

  /** A non-streamed completion of `maxTokens` tokens through the gateway, sent with node:http over a kept-alive connection, or with fetch. */
  async complete(maxTokens: number, seed = 1, client: 'http' | 'fetch' = 'http'): Promise<{ ok: boolean; ms: number }> {
    const body = JSON.stringify({ model: 'bench-swarm', prompt: 'And God said', max_tokens: maxTokens, temperature: 0, seed });
    const started = performance.now();
    const status = client === 'http' ? await this.post('/v1/completions', body) : await this.fetchPost('/v1/completions', body);
    return { ok: status === 200, ms: performance.now() - started };
  }

  private post(path: string, body: string): Promise<number | undefined> {
    return new Promise((resolve) => {
      const url = new URL(path, this.gatewayUrl);
      const sent = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
        response.on('data', () => undefined);
        response.on('end', () => resolve(response.statusCode));
        response.on('error', () => resolve(undefined));
      });
      sent.on('error', () => resolve(undefined));
      sent.end(body);
    });
  }

  private async fetchPost(path: string, body: string): Promise<number | undefined> {
    const response = await fetch(`${this.gatewayUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch(() => undefined);
    if (response === undefined) return undefined;
    await response.arrayBuffer();
    return response.status;
  }

  /** The compute peer with this node id. */
  computeMember(nodeId: string): Member | undefined {
    return this.members.find((member) => member.nodeId === nodeId && member.name !== 'gateway');
  }

  kill(member: Member): void {
    member.child?.kill('SIGKILL');
  }

  async restart(member: Member): Promise<void> {
    await stopProcess(member.child, 'SIGKILL');
    this.launch(member, join(this.directory, 'cluster'));
    await waitUntil(async () => (await fetch(`http://127.0.0.1:${member.apiPort}/healthz`)).ok, 30_000, `${member.name} to come back`);
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await Promise.all(this.members.map((member) => stopProcess(member.child)));
    rmSync(this.directory, { recursive: true, force: true });
  }

  private launch(member: Member, clusterDir: string): void {
    const voters = this.members.map((other) => `127.0.0.1:${other.transportPort}#${other.nodeId}`).join(',');
    const gateway = this.members[0];
    const bootstrap = member === gateway ? [] : ['--bootstrap', `127.0.0.1:${gateway.transportPort}#${gateway.nodeId}`];
    member.child = spawnMember(process.execPath, [
      cli, 'node', '--data-dir', member.dataDir, '--cluster-dir', clusterDir, '--listen', `127.0.0.1:${member.transportPort}`, '--api', `127.0.0.1:${member.apiPort}`,
      '--storage', '--voters', voters, ...member.roles, '--model', this.modelPath, '--threads', '1', ...bootstrap,
    ], member.log);
  }
}
