import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, mountMetrics, type Metrics } from '../../../src/api/metrics/index.js';
import { raftLeader } from './fake-sources.js';
import { parseExposition, samplesOf, valueOf, type Exposition } from './prometheus-text.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** An app shaped like the peer's API: a key route with a parameter, the key-value wildcard, refusals, and routes added after the metrics. */
async function appWithMetrics(): Promise<{ app: FastifyInstance; metrics: Metrics }> {
  const metrics = createMetrics({ raft: raftLeader }, { processMetrics: false });
  // Long enough for a 10 KB key to match the key route's parameter (fastify's default is 100 characters).
  const server = Fastify({ logger: false, maxParamLength: 16 * 1024, forceCloseConnections: true });
  server.get('/v1/kv/:key', async (request) => ({ key: (request.params as { key: string }).key }));
  server.all('/v1/*', async (_request, reply) => reply.status(503).send({ error: 'no leader' }));
  mountMetrics(server, metrics);
  server.post('/v1/chat/completions', async (_request, reply) => reply.status(429).send({ error: 'slow down' }));
  server.get('/stream', async (_request, reply) => reply.header('content-type', 'text/event-stream').send(Readable.from(slowFrames())));
  server.get('/boom', async () => {
    throw new Error('boom');
  });
  await server.ready();
  app = server;
  return { app: server, metrics };
}

/** Three frames 40 ms apart, like tokens of a streamed completion. */
async function* slowFrames(): AsyncGenerator<string> {
  for (let index = 0; index < 3; index++) {
    await new Promise((resolve) => setTimeout(resolve, 40));
    yield `data: ${index}\n\n`;
  }
}

async function scrapeOver(server: FastifyInstance): Promise<Exposition> {
  const response = await server.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  return parseExposition(response.body);
}

describe('GET /metrics', () => {
  it('answers the text exposition format with prom-client\'s content type', async () => {
    const { app: server, metrics } = await appWithMetrics();
    const response = await server.inject({ method: 'GET', url: '/metrics' });
    expect(response.headers['content-type']).toBe(metrics.contentType);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = parseExposition(response.body);
    expect(text.help.get('nines_http_requests_total')).toMatch(/route pattern/);
    expect(text.type.get('nines_http_request_duration_seconds')).toBe('histogram');
    expect(valueOf(text, 'nines_raft_term')).toBe(7);
  });
});

describe('HTTP requests by route pattern and outcome', () => {
  it('counts requests by pattern, method, status class and outcome, and times them', async () => {
    const { app: server } = await appWithMetrics();
    for (const key of ['a', 'b', 'c']) expect((await server.inject({ method: 'GET', url: `/v1/kv/${key}` })).statusCode).toBe(200);
    expect((await server.inject({ method: 'PUT', url: '/v1/cluster/anything', payload: 'x', headers: { 'content-type': 'text/plain' } })).statusCode).toBe(503);
    expect((await server.inject({ method: 'POST', url: '/v1/chat/completions', payload: {} })).statusCode).toBe(429);
    expect((await server.inject({ method: 'GET', url: '/boom' })).statusCode).toBe(500);
    expect((await server.inject({ method: 'GET', url: '/nowhere/at/all' })).statusCode).toBe(404);
    const text = await scrapeOver(server);
    expect(valueOf(text, 'nines_http_requests_total', { route: '/v1/kv/:key', method: 'GET', status_class: '2xx', outcome: 'success' })).toBe(3);
    expect(valueOf(text, 'nines_http_requests_total', { route: '/v1/*', method: 'PUT', status_class: '5xx', outcome: 'unavailable' })).toBe(1);
    expect(valueOf(text, 'nines_http_requests_total', { route: '/v1/chat/completions', status_class: '4xx', outcome: 'rate_limited' })).toBe(1);
    expect(valueOf(text, 'nines_http_requests_total', { route: '/boom', outcome: 'server_error' })).toBe(1);
    expect(valueOf(text, 'nines_http_requests_total', { route: 'unmatched', status_class: '4xx', outcome: 'client_error' })).toBe(1);
    expect(valueOf(text, 'nines_http_request_duration_seconds_count', { route: '/v1/kv/:key', method: 'GET' })).toBe(3);
    expect(valueOf(text, 'nines_http_request_duration_seconds_bucket', { route: '/v1/kv/:key', method: 'GET', le: '+Inf' })).toBe(3);
    // The scrape that produced this text is counted once it has been answered.
    const again = await scrapeOver(server);
    expect(valueOf(again, 'nines_http_requests_total', { route: '/metrics', method: 'GET', outcome: 'success' })).toBe(1);
  });

  it('does not make a new label value for a path with a 10 KB key, nor for a strange method', async () => {
    const { app: server } = await appWithMetrics();
    await server.inject({ method: 'GET', url: '/v1/kv/short' });
    const routesBefore = new Set(samplesOf(await scrapeOver(server), 'nines_http_requests_total').map((sample) => sample.labels.route));
    const longKey = 'k'.repeat(10 * 1024);
    expect((await server.inject({ method: 'GET', url: `/v1/kv/${longKey}` })).statusCode).toBe(200);
    expect((await server.inject({ method: 'GET', url: `/v1/elsewhere/${longKey}` })).statusCode).toBe(503);
    expect((await server.inject({ method: 'GET', url: `/${longKey}` })).statusCode).toBe(404);
    expect((await server.inject({ method: 'PROPFIND', url: `/v1/kv/${longKey}` })).statusCode).toBe(404);
    const after = await scrapeOver(server);
    const routesAfter = new Set(samplesOf(after, 'nines_http_requests_total').map((sample) => sample.labels.route));
    expect([...routesAfter].every((route) => route.length < 64)).toBe(true);
    expect([...routesAfter].sort()).toEqual([...new Set([...routesBefore, '/metrics', '/v1/*', 'unmatched'])].sort());
    expect(valueOf(after, 'nines_http_requests_total', { route: '/v1/kv/:key', outcome: 'success' })).toBe(2);
    expect(samplesOf(after, 'nines_http_requests_total').some((sample) => sample.labels.route.includes('kkkk'))).toBe(false);
    expect(valueOf(after, 'nines_http_requests_total', { route: 'unmatched', method: 'other' })).toBe(1);
  });

  it('times a streamed response to its last byte', async () => {
    const { app: server } = await appWithMetrics();
    const response = await server.inject({ method: 'GET', url: '/stream' });
    expect(response.body).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\n');
    const text = await scrapeOver(server);
    expect(valueOf(text, 'nines_http_request_duration_seconds_count', { route: '/stream' })).toBe(1);
    expect(valueOf(text, 'nines_http_request_duration_seconds_sum', { route: '/stream' })).toBeGreaterThanOrEqual(0.1);
  });

  it('counts a stream the client stopped reading as cancelled, once', async () => {
    const { app: server } = await appWithMetrics();
    await server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = server.server.address() as { port: number };
    const controller = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/stream`, { signal: controller.signal });
    await response.body!.getReader().read();
    controller.abort();
    await expect.poll(async () => valueOf(await scrapeOver(server), 'nines_http_requests_total', { route: '/stream' }), { timeout: 2000 }).toBe(1);
    // The stream's generator finishing afterwards does not count the request again.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const text = await scrapeOver(server);
    expect(valueOf(text, 'nines_http_requests_total', { route: '/stream', status_class: '4xx', outcome: 'cancelled' })).toBe(1);
  });
});
