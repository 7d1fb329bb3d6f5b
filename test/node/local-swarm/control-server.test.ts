/**
 * The control server on its own, with fake actions: the bearer token, the routes, peers named
 * by index or node ID, and errors mapped to statuses. The real swarm behind it is tested in
 * local-swarm.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlServer } from '../../../src/node/local-swarm/control-server.js';
import { LocalPeerBusyError, type LocalPeerView } from '../../../src/node/local-swarm/index.js';

const peers: LocalPeerView[] = [0, 1, 2].map((index) => ({ index, nodeId: String(index + 1).repeat(40), contact: `127.0.0.1:${7000 + index}#${String(index + 1).repeat(40)}`, api: `http://127.0.0.1:${8000 + index}`, state: 'up', pid: 100 + index }));
const calls: string[] = [];
let server: ControlServer;

beforeAll(async () => {
  server = await ControlServer.start({
    peers: () => peers,
    kill: async (index) => {
      calls.push(`kill ${index}`);
      return { ...peers[index], state: 'down', pid: null };
    },
    restart: async (index) => {
      calls.push(`restart ${index}`);
      if (index === 2) throw new LocalPeerBusyError('peer 3 is already starting; wait until it is up');
      return peers[index];
    },
  });
});

afterAll(() => server.close());

/** `token` null sends no Authorization header at all. */
function call(method: string, path: string, token: string | null = server.token, body?: string) {
  return fetch(`${server.url}${path}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` }, ...(body !== undefined && { body }) });
}

describe('ControlServer', () => {
  it('listens on loopback only, with a long random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.token.length).toBeGreaterThanOrEqual(32);
  });

  it('refuses a request without the token, or with another one', async () => {
    for (const token of [null, 'not-the-token', `${server.token}x`]) {
      const response = await call('GET', '/peers', token);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    }
    expect(calls).toEqual([]);
  });

  it('lists the peers', async () => {
    const response = await call('GET', '/peers');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ peers });
  });

  it('kills and restarts a peer named by its index or its node ID', async () => {
    const killed = await call('POST', '/peers/1/kill');
    expect(killed.status).toBe(200);
    expect(((await killed.json()) as { peer: LocalPeerView }).peer.state).toBe('down');
    expect((await call('POST', `/peers/${peers[0].nodeId}/restart`)).status).toBe(200);
    expect(calls.splice(0)).toEqual(['kill 1', 'restart 0']);
  });

  it('answers an unknown peer 404, a busy one 409, a wrong method 405, an unknown route 404 and a body 413', async () => {
    const unknown = await call('POST', '/peers/7/kill');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('LOCAL_PEER_NOT_FOUND');
    expect((await call('POST', `/peers/${'f'.repeat(40)}/kill`)).status).toBe(404);
    const busy = await call('POST', '/peers/2/restart');
    expect(busy.status).toBe(409);
    expect(((await busy.json()) as { error: { message: string } }).error.message).toMatch(/already starting/);
    expect((await call('GET', '/peers/1/kill')).status).toBe(405);
    expect((await call('POST', '/peers')).status).toBe(405);
    expect((await call('GET', '/swarm')).status).toBe(404);
    expect((await call('POST', '/peers/1/kill', server.token, 'x'.repeat(10_000))).status).toBe(413);
    expect(calls.splice(0)).toEqual(['restart 2']);
  });
});
