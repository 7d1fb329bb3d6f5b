import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { mountAdminRoutes, sinceOf, type AdminBackend } from '../../../src/api/admin/routes.js';
import { ApiKeyRing } from '../../../src/api/openai/auth.js';

const nodeId = 'a'.repeat(40);
const nowMs = 1_800_000_000_000;

function appWith(backend: Partial<AdminBackend>, ring: ApiKeyRing | 'no keys' = new ApiKeyRing({ keys: new Map([['sk-good', { name: 'ops' }]]) })) {
  const auth = ring === 'no keys' ? undefined : ring;
  const app = Fastify();
  const full: AdminBackend = {
    swarm: async () => ({ peers: [] }),
    peerStatus: async (id) => ({ id }),
    peerRoutingTable: async (id) => ({ nodeId: id, buckets: [] }),
    ...backend,
  };
  mountAdminRoutes(app, { backend: full, auth, now: () => nowMs });
  return app;
}

const key = { authorization: 'Bearer sk-good' };

describe('the admin routes', () => {
  it('refuse a request without a valid key, and every request when the cluster has no keys', async () => {
    const app = appWith({});
    expect((await app.inject({ url: '/v1/admin/swarm' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/v1/admin/swarm', headers: { authorization: 'Bearer sk-bad' } })).json().error.code).toBe('ADMIN_UNAUTHORIZED');
    expect((await app.inject({ url: '/v1/admin/swarm', headers: key })).statusCode).toBe(200);
    const closed = await appWith({}, 'no keys').inject({ url: '/v1/admin/swarm', headers: key });
    expect(closed.statusCode).toBe(401);
    expect(closed.json().error.message).toContain('nines cluster key add');
  });

  it('follow a live ring: closed until a key is added, then the key works, and a revoked key is refused at once', async () => {
    const ring = new ApiKeyRing({ closed: 'no keys yet' });
    const app = appWith({}, ring);
    const closed = await app.inject({ url: '/v1/admin/swarm', headers: key });
    expect(closed.statusCode).toBe(401);
    expect(closed.json().error.code).toBe('ADMIN_NO_KEYS');
    ring.replace({ keys: new Map([['sk-good', { name: 'ops' }]]) });
    expect((await app.inject({ url: '/v1/admin/swarm', headers: key })).statusCode).toBe(200);
    ring.replace({ keys: new Map([['sk-newer', { name: 'ops' }]]) });
    expect((await app.inject({ url: '/v1/admin/swarm', headers: key })).json().error.code).toBe('ADMIN_UNAUTHORIZED');
  });

  it('let an open cluster in without a key', async () => {
    const app = appWith({}, new ApiKeyRing({ open: true }));
    expect((await app.inject({ url: '/v1/admin/swarm' })).statusCode).toBe(200);
  });

  it('check node IDs and map unknown and unreachable peers to 404 and 503', async () => {
    const app = appWith({
      peerStatus: async () => {
        throw Object.assign(new Error('gone'), { code: 'ADMIN_PEER_UNREACHABLE' });
      },
      peerRoutingTable: async () => {
        throw Object.assign(new Error('who?'), { code: 'ADMIN_PEER_UNKNOWN' });
      },
    });
    expect((await app.inject({ url: '/v1/admin/peers/xyz/status', headers: key })).statusCode).toBe(400);
    const unreachable = await app.inject({ url: `/v1/admin/peers/${nodeId}/status`, headers: key });
    expect(unreachable.statusCode).toBe(503);
    expect(unreachable.headers['retry-after']).toBe('1');
    expect((await app.inject({ url: `/v1/admin/peers/${nodeId}/routing-table`, headers: key })).statusCode).toBe(404);
  });

  it('pass since and slo through, validated', async () => {
    const seen: { sinceMs: number; sloTarget: number }[] = [];
    const app = appWith({ availability: async (options) => (seen.push(options), { ok: true }) });
    expect((await app.inject({ url: '/v1/admin/availability?since=30m&slo=0.99', headers: key })).statusCode).toBe(200);
    expect(seen[0]).toEqual({ sinceMs: nowMs - 30 * 60_000, sloTarget: 0.99 });
    expect((await app.inject({ url: '/v1/admin/availability?slo=1.5', headers: key })).statusCode).toBe(400);
    expect((await app.inject({ url: '/v1/admin/availability?since=yesterday', headers: key })).json().error.message).toContain('duration');
    expect((await appWith({}).inject({ url: '/v1/admin/availability', headers: key })).statusCode).toBe(404);
  });

  it('serve request series only on gateways, within the seconds limit', async () => {
    const app = appWith({ requests: (seconds) => Array.from({ length: seconds }, (_, index) => ({ atMs: index })) });
    expect((await app.inject({ url: '/v1/admin/requests?seconds=3', headers: key })).json().series).toHaveLength(3);
    expect((await app.inject({ url: '/v1/admin/requests?seconds=601', headers: key })).statusCode).toBe(400);
    expect((await appWith({}).inject({ url: '/v1/admin/requests', headers: key })).json().error.code).toBe('ADMIN_NOT_A_GATEWAY');
  });

  it('forward kill and restart only on a local swarm', async () => {
    const actions: string[] = [];
    const app = appWith({ localSwarm: { kill: async (id) => void actions.push(`kill ${id}`), restart: async (id) => void actions.push(`restart ${id}`) } });
    expect((await app.inject({ method: 'POST', url: `/v1/admin/local-swarm/peers/${nodeId}/kill`, headers: key })).json()).toEqual({ ok: true });
    await app.inject({ method: 'POST', url: `/v1/admin/local-swarm/peers/${nodeId}/restart`, headers: key });
    expect(actions).toEqual([`kill ${nodeId}`, `restart ${nodeId}`]);
    expect((await appWith({}).inject({ method: 'POST', url: `/v1/admin/local-swarm/peers/${nodeId}/kill`, headers: key })).statusCode).toBe(404);
  });
});

describe('sinceOf', () => {
  it('reads durations and past times, and refuses the rest', () => {
    expect(sinceOf(undefined, nowMs)).toBe(nowMs - 86_400_000);
    expect(sinceOf('90s', nowMs)).toBe(nowMs - 90_000);
    expect(sinceOf('2d', nowMs)).toBe(nowMs - 2 * 86_400_000);
    expect(sinceOf(String(nowMs - 5), nowMs)).toBe(nowMs - 5);
    expect(() => sinceOf(String(nowMs + 5), nowMs)).toThrow(/past time/);
    expect(() => sinceOf('-5m', nowMs)).toThrow();
  });
});
