import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../../src/api/server.js';
import { kvBodyBytesMax, sessionHeader, type KvBackend } from '../../src/api/kv-routes.js';
import type { RaftStatus } from '../../src/replication/leader/index.js';

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

let server: ApiServer;
let base: string;
beforeAll(async () => {
  server = await ApiServer.start({ host: '127.0.0.1', port: 0, kv: backend });
  base = `http://127.0.0.1:${server.address.port}`;
});
afterAll(() => server.close());

describe('the peer HTTP API server', () => {
  it('stores a body as text whatever its content type, and reads it back with a session token', async () => {
    const put = await fetch(`${base}/v1/kv/verse`, { method: 'PUT', body: '{"not": "parsed"}', headers: { 'content-type': 'application/json' } });
    expect(put.status).toBe(200);
    const token = put.headers.get(sessionHeader);
    expect(token).toBe('1');
    const get = await fetch(`${base}/v1/kv/verse?consistency=session`, { headers: { [sessionHeader]: token! } });
    expect(await get.json()).toEqual({ key: 'verse', value: '{"not": "parsed"}', index: 1 });
    expect(await (await fetch(`${base}/v1/cluster/status`)).json()).toEqual({ mode: 'single-leader', id: 'x', role: 'leader' });
  });

  it('refuses an oversized body with 413 and an unknown route with 404, in the error shape', async () => {
    const big = await fetch(`${base}/v1/kv/big`, { method: 'PUT', body: 'x'.repeat(kvBodyBytesMax + 1) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    const missing = await fetch(`${base}/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/no route GET \/v1\/nothing/);
  });
});
