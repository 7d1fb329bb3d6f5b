/**
 * Real `nines node` processes for tests: spawned from dist/ (run `npm run build` first),
 * their contact line read from standard output, their JSON-lines log kept from standard
 * error, and driven through the loopback admin channel recorded in node.json. Every process
 * spawned here is killed by `stopAll`, which tests call in afterAll even when they fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { adminRequest } from '../../src/node/index.js';

export const mainScript = resolve('dist/cli/main.js');

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface NodeProcess {
  dataDir: string;
  child: ChildProcess;
  contact: string;
  nodeId: string;
  logs: LogLine[];
  /** Everything the process wrote to standard error that is not a JSON log line. */
  otherOutput: string[];
}

const spawned: ChildProcess[] = [];
// Should the test process end without running afterAll (a crash, a kill), take the nodes with it.
process.once('exit', () => {
  for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export function checkBuilt(): void {
  if (!existsSync(mainScript)) throw new Error(`${mainScript} is missing: run npm run build before these tests`);
}

/** Starts `nines <command> --data-dir <dataDir> ...args` and resolves once it prints its contact. */
export function startNodeProcess(dataDir: string, args: string[], command = 'node', startTimeoutMs = 90_000): Promise<NodeProcess> {
  const child = spawn(process.execPath, [mainScript, command, '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.push(child);
  const logs: LogLine[] = [];
  const otherOutput: string[] = [];
  let errorBuffer = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    errorBuffer += chunk;
    const lines = errorBuffer.split('\n');
    errorBuffer = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        otherOutput.push(line);
      }
    }
  });
  return new Promise((resolvePromise, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${dataDir} printed no contact within ${startTimeoutMs} ms: ${otherOutput.join('\n')}`)), startTimeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const newline = output.indexOf('\n');
      if (newline === -1) return;
      clearTimeout(timer);
      const contact = output.slice(0, newline).trim();
      resolvePromise({ dataDir, child, contact, nodeId: contact.split('#')[1], logs, otherOutput });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${dataDir} exited with code ${code} before printing its contact: ${otherOutput.join('\n')} ${errorBuffer}`));
    });
  });
}

/** Starts several processes, a few at a time so that two shared cores are not swamped. */
export async function startMany(count: number, make: (index: number) => [string, string[]], parallel = 4): Promise<NodeProcess[]> {
  const nodes: NodeProcess[] = new Array(count);
  for (let first = 0; first < count; first += parallel) {
    const batch = [];
    for (let index = first; index < Math.min(count, first + parallel); index++) {
      const [dataDir, args] = make(index);
      batch.push(startNodeProcess(dataDir, args).then((node) => (nodes[index] = node)));
    }
    await Promise.all(batch);
  }
  return nodes;
}

export function admin<T>(node: NodeProcess, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  return adminRequest(node.dataDir, method, path, body) as Promise<T>;
}

export interface LookupSummary {
  key: string;
  ok: boolean;
  closest: { nodeId: string; host: string; port: number }[];
  providers: { nodeId: string; host: string; port: number }[];
  hops: number;
  stored: number;
}

/**
 * Node IDs of `others` that `node` finds as the closest peer to their own ID, by lookup. In a
 * swarm no larger than k every lookup asks every peer, so the lookups go `keysPerRequest` at
 * a time rather than all at once, to keep bursts within what two shared cores answer in time.
 */
export async function foundByLookup(node: NodeProcess, others: readonly NodeProcess[], keysPerRequest = 4): Promise<Set<string>> {
  const keys = others.filter((other) => other !== node).map((other) => other.nodeId);
  const found = new Set<string>();
  for (let first = 0; first < keys.length; first += keysPerRequest) {
    const answer = await admin<{ results: LookupSummary[] }>(node, 'POST', '/v0/lookup', { keys: keys.slice(first, first + keysPerRequest) });
    for (const result of answer.results) if (result.closest[0]?.nodeId === result.key) found.add(result.key);
  }
  return found;
}

/** Polls `check` until it returns true, or throws with `describe()` after `timeoutMs`. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, describe: () => string, pollMs = 250): Promise<void> {
  const start = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, pollMs));
  }
}

/** SIGTERM to every process spawned so far, SIGKILL to those still alive after `graceMs`. */
export async function stopAll(graceMs = 3_000): Promise<void> {
  const alive = spawned.splice(0).filter((child) => child.exitCode === null && child.signalCode === null);
  await Promise.all(
    alive.map(
      (child) =>
        new Promise<void>((resolvePromise) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolvePromise();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

export function dataDirIn(root: string, name: string): string {
  return join(root, name);
}
