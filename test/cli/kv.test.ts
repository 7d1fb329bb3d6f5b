/**
 * `nines kv` and `nines cluster status` against a real one-voter storage node (`--storage`
 * without `--voters`: a one-node cluster) on a keyed cluster: the commands a user types, with
 * the key in --api-key or NINES_API_KEY, their output and exit codes.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../node/free-ports.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'nines-cli-kv-'));
const dataDir = join(directory, 'node');
let child: ChildProcess;
let apiKey: string;

/** Runs nines with the cluster's key in NINES_API_KEY, or with none there when `key` is null. */
function nines(args: string[], key: string | null = apiKey) {
  const { NINES_API_KEY: _inherited, ...environment } = process.env;
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...environment, ...(key !== null && { NINES_API_KEY: key }) } });
}

beforeAll(async () => {
  const clusterDir = join(directory, 'ca');
  execFileSync(process.execPath, [cli, 'cluster', 'init', '--dir', clusterDir], { stdio: 'pipe' });
  apiKey = execFileSync(process.execPath, [cli, 'cluster', 'key', 'add', 'cli', '--dir', clusterDir], { encoding: 'utf8' }).split('\n')[0];
  const [port] = await freePorts(1);
  child = spawn(process.execPath, [cli, 'node', '--data-dir', dataDir, '--cluster-dir', clusterDir, '--listen', `127.0.0.1:${port}`, '--storage', '--tick-ms', '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 20_000;
  while (!/api http:\/\/127\.0\.0\.1:\d+/.test(output)) {
    if (Date.now() > deadline) throw new Error(`the node did not print its API address: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 40_000);

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

describe('nines kv and nines cluster status', () => {
  it('puts, gets, compares-and-sets and deletes through the node in --data-dir', () => {
    const put = nines(['kv', 'put', '--data-dir', dataDir, 'exodus', 'let my people go']);
    expect(put.stderr).toBe('');
    expect(put.stdout).toMatch(/^OK index (\d+) \(session token \1\)\n$/);
    const token = /index (\d+)/.exec(put.stdout)![1];
    expect(nines(['kv', 'get', '--data-dir', dataDir, 'exodus', '--consistency', 'session', '--session', token]).stdout).toBe('let my people go\n');
    const swapped = nines(['kv', 'cas', '--data-dir', dataDir, 'exodus', '--expected', 'let my people go', '--value', 'amen']);
    expect(swapped.stdout).toMatch(/^OK: exodus is "amen"/);
    const refused = nines(['kv', 'cas', '--data-dir', dataDir, 'exodus', '--expected', 'nothing', '--value', 'x']);
    expect(refused.status).toBe(2);
    expect(refused.stdout).toMatch(/^NOT SET: exodus is "amen"/);
    expect(nines(['kv', 'delete', '--data-dir', dataDir, 'exodus', '--acks', 'all']).status).toBe(0);
    const missing = nines(['kv', 'get', '--data-dir', dataDir, 'exodus']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/exodus: not found/);
  });

  it('sends the key from --api-key or NINES_API_KEY, and says how to pass one when it is missing or wrong', () => {
    expect(nines(['kv', 'put', '--data-dir', dataDir, 'psalm', '23', '--api-key', apiKey], null).status).toBe(0);
    expect(nines(['kv', 'get', '--data-dir', dataDir, 'psalm']).stdout).toBe('23\n');
    const keyless = nines(['kv', 'get', '--data-dir', dataDir, 'psalm'], null);
    expect(keyless.status).toBe(1);
    expect(keyless.stderr).toMatch(/KV_UNAUTHORIZED: You didn't provide an API key.*--api-key or NINES_API_KEY/);
    // The flag wins over the environment.
    const wrong = nines(['kv', 'put', '--data-dir', dataDir, 'psalm', '24', '--api-key', 'nines-not-a-key-of-this-cluster']);
    expect(wrong.stderr).toMatch(/KV_UNAUTHORIZED: Incorrect API key provided/);
    expect(nines(['cluster', 'status', '--data-dir', dataDir], null).stderr).toMatch(/KV_UNAUTHORIZED/);
    expect(nines(['kv', 'get', '--data-dir', dataDir, 'psalm']).stdout).toBe('23\n');
  });

  it('shows the Raft status of the peer', () => {
    const status = nines(['cluster', 'status', '--data-dir', dataDir]);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/\(leader\)/);
    expect(status.stdout).toMatch(/commit\s+\d+, applied \d+/);
  });

  it('refuses bad flags and says where to send the request', () => {
    expect(nines(['kv', 'put', '--data-dir', dataDir, 'k', 'v', '--acks', 'some']).stderr).toMatch(/--acks must be leader, quorum or all/);
    expect(nines(['kv', 'get', '--peer', 'localhost:1', 'k']).stderr).toMatch(/--peer must be an http:\/\/ or https:\/\/ URL/);
    const nowhere = spawnSync(process.execPath, [cli, 'kv', 'get', 'k'], { encoding: 'utf8', env: { ...process.env, NINES_PEER: '' } });
    expect(nowhere.status).toBe(1);
    expect(nowhere.stderr).toMatch(/say which peer to ask/);
    expect(nines(['kv', 'get', '--peer', 'http://127.0.0.1:1', 'k']).stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1/);
  });

  it('says so when the address answers, but not as a nines API', async () => {
    const server = createServer((_request, response) => void response.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const stderr = await new Promise<string>((resolve) => execFile(process.execPath, [cli, 'kv', 'get', '--peer', `http://127.0.0.1:${port}`, 'k'], (_error, _stdout, text) => resolve(text)));
      expect(stderr).toMatch(/answered 200 without JSON: is that a nines storage peer's API/);
    } finally {
      server.close();
    }
  });
});
