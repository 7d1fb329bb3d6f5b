/**
 * One real `nines node` with no role flag, on a cluster that has no API keys yet: it runs
 * every role (storage as a one-node cluster, compute with the built-in model, the gateway and
 * the tracker), starts anyway with one warning, and answers 401 saying how to add a key. Then
 * `nines cluster key add` works within two seconds on the OpenAI and key-value APIs without a
 * restart, and `nines cluster key revoke` is refused as fast. A peer asked for --gateway on a
 * keyless cluster still refuses to start.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNodeFile } from '../../src/node/index.js';
import { freePorts } from './free-ports.js';
import { checkBuilt, mainScript, startNodeProcess, stopAll, type NodeProcess } from './swarm.js';
import { removeTemporaryDirectories, temporaryDirectory } from '../net/helpers.js';

const directory = temporaryDirectory('nines-peer-defaults-');
const clusterDir = join(directory, 'cluster');
/** How soon a running peer must follow `nines cluster key add|revoke`. */
const reloadMsMax = 2_000;
let peer: NodeProcess;
let api: string;

function nines(args: string[]): string {
  return execFileSync(process.execPath, [mainScript, ...args], { encoding: 'utf8' });
}

beforeAll(async () => {
  checkBuilt();
  nines(['cluster', 'init', '--dir', clusterDir]);
  const [transportPort] = await freePorts(1);
  peer = await startNodeProcess(join(directory, 'peer'), ['--cluster-dir', clusterDir, '--listen', `127.0.0.1:${transportPort}`, '--threads', '1', '--tick-ms', '20']);
  const address = readNodeFile(peer.dataDir).api!;
  api = `http://127.0.0.1:${address.port}`;
}, 60_000);

afterAll(async () => {
  await stopAll();
  removeTemporaryDirectories();
});

const withKey = (key: string | undefined): Record<string, string> => (key === undefined ? {} : { authorization: `Bearer ${key}` });

async function statusOf(path: string, key?: string, init: RequestInit = {}): Promise<number> {
  return (await fetch(`${api}${path}`, { ...init, headers: { ...withKey(key), ...(init.headers as Record<string, string> | undefined) } })).status;
}

/** Polls until `check` holds; resolves with how long that took. */
async function within(timeoutMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const startMs = Date.now();
  for (;;) {
    if (await check()) return Date.now() - startMs;
    if (Date.now() - startMs > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms; peer log: ${JSON.stringify(peer.logs.slice(-10))}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('nines node without role flags', () => {
  it('runs every role, and on a cluster without keys starts with one warning and answers 401 saying how to add one', async () => {
    expect(readNodeFile(peer.dataDir).roles).toEqual(expect.arrayContaining(['tracker', 'storage', 'compute', 'gateway']));
    const warnings = peer.logs.filter((line) => line.level === 'warn' && line.msg.startsWith('no API keys'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toMatch(/^no API keys: the OpenAI API answers 401 until you add one: nines cluster key add <name> --dir /);
    const models = await fetch(`${api}/v1/models`);
    expect(models.status).toBe(401);
    expect(((await models.json()) as { error: { message: string } }).error.message).toMatch(/no API keys yet.*nines cluster key add <name> --dir/);
    const kv = await fetch(`${api}/v1/kv/greeting`);
    expect(kv.status).toBe(401);
    expect(((await kv.json()) as { error: { code: string } }).error.code).toBe('KV_NO_KEYS');
    // What the failure detector and supervisors poll stays open.
    expect(await statusOf('/healthz')).toBe(200);
  });

  it('accepts a key added while it runs within two seconds, on the OpenAI and key-value APIs, and refuses it as fast once revoked', async () => {
    const key = nines(['cluster', 'key', 'add', 'alice', '--dir', clusterDir]).split('\n')[0];
    const addedMs = await within(reloadMsMax, 'the added key being accepted', async () => (await statusOf('/v1/models', key)) === 200);
    expect(addedMs).toBeLessThanOrEqual(reloadMsMax);
    // The one-node cluster elects itself: a write with the key is acknowledged.
    await within(10_000, 'a write being acknowledged', async () => (await statusOf('/v1/kv/greeting', key, { method: 'PUT', body: 'in the beginning' })) === 200);
    expect(await statusOf('/v1/kv/greeting')).toBe(401);
    const chat = await fetch(`${api}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...withKey(key), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'nines-kjv', messages: [{ role: 'user', content: 'And God said' }], max_tokens: 3, seed: 1 }),
    });
    expect(chat.status).toBe(200);
    expect(((await chat.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBeGreaterThan(0);
    nines(['cluster', 'key', 'revoke', 'alice', '--dir', clusterDir]);
    const revokedMs = await within(reloadMsMax, 'the revoked key being refused', async () => (await statusOf('/v1/models', key)) === 401);
    expect(revokedMs).toBeLessThanOrEqual(reloadMsMax);
    expect(await statusOf('/v1/kv/greeting', key)).toBe(401);
    expect(await statusOf('/v1/admin/swarm', key)).toBe(401);
  }, 30_000);

  it('still refuses to start when --gateway is asked for on a cluster without keys', () => {
    const keyless = join(directory, 'keyless-cluster');
    nines(['cluster', 'init', '--dir', keyless]);
    const refused = spawnSync(process.execPath, [mainScript, 'node', '--data-dir', join(directory, 'asked'), '--cluster-dir', keyless, '--gateway'], { encoding: 'utf8', timeout: 30_000 });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/the gateway has no API keys to accept: add one with nines cluster key add <name> --dir/);
  });
});
