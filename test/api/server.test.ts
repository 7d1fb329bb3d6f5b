import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../../src/api/server.js';
import { kvBodyBytesMax, sessionHeader, type KvBackend } from '../../src/api/kv-routes.js';
import type { RaftStatus } from '../../src/replication/leader/index.js';
import { ApiKeyRing } from '../../src/api/openai/auth.js';

const values = new Map<string, string>();
let index = 0;
const backend: KvBackend = {
  async write(command) {
    index++;
    if (command.op === 'put') values.set(command.key, command.value);
    return { index };
  },
  async read(key) {
    return { value: values.get(key) ?? null, index };
  },
  status: () => ({ id: 'x', role: 'leader' }) as unknown as RaftStatus,
};

const key = 'sk-kv-0123456789abcdef';
const ring = new ApiKeyRing({ keys: new Map([[key, { name: 'ops' }]]) });
const authorization = { authorization: `Bearer ${key}` };
let server: ApiServer;
let base: string;
beforeAll(async () => {
  server = await ApiServer.start({ host: '127.0.0.1', port: 0, kv: backend, kvAuth: ring });
  base = `http://127.0.0.1:${server.address.port}`;
});
afterAll(() => server.close());

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, ...body.error };
}

describe('the peer HTTP API server', () => {
  it('stores a body as text whatever its content type, and reads it back with a session token', async () => {
    const put = await fetch(`${base}/v1/kv/verse`, { method: 'PUT', body: '{"not": "parsed"}', headers: { 'content-type': 'application/json', ...authorization } });
    expect(put.status).toBe(200);
    const token = put.headers.get(sessionHeader);
    expect(token).toBe('1');
    const get = await fetch(`${base}/v1/kv/verse?consistency=session`, { headers: { [sessionHeader]: token!, ...authorization } });
    expect(await get.json()).toEqual({ key: 'verse', value: '{"not": "parsed"}', index: 1 });
    expect(await (await fetch(`${base}/v1/cluster/status`, { headers: authorization })).json()).toEqual({ mode: 'single-leader', id: 'x', role: 'leader' });
  });

  it('refuses an oversized body with 413 and an unknown route with 404, in the error shape', async () => {
    const big = await fetch(`${base}/v1/kv/big`, { method: 'PUT', body: 'x'.repeat(kvBodyBytesMax + 1) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    const missing = await fetch(`${base}/v1/nothing`, { headers: authorization });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/no route GET \/v1\/nothing/);
  });

  it('refuses the store and its status without one of the cluster\'s keys, in the admin API\'s 401 shape', async () => {
    const writesBefore = index;
    const bare = await errorOf(await fetch(`${base}/v1/kv/secret`, { method: 'PUT', body: 'x' }));
    expect(bare).toMatchObject({ status: 401, code: 'KV_UNAUTHORIZED' });
    expect(bare.message).toMatch(/didn't provide an API key.*--api-key or NINES_API_KEY/);
    const wrong = await errorOf(await fetch(`${base}/v1/kv/secret`, { headers: { authorization: 'Bearer sk-not-a-key-of-ours' } }));
    expect(wrong).toMatchObject({ status: 401, code: 'KV_UNAUTHORIZED' });
    expect(wrong.message).toMatch(/Incorrect API key provided: sk-\*\*\*\*ours/);
    expect(await errorOf(await fetch(`${base}/v1/cluster/status`))).toMatchObject({ status: 401, code: 'KV_UNAUTHORIZED' });
    // Nothing refused reached the store.
    expect(index).toBe(writesBefore);
    expect(values.has('secret')).toBe(false);
  });

  it('follows the ring: a revoked key is refused on its next request, an open cluster lets everyone in, a closed one says how to add a key', async () => {
    const newKey = 'sk-kv-fedcba9876543210';
    try {
      ring.replace({ keys: new Map([[newKey, { name: 'new' }]]) });
      expect((await errorOf(await fetch(`${base}/v1/kv/verse`, { headers: authorization }))).status).toBe(401);
      expect((await fetch(`${base}/v1/kv/verse`, { headers: { authorization: `Bearer ${newKey}` } })).status).toBe(200);
      ring.replace({ open: true });
      expect((await fetch(`${base}/v1/kv/verse`)).status).toBe(200);
      ring.replace({ closed: 'no keys yet' });
      const closed = await errorOf(await fetch(`${base}/v1/kv/verse`, { headers: { authorization: `Bearer ${newKey}` } }));
      expect(closed).toMatchObject({ status: 401, code: 'KV_NO_KEYS' });
      expect(closed.message).toMatch(/no API keys.*nines cluster key add <name>/);
    } finally {
      ring.replace({ keys: new Map([[key, { name: 'ops' }]]) });
    }
  });

  it('will not serve the store without a decision about who may use it', async () => {
    await expect(ApiServer.start({ host: '127.0.0.1', port: 0, kv: backend })).rejects.toThrow(/kv needs kvAuth/);
  });
});
