/**
 * What the Raft benchmark needs from a replicated key-value store running as real processes
 * on loopback: start and stop it, write through a member, find the leader, SIGKILL a member
 * and bring it back. nines and etcd each implement it (nines-cluster.ts, etcd-cluster.ts),
 * so the very same load and failover code measures both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';

export interface KvCluster {
  readonly name: string;
  readonly size: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One durable write through `member`; rejects on any failure or after `timeoutMs`. */
  put(member: number, key: string, value: string, timeoutMs: number): Promise<void>;
  /** One read through `member`, at the store's default consistency (a missing key is not a failure). */
  get(member: number, key: string, timeoutMs: number): Promise<void>;
  /** The index of the member that leads now, or undefined when none does (or it cannot tell). */
  leader(): Promise<number | undefined>;
  kill(member: number): void;
  /** Starts a killed member again and waits until it serves. */
  restart(member: number): Promise<void>;
}

/** One keep-alive agent per member, so both stores pay the same connection costs. */
export function keepAliveAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: 256 });
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export function httpRequest(agent: http.Agent, port: number, method: string, path: string, body: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method, path, agent, headers: { 'content-length': Buffer.byteLength(body), ...headers }, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Spawns a member process with its output kept for error messages. */
export function spawnMember(command: string, args: readonly string[], logTail: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer) => {
    logTail.push(chunk.toString('utf8'));
    if (logTail.length > 50) logTail.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return child;
}

export async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
