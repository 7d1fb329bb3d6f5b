/**
 * LocalSwarm with real peer processes (run `npm run build` first: the peers run dist/): three
 * peers come up with every role; a peer killed through the control server is gone at once and
 * its API refuses connections; restarted, it is the same peer (node ID, ports, data) with a new
 * process; the peers carry the control server's address and token in their environment; stop()
 * ends every process and closes the control server.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSwarm, type LocalPeerView } from '../../../src/node/local-swarm/index.js';
import { checkBuilt, waitUntil } from '../swarm.js';

const root = mkdtempSync(join(tmpdir(), 'nines-local-swarm-'));
const exits: string[] = [];
let swarm: LocalSwarm;

beforeAll(async () => {
  checkBuilt();
  swarm = await LocalSwarm.start({
    peers: 3, root, clusterDir: join(root, 'cluster'), replication: 'single-leader', redundancy: 'hot-hot', open: false, threads: 1,
    onPeerExit: (peer, exit) => exits.push(`${peer.index} ${exit.signal ?? exit.code} ${exit.expected}`),
  });
}, 90_000);

afterAll(async () => {
  await swarm?.stop();
  rmSync(root, { recursive: true, force: true });
}, 30_000);

function control(method: string, path: string): Promise<Response> {
  return fetch(`${swarm.control.url}${path}`, { method, headers: { authorization: `Bearer ${swarm.control.token}` } });
}

async function kv(peer: LocalPeerView, method: 'GET' | 'PUT', key: string, value?: string): Promise<Response> {
  return fetch(`${peer.api}/v1/kv/${encodeURIComponent(key)}${method === 'GET' ? '?consistency=linearizable' : ''}`, { method, headers: { authorization: `Bearer ${swarm.apiKey}` }, ...(value !== undefined && { body: value }) });
}

describe('LocalSwarm', () => {
  it('starts every peer with every role, an API key, and the control server in each peer\'s environment', async () => {
    const peers = swarm.peers();
    expect(peers.map((peer) => peer.state)).toEqual(['up', 'up', 'up']);
    expect(new Set(peers.map((peer) => peer.pid)).size).toBe(3);
    expect(swarm.apiKey).toMatch(/^nines-/);
    for (const peer of peers) {
      expect(peer.contact).toMatch(new RegExp(`^127\\.0\\.0\\.1:\\d+#${peer.nodeId}$`));
      expect((await fetch(`${peer.api}/healthz`)).status).toBe(200);
      const environment = readFileSync(`/proc/${peer.pid}/environ`, 'utf8').split('\0');
      expect(environment).toContain(`NINES_LOCAL_SWARM_CONTROL=${swarm.control.url}`);
      expect(environment).toContain(`NINES_LOCAL_SWARM_TOKEN=${swarm.control.token}`);
    }
    const listed = (await (await control('GET', '/peers')).json()) as { peers: LocalPeerView[] };
    expect(listed.peers).toEqual(peers);
  });

  it('kills a peer through the control server (SIGKILL) and restarts it as the same peer, with its data', async () => {
    const before = swarm.peers()[1];
    expect((await kv(before, 'PUT', 'local-swarm/kept', 'across a restart')).status).toBe(200);
    const killed = await control('POST', `/peers/${before.nodeId}/kill`);
    expect(killed.status).toBe(200);
    expect(((await killed.json()) as { peer: LocalPeerView }).peer).toMatchObject({ index: 1, state: 'down', pid: null });
    expect(exits).toContain('1 SIGKILL true');
    await expect(fetch(`${before.api}/healthz`)).rejects.toThrow();
    // The two others are a majority: the store takes writes again (once they elect a leader, if it was peer 2).
    await waitUntil(async () => (await kv(swarm.peers()[0], 'PUT', 'local-swarm/while-down', 'yes')).status === 200, 15_000, () => 'no write went through with peer 2 down');

    const restarted = await control('POST', '/peers/1/restart');
    expect(restarted.status).toBe(200);
    const after = ((await restarted.json()) as { peer: LocalPeerView }).peer;
    expect(after).toMatchObject({ index: 1, nodeId: before.nodeId, contact: before.contact, api: before.api, state: 'up' });
    expect(after.pid).not.toBe(before.pid);
    const read = await kv(after, 'GET', 'local-swarm/kept');
    expect(read.status).toBe(200);
    expect(((await read.json()) as { value: string }).value).toBe('across a restart');
    // Every run of the peer appends to the same log.
    expect(readFileSync(swarm.logPath(1), 'utf8').match(/"msg":"listening"/g)!.length).toBe(2);
  }, 90_000);

  it('restarts a running peer by stopping it first, and refuses a peer it does not have', async () => {
    const before = swarm.peers()[2];
    const after = await swarm.restart(2);
    expect(after).toMatchObject({ nodeId: before.nodeId, state: 'up' });
    expect(after.pid).not.toBe(before.pid);
    expect(exits).toContain('2 0 true');
    await expect(swarm.kill(3)).rejects.toThrow(/no peer 3 in this swarm/);
  }, 90_000);

  it('stops every peer and closes the control server', async () => {
    const pids = swarm.peers().map((peer) => peer.pid!);
    await swarm.stop();
    expect(swarm.peers().map((peer) => peer.state)).toEqual(['down', 'down', 'down']);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    await expect(control('GET', '/peers')).rejects.toThrow();
    await expect(swarm.restart(0)).rejects.toThrow(/stopping/);
  }, 30_000);
});
