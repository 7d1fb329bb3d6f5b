/**
 * nines as the benchmarks measure it: `nines node --storage` processes on loopback, each with
 * its own data directory (SQLite in WAL mode, synchronous=FULL), founded with the same voters,
 * in one replication mode. Single-leader writes with acks=quorum (a majority fsynced, as etcd
 * acknowledges); leaderless uses n=3, r=2, w=2; multi-leader acknowledges after the local
 * fsync. The built CLI in dist/ runs, as a user runs it. Every request carries an API key
 * (`nines cluster key add`), as a client of a keyed cluster sends it.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpRequest, keepAliveAgent, spawnMember, stopProcess, waitUntil, type KvCluster } from './kv-cluster.js';
import type { TimeoutSettings } from './etcd-cluster.js';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export type ReplicationMode = 'single-leader' | 'multi-leader' | 'leaderless';

export class NinesCluster implements KvCluster {
  readonly name: string;
  private readonly directory = mkdtempSync(join(tmpdir(), 'nines-bench-raft-'));
  private readonly processes: (ChildProcess | undefined)[];
  private readonly agents;
  private readonly logs: string[][];
  private nodeIds: string[] = [];
  private headers: Record<string, string> = {};

  constructor(
    readonly size: number,
    private readonly timeouts: TimeoutSettings,
    private readonly basePort = 24790,
    readonly mode: ReplicationMode = 'single-leader',
  ) {
    this.name = mode === 'single-leader' ? 'nines' : `nines ${mode}`;
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build`);
    this.processes = Array.from({ length: size }, () => undefined);
    this.logs = Array.from({ length: size }, () => []);
    this.agents = Array.from({ length: size }, () => keepAliveAgent());
  }

  private dataDir(member: number): string {
    return join(this.directory, `peer-${member}`);
  }

  private apiPort(member: number): number {
    return this.basePort + member;
  }

  private transportPort(member: number): number {
    return this.basePort + 100 + member;
  }

  private launch(member: number): void {
    const voters = this.nodeIds.map((nodeId, index) => `127.0.0.1:${this.transportPort(index)}#${nodeId}`).join(',');
    const tickMs = Math.round(this.timeouts.heartbeatMs / 2);
    this.processes[member] = spawnMember(process.execPath, [
      cli, 'node',
      '--data-dir', this.dataDir(member),
      '--cluster-dir', join(this.directory, 'cluster'),
      '--listen', `127.0.0.1:${this.transportPort(member)}`,
      '--storage',
      '--voters', voters,
      '--api', `127.0.0.1:${this.apiPort(member)}`,
      '--tick-ms', String(tickMs),
      '--election-ticks', String(Math.round(this.timeouts.electionMs / tickMs)),
      '--heartbeat-ticks', '2',
      '--acks', 'quorum',
    ], this.logs[member]);
  }

  async start(): Promise<void> {
    const clusterDir = join(this.directory, 'cluster');
    execFileSync(process.execPath, [cli, 'cluster', 'init', '--dir', clusterDir, '--replication', this.mode, '--n', '3', '--r', '2', '--w', '2'], { stdio: 'pipe' });
    const key = execFileSync(process.execPath, [cli, 'cluster', 'key', 'add', 'bench', '--dir', clusterDir], { encoding: 'utf8' }).split('\n')[0].trim();
    this.headers = { authorization: `Bearer ${key}` };
    this.nodeIds = Array.from({ length: this.size }, (_, member) => {
      const output = execFileSync(process.execPath, [cli, 'cluster', 'issue', '--cluster-dir', clusterDir, '--data-dir', this.dataDir(member)], { encoding: 'utf8' });
      const match = /node ([0-9a-f]{40})/.exec(output);
      if (match === null) throw new Error(`nines cluster issue printed no node id: ${output}`);
      return match[1];
    });
    for (let member = 0; member < this.size; member++) this.launch(member);
    const ready = this.mode === 'single-leader' ? async () => (await this.leader()) !== undefined : () => this.put(0, 'ready', 'yes', 1_000).then(() => true);
    await waitUntil(ready, 30_000, `nines to accept writes (${this.logs.map((log) => log.join('').slice(-300)).join(' | ')})`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((child) => stopProcess(child)));
    for (const agent of this.agents) agent.destroy();
    rmSync(this.directory, { recursive: true, force: true });
  }

  async put(member: number, key: string, value: string, timeoutMs: number): Promise<void> {
    const acks = this.mode === 'single-leader' ? '?acks=quorum' : '';
    const answer = await httpRequest(this.agents[member], this.apiPort(member), 'PUT', `/v1/kv/${encodeURIComponent(key)}${acks}`, value, timeoutMs, this.headers);
    if (answer.status !== 200) throw new Error(`nines put failed: ${answer.status} ${answer.body.slice(0, 200)}`);
  }

  async get(member: number, key: string, timeoutMs: number): Promise<void> {
    const answer = await httpRequest(this.agents[member], this.apiPort(member), 'GET', `/v1/kv/${encodeURIComponent(key)}`, '', timeoutMs, this.headers);
    if (answer.status !== 200 && answer.status !== 404) throw new Error(`nines get failed: ${answer.status} ${answer.body.slice(0, 200)}`);
  }

  private async status(member: number): Promise<{ role: string; leader?: string }> {
    const answer = await httpRequest(this.agents[member], this.apiPort(member), 'GET', '/v1/cluster/status', '', 1_000, this.headers);
    if (answer.status !== 200) throw new Error(`nines status failed: ${answer.status}`);
    return JSON.parse(answer.body) as { role: string; leader?: string };
  }

  async leader(): Promise<number | undefined> {
    if (this.mode !== 'single-leader') return undefined;
    for (let member = 0; member < this.size; member++) {
      const child = this.processes[member];
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) continue;
      try {
        if ((await this.status(member)).role === 'leader') return member;
      } catch {
        // Down or starting; ask the next.
      }
    }
    return undefined;
  }

  kill(member: number): void {
    this.processes[member]?.kill('SIGKILL');
  }

  async restart(member: number): Promise<void> {
    await stopProcess(this.processes[member], 'SIGKILL');
    this.launch(member);
    const serving = this.mode === 'single-leader' ? async () => (await this.status(member)).leader !== undefined : async () => (await this.status(member)) !== undefined;
    await waitUntil(serving, 30_000, `nines peer ${member} to rejoin (${this.logs[member].join('').slice(-500)})`);
  }
}
