import { describe, expect, it } from 'vitest';
import { handleKvRequest, type KvRequest } from '../../src/api/kv-routes.js';
import type { ReplicaKvBackend, ReplicaRead, ReplicaWritten } from '../../src/api/replica-kv-routes.js';
import { ReplicaError } from '../../src/node/replica/errors.js';
import { applyWrite, emptyRegister, encodeVector, mergeRegisters, registerView, type RegisterState, type VersionVector } from '../../src/replication/versions/index.js';

/** A backend over registers in a map, where `node` names the replica that takes each write. */
function registerBackend(mode: 'multi-leader' | 'leaderless' = 'leaderless') {
  const registers = new Map<string, RegisterState>();
  const calls: unknown[] = [];
  let node = 'a';
  const backend: ReplicaKvBackend & { calls: unknown[]; registers: Map<string, RegisterState>; writeAs(name: string): void } = {
    mode,
    calls,
    registers,
    writeAs(name: string) {
      node = name;
    },
    async get(key, options): Promise<ReplicaRead> {
      calls.push({ get: key, ...options });
      const state = registers.get(key);
      return state === undefined ? { kind: 'missing' } : { kind: 'register', ...registerView(state) };
    },
    async put(key, value, options): Promise<ReplicaWritten> {
      calls.push({ put: key, value, ...options });
      const state = registers.get(key) ?? emptyRegister;
      const { state: next } = applyWrite(state, { node, context: options.context ?? state.clock, value, timestamp: { wallMs: 1, logical: 0, node }, lastWriterWins: options.lastWriterWins, key });
      registers.set(key, next);
      return { context: next.clock };
    },
    async append() {
      throw new ReplicaError('KV_COMMAND_INVALID', 'append-only sets are a multi-leader feature');
    },
    status: () => ({ id: 'a' }),
  };
  return backend;
}

const request = (method: string, pathAndQuery: string, body = '', headers: KvRequest['headers'] = {}): KvRequest => {
  const url = new URL(pathAndQuery, 'http://peer');
  return { method, path: url.pathname, query: url.searchParams, headers, body };
};

describe('the key-value API in the multi-leader and leaderless modes', () => {
  it('writes and reads a value with its context', async () => {
    const backend = registerBackend();
    const written = await handleKvRequest(backend, request('PUT', '/v1/kv/greeting?w=3&n=3', 'hello'));
    expect(written).toMatchObject({ status: 200, body: { context: expect.any(String) } });
    expect(backend.calls[0]).toMatchObject({ put: 'greeting', value: 'hello', quorum: 3, replicas: 3, lastWriterWins: false });
    const read = await handleKvRequest(backend, request('GET', '/v1/kv/greeting?r=1&n=2'));
    expect(read).toMatchObject({ status: 200, body: { key: 'greeting', value: 'hello', values: ['hello'], conflict: false } });
    expect(backend.calls[1]).toMatchObject({ get: 'greeting', quorum: 1, replicas: 2, local: false });
  });

  it('returns concurrent writes as siblings, and a write with their context resolves them', async () => {
    const backend = registerBackend();
    backend.writeAs('a');
    await handleKvRequest(backend, request('PUT', '/v1/kv/k', 'one'));
    // A second replica's write that had not seen the first: a concurrent sibling.
    const other = applyWrite(emptyRegister, { node: 'b', context: {}, value: 'two', timestamp: { wallMs: 1, logical: 0, node: 'b' }, lastWriterWins: false, key: 'k' }).state;
    backend.registers.set('k', mergeRegisters(backend.registers.get('k')!, other));
    const read = await handleKvRequest(backend, request('GET', '/v1/kv/k'));
    expect(read!.body).toMatchObject({ values: ['one', 'two'], conflict: true });
    expect(read!.body).not.toHaveProperty('value');
    const context = (read!.body as { context: string }).context;
    await handleKvRequest(backend, request('PUT', '/v1/kv/k', 'merged', { 'x-nines-context': context }));
    expect((await handleKvRequest(backend, request('GET', '/v1/kv/k')))!.body).toMatchObject({ value: 'merged', values: ['merged'] });
  });

  it('a deleted key reads as not found, with the context of the deletion', async () => {
    const backend = registerBackend();
    await handleKvRequest(backend, request('PUT', '/v1/kv/k', 'v'));
    await handleKvRequest(backend, request('DELETE', '/v1/kv/k'));
    const read = await handleKvRequest(backend, request('GET', '/v1/kv/k'));
    expect(read).toMatchObject({ status: 404, body: { error: { code: 'KEY_NOT_FOUND' }, context: expect.any(String) } });
    expect((await handleKvRequest(backend, request('GET', '/v1/kv/never')))!.status).toBe(404);
  });

  it('refuses bad input with a clear error and never reaches the store', async () => {
    const backend = registerBackend();
    const cases: Array<[KvRequest, number, RegExp]> = [
      [request('GET', '/v1/kv/k?r=0'), 400, /positive number of replicas/],
      [request('GET', '/v1/kv/k?consistency=linearizable'), 400, /quorum .* or local/],
      [request('PUT', '/v1/kv/k?lww=maybe', 'v'), 400, /true or false/],
      [request('PUT', '/v1/kv/k?context=%%%', 'v'), 400, /not valid percent-encoding|not one this API issued/],
      [request('PUT', `/v1/kv/k?context=${Buffer.from('{"a":0}').toString('base64url')}`, 'v'), 400, /pass back the token/],
      [request('POST', '/v1/kv/k/cas', '{}'), 400, /compare-and-set needs single-leader/],
      [request('POST', '/v1/kv/k/append', 'x'), 400, /multi-leader feature/],
      [request('PATCH', '/v1/kv/k'), 405, /not a key-value method/],
      [request('GET', '/v1/kv/'), 400, /key is empty/],
    ];
    for (const [input, status, message] of cases) {
      const response = await handleKvRequest(backend, input);
      expect(response?.status, input.method + ' ' + input.path).toBe(status);
      expect((response!.body as { error: { message: string } }).error.message).toMatch(message);
    }
    expect(backend.registers.size).toBe(0);
  });

  it('passes the replica\'s own error codes through one status table', async () => {
    const backend = registerBackend();
    backend.put = async () => {
      throw new ReplicaError('KV_UNAVAILABLE', 'only 1 of 2 replicas answered');
    };
    expect(await handleKvRequest(backend, request('PUT', '/v1/kv/k', 'v'))).toMatchObject({ status: 503, headers: { 'retry-after': '1' } });
    backend.put = async () => {
      throw new ReplicaError('KV_TOO_MANY_SIBLINGS', 'resolve them');
    };
    expect((await handleKvRequest(backend, request('PUT', '/v1/kv/k', 'v')))!.status).toBe(409);
  });

  it('multi-leader: session tokens go out on every answer and come back on reads', async () => {
    const backend = registerBackend('multi-leader');
    const applied: VersionVector = { a: 3 };
    backend.put = async () => ({ context: { a: 3 }, session: applied });
    backend.get = async (_key, options) => {
      backend.calls.push(options);
      return { kind: 'set', elements: [{ id: 'a:1', value: 'hi', timestamp: { wallMs: 1, logical: 0, node: 'a' } }], session: applied };
    };
    const written = await handleKvRequest(backend, request('PUT', '/v1/kv/k', 'v'));
    expect(written!.headers['x-nines-session']).toBe(encodeVector(applied));
    const read = await handleKvRequest(backend, request('GET', '/v1/kv/k?consistency=local', '', { 'x-nines-session': encodeVector(applied) }));
    expect(read).toMatchObject({ status: 200, body: { elements: [{ value: 'hi' }] } });
    expect(backend.calls.at(-1)).toMatchObject({ session: applied, local: true });
    expect((await handleKvRequest(backend, request('GET', '/v1/kv/k?r=2')))).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/leaderless settings/) } } });
    const status = await handleKvRequest(backend, request('GET', '/v1/cluster/status'));
    expect(status!.body).toMatchObject({ mode: 'multi-leader', id: 'a' });
  });
});
