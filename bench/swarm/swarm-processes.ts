/**
 * A swarm for the benchmark, as real processes on loopback: one gateway peer (storage and
 * gateway, no model computing of its own, so every token crosses the network) and compute
 * peers (storage and compute), under an open cluster. The built CLI in dist/ runs.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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

  /** A non-streamed completion of `maxTokens` tokens through the gateway. */
  async complete(maxTokens: number, seed = 1): Promise<{ ok: boolean; ms: number }> {
    const started = performance.now();
    const response = await fetch(`${this.gatewayUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'bench-swarm', prompt: 'And God said', max_tokens: maxTokens, temperature: 0, seed }),
    }).catch(() => undefined);
    if (response === undefined) return { ok: false, ms: performance.now() - started };
    await response.arrayBuffer();
    return { ok: response.status === 200, ms: performance.now() - started };
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
