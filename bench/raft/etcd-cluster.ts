/**
 * etcd 3.4 (Debian's etcd-server) as the benchmark's peer: three members on loopback, each
 * with its own data directory, the same heartbeat and election timeouts as nines, writes
 * through the v3 JSON gateway over plain HTTP (nines' KV API is plain HTTP on loopback too).
 * etcd fsyncs its WAL before acknowledging, like nines with acks=quorum.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpRequest, keepAliveAgent, spawnMember, stopProcess, waitUntil, type KvCluster } from './kv-cluster.js';

export interface TimeoutSettings {
  heartbeatMs: number;
  electionMs: number;
}

const etcdBinary = '/usr/bin/etcd';

export class EtcdCluster implements KvCluster {
  readonly name = 'etcd';
  private readonly directory = mkdtempSync(join(tmpdir(), 'nines-bench-etcd-'));
  private readonly processes: (ChildProcess | undefined)[];
  private readonly agents;
  private readonly logs: string[][];
  private memberIds: string[] = [];

  constructor(
    readonly size: number,
    private readonly timeouts: TimeoutSettings,
    private readonly basePort = 23790,
  ) {
    if (!existsSync(etcdBinary)) throw new Error(`${etcdBinary} is missing: apt-get install etcd-server (Debian's etcd 3.4)`);
    this.processes = Array.from({ length: size }, () => undefined);
    this.logs = Array.from({ length: size }, () => []);
    this.agents = Array.from({ length: size }, () => keepAliveAgent());
  }

  private clientPort(member: number): number {
    return this.basePort + member;
  }

  private peerPort(member: number): number {
    return this.basePort + 100 + member;
  }

  private launch(member: number): void {
    const name = `m${member}`;
    const initialCluster = Array.from({ length: this.size }, (_, index) => `m${index}=http://127.0.0.1:${this.peerPort(index)}`).join(',');
    this.processes[member] = spawnMember(etcdBinary, [
      '--name', name,
      '--data-dir', join(this.directory, name),
      '--listen-client-urls', `http://127.0.0.1:${this.clientPort(member)}`,
      '--advertise-client-urls', `http://127.0.0.1:${this.clientPort(member)}`,
      '--listen-peer-urls', `http://127.0.0.1:${this.peerPort(member)}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${this.peerPort(member)}`,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', 'nines-bench',
      '--heartbeat-interval', String(this.timeouts.heartbeatMs),
      '--election-timeout', String(this.timeouts.electionMs),
      '--log-level', 'error',
    ], this.logs[member]);
  }

  async start(): Promise<void> {
    for (let member = 0; member < this.size; member++) this.launch(member);
    await waitUntil(async () => (await this.leader()) !== undefined, 30_000, 'etcd to elect a leader');
    this.memberIds = await Promise.all(Array.from({ length: this.size }, async (_, member) => (await this.status(member)).memberId));
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((child) => stopProcess(child)));
    for (const agent of this.agents) agent.destroy();
    rmSync(this.directory, { recursive: true, force: true });
  }

  async put(member: number, key: string, value: string, timeoutMs: number): Promise<void> {
    const body = JSON.stringify({ key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') });
    const answer = await httpRequest(this.agents[member], this.clientPort(member), 'POST', '/v3/kv/put', body, timeoutMs, { 'content-type': 'application/json' });
    if (answer.status !== 200) throw new Error(`etcd put failed: ${answer.status} ${answer.body.slice(0, 200)}`);
  }

  async get(member: number, key: string, timeoutMs: number): Promise<void> {
    // etcd's default range read is linearizable, like nines' default reads.
    const body = JSON.stringify({ key: Buffer.from(key).toString('base64') });
    const answer = await httpRequest(this.agents[member], this.clientPort(member), 'POST', '/v3/kv/range', body, timeoutMs, { 'content-type': 'application/json' });
    if (answer.status !== 200) throw new Error(`etcd get failed: ${answer.status} ${answer.body.slice(0, 200)}`);
  }

  private async status(member: number): Promise<{ memberId: string; leader: string }> {
    const answer = await httpRequest(this.agents[member], this.clientPort(member), 'POST', '/v3/maintenance/status', '{}', 1_000, { 'content-type': 'application/json' });
    if (answer.status !== 200) throw new Error(`etcd status failed: ${answer.status}`);
    const parsed = JSON.parse(answer.body) as { header: { member_id: string }; leader: string };
    return { memberId: parsed.header.member_id, leader: parsed.leader };
  }

  async leader(): Promise<number | undefined> {
    for (let member = 0; member < this.size; member++) {
      if (this.processes[member]?.exitCode !== null || this.processes[member]?.signalCode !== null) continue;
      try {
        const status = await this.status(member);
        if (status.leader === undefined || status.leader === '0') continue;
        if (this.memberIds.length === 0) return member;
        const index = this.memberIds.indexOf(status.leader);
        if (index >= 0) return index;
      } catch {
        // That member is down or starting; ask the next.
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
    await waitUntil(async () => (await this.status(member)).leader !== '0', 30_000, `etcd member ${member} to rejoin (${this.logs[member].join('').slice(-500)})`);
  }
}
