/**
 * The measuring parts of a chaos run against a real local swarm of three peers (run `npm run
 * build` first): the observer finds the storage leader; killing it opens a failover whose MTTR
 * ends once a new leader is known and a write went through; and a swarm reached only by
 * --target addresses has its peers killed and restarted through its own local-swarm control.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterObserver } from '../../src/chaos/observer.js';
import { TargetSwarm } from '../../src/chaos/index.js';
import { LocalSwarm } from '../../src/node/local-swarm/index.js';
import { checkBuilt, waitUntil } from '../node/swarm.js';

const root = mkdtempSync(join(tmpdir(), 'nines-chaos-failover-'));
let swarm: LocalSwarm;

beforeAll(async () => {
  checkBuilt();
  swarm = await LocalSwarm.start({ peers: 3, root, clusterDir: join(root, 'cluster'), replication: 'single-leader', redundancy: 'hot-hot', open: false, threads: 1 });
}, 90_000);

afterAll(async () => {
  await swarm?.stop();
  rmSync(root, { recursive: true, force: true });
}, 30_000);

describe('ClusterObserver', () => {
  it('measures a leader failover from the kill to a new leader taking writes', async () => {
    const livePeers = () => swarm.peers().filter((peer) => peer.state === 'up');
    const observer = new ClusterObserver({ livePeers, apiKey: swarm.apiKey, runTag: 'failover-test', acks: 'quorum', now: Date.now });
    await waitUntil(async () => {
      await observer.pollOnce();
      return observer.leader !== undefined;
    }, 15_000, () => 'no peer named a leader');
    expect(observer.hasLeaders).toBe(true);
    const oldLeader = observer.leader!;
    const victim = swarm.peers().find((peer) => peer.nodeId === oldLeader)!;
    observer.start();
    const killAtMs = Date.now();
    await swarm.kill(victim.index);
    observer.openFailover(killAtMs, oldLeader);
    await waitUntil(async () => observer.measures()[0].mttrMs !== null, 20_000, () => JSON.stringify(observer.measures()));
    await observer.stop();
    const [measure] = observer.measures();
    expect(measure.newLeader).not.toBe(oldLeader);
    expect(swarm.peers().some((peer) => peer.nodeId === measure.newLeader)).toBe(true);
    expect(measure.newLeaderAtMs!).toBeGreaterThan(killAtMs);
    expect(measure.firstWriteAtMs!).toBeGreaterThan(killAtMs);
    expect(measure.mttrMs).toBe(Math.max(measure.newLeaderAtMs!, measure.firstWriteAtMs!) - killAtMs);
    const observations = observer.observations();
    expect(observations.at(-1)).toMatchObject({ leader: measure.newLeader });
    expect(observations.at(-1)!.term).toBeGreaterThan(observations[0].term);
    await swarm.restart(victim.index);
  }, 60_000);
});

describe('TargetSwarm', () => {
  it('refuses a target that is not loopback before sending anything', async () => {
    await expect(TargetSwarm.connect(['http://192.0.2.1:8080'], undefined)).rejects.toThrow(/not a loopback http address/);
  });

  it('kills and restarts a peer of a swarm started by nines start, through another target', async () => {
    const peers = swarm.peers();
    const target = await TargetSwarm.connect(peers.map((peer) => `${peer.api}/v1`), swarm.apiKey);
    expect(target.killRefusal).toBeUndefined();
    expect(target.gateways()).toEqual(peers.map((peer) => peer.api));
    const victim = target.peers().find((peer) => peer.nodeId === peers[2].nodeId)!;
    await target.kill(victim.index);
    expect(swarm.peers()[2].state).toBe('down');
    expect(target.peers()[victim.index].state).toBe('down');
    await target.restart(victim.index);
    expect(swarm.peers()[2].state).toBe('up');
  }, 90_000);

  it('reports why it cannot kill when the target does not show a local swarm (a wrong key here)', async () => {
    const target = await TargetSwarm.connect([swarm.peers()[0].api], 'nines-not-a-key');
    expect(target.killRefusal).toMatch(/did not show its swarm.*401/);
    await expect(target.kill(0)).rejects.toThrow(/cannot be killed/);
  });
});
