import { describe, expect, it } from 'vitest';
import { handleKvRequest, kvBodyBytesMax, sessionHeader, type KvBackend, type KvRequest } from '../../src/api/kv-routes.js';
import { KvUnavailableError } from '../../src/node/raft/errors.js';
import type { KvWrite } from '../../src/node/raft/raft-peer.js';
import type { RaftStatus } from '../../src/replication/leader/index.js';

/** A backend over a plain map, recording what it was asked. */
function mapBackend(): KvBackend & { calls: unknown[]; values: Map<string, string>; index: number } {
  const values = new Map<string, string>();
  const backend = {
    calls: [] as unknown[],
    values,
    index: 0,
    async write(command: KvWrite, acks?: string) {
      backend.calls.push({ command, acks });
      backend.index++;
      const previous = values.get(command.key) ?? null;
      if (command.op === 'put') values.set(command.key, command.value);
      if (command.op === 'delete') values.delete(command.key);
      if (command.op === 'cas') {
        const succeeded = previous === command.expected;
        if (succeeded && command.value !== null) values.set(command.key, command.value);
        return { index: backend.index, result: { op: 'cas' as const, succeeded, current: succeeded ? command.value : previous } };
      }
      return { index: backend.index, result: { op: command.op, previous } };
    },
    async read(key: string, consistency: string, session?: number) {
      backend.calls.push({ key, consistency, session });
      return { value: values.get(key) ?? null, index: backend.index };
    },
    status: () => ({ id: 'a', role: 'leader' }) as unknown as RaftStatus,
  };
  return backend;
}

const request = (method: string, pathAndQuery: string, body = '', headers: KvRequest['headers'] = {}): KvRequest => {
  const url = new URL(pathAndQuery, 'http://peer');
  return { method, path: url.pathname, query: url.searchParams, headers, body };
};

describe('the key-value HTTP routes', () => {
  it('puts, reads with each consistency, compares-and-sets and deletes, with session tokens', async () => {
    const backend = mapBackend();
    const put = await handleKvRequest(backend, request('PUT', '/v1/kv/gen%2F1?acks=all', 'In the beginning'));
    expect(put).toMatchObject({ status: 200, headers: { [sessionHeader]: '1' }, body: { index: 1, result: { op: 'put', previous: null } } });
    expect(backend.calls.at(-1)).toEqual({ command: { op: 'put', key: 'gen/1', value: 'In the beginning' }, acks: 'all' });
    const read = await handleKvRequest(backend, request('GET', '/v1/kv/gen%2F1?consistency=session', '', { [sessionHeader]: '1' }));
    expect(read).toMatchObject({ status: 200, body: { key: 'gen/1', value: 'In the beginning' } });
    expect(backend.calls.at(-1)).toEqual({ key: 'gen/1', consistency: 'session', session: 1 });
    await handleKvRequest(backend, request('GET', '/v1/kv/gen%2F1'));
    expect(backend.calls.at(-1)).toMatchObject({ consistency: 'linearizable' });
    const cas = await handleKvRequest(backend, request('POST', '/v1/kv/gen%2F1/cas', JSON.stringify({ expected: 'In the beginning', value: 'Amen' })));
    expect(cas).toMatchObject({ status: 200, body: { result: { op: 'cas', succeeded: true, current: 'Amen' } } });
    const deleted = await handleKvRequest(backend, request('DELETE', '/v1/kv/gen%2F1'));
    expect(deleted).toMatchObject({ status: 200, body: { result: { op: 'delete', previous: 'Amen' } } });
    const missing = await handleKvRequest(backend, request('GET', '/v1/kv/gen%2F1?consistency=stale'));
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'KEY_NOT_FOUND' } } });
  });

  it('refuses bad input with 4xx and a message that says what to send', async () => {
    const backend = mapBackend();
    const cases: [KvRequest, number, RegExp][] = [
      [request('GET', '/v1/kv/k?consistency=eventual'), 400, /consistency must be linearizable, session or stale/],
      [request('PUT', '/v1/kv/k?acks=most', 'v'), 400, /acks must be leader, quorum or all/],
      [request('GET', '/v1/kv/k?consistency=session&session=-3'), 400, /session token must be a log index/],
      [request('GET', '/v1/kv/'), 400, /the key is empty/],
      [request('GET', `/v1/kv/${'k'.repeat(1025)}`), 400, /over 1024 bytes/],
      [request('GET', '/v1/kv/%E0%A4%A'), 400, /percent-encoding/],
      [request('POST', '/v1/kv/k/cas', '{"expected": 1}'), 400, /"expected" and "value"/],
      [request('POST', '/v1/kv/k/cas', 'not json'), 400, /must be JSON/],
      [request('POST', '/v1/kv/k', 'v'), 405, /POST is only for/],
      [request('PATCH', '/v1/kv/k', 'v'), 405, /not a key-value method/],
      [request('PUT', '/v1/kv/k', 'x'.repeat(kvBodyBytesMax + 1)), 413, /over/],
    ];
    for (const [input, status, message] of cases) {
      const response = await handleKvRequest(backend, input);
      expect(response?.status, `${input.method} ${input.path}`).toBe(status);
      expect((response?.body as { error: { message: string } }).error.message).toMatch(message);
    }
    expect(backend.calls).toEqual([]);
    expect(await handleKvRequest(backend, request('GET', '/v1/models'))).toBeUndefined();
  });

  it('maps an unavailable store to 503 with Retry-After and the leader it knows', async () => {
    const backend = mapBackend();
    backend.write = async () => {
      throw new KvUnavailableError('no leader is known right now', 'b'.repeat(40));
    };
    const response = await handleKvRequest(backend, request('PUT', '/v1/kv/k', 'v'));
    expect(response).toMatchObject({ status: 503, headers: { 'retry-after': '1' }, body: { error: { code: 'KV_UNAVAILABLE', leader: 'b'.repeat(40) } } });
  });
});
