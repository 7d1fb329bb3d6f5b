import { afterAll, describe, expect, it } from 'vitest';
import { Command, CommanderError } from 'commander';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseListenAddress, parseMulticastAddress, registerNode, settleRoles } from '../../src/cli/node.js';
import { formatRoutingTable, registerPeers } from '../../src/cli/peers.js';
import { registerTracker } from '../../src/cli/tracker.js';
import { initCluster } from '../../src/p2p/identity/index.js';
import { removeTemporaryDirectories, temporaryDirectory } from '../net/helpers.js';

afterAll(removeTemporaryDirectories);

async function run(args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  const program = new Command('nines').exitOverride().configureOutput({ writeOut: (text) => (out += text), writeErr: (text) => (err += text) });
  registerNode(program);
  registerTracker(program);
  registerPeers(program, { write: (text) => (out += text) });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, err, exitCode: 0 };
  } catch (error) {
    if (error instanceof CommanderError) return { out, err, exitCode: error.exitCode };
    throw error;
  }
}

const nodeId = 'ab'.repeat(20);

describe('nines node, nines tracker and nines peers refuse bad input clearly', () => {
  it('parses listen and multicast addresses, refusing malformed ones', () => {
    expect(parseListenAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('[::1]:4000')).toEqual({ host: '::1', port: 4000 });
    expect(() => parseListenAddress('127.0.0.1')).toThrow(/expected host:port/);
    expect(() => parseListenAddress('127.0.0.1:70000')).toThrow(/from 0 to 65535/);
    expect(parseMulticastAddress('239.255.90.9:7409')).toEqual({ group: '239.255.90.9', port: 7409 });
    expect(() => parseMulticastAddress('239.255.90.9')).toThrow(/expected group:port/);
  });

  it('names the flag and the problem for a bad contact, listen address or role', async () => {
    const dataDir = temporaryDirectory();
    const noId = await run(['node', '--data-dir', dataDir, '--bootstrap', '127.0.0.1:4000']);
    expect(noId.exitCode).toBe(1);
    expect(noId.err).toContain("option '--bootstrap <host:port#id>' argument '127.0.0.1:4000' is invalid");
    expect(noId.err).toContain('has no node id');
    const shortId = await run(['tracker', '--data-dir', dataDir, '--tracker', '127.0.0.1:4000#abc']);
    expect(shortId.err).toMatch(/node id must be 40 hexadecimal characters/);
    const listen = await run(['node', '--data-dir', dataDir, '--listen', 'localhost']);
    expect(listen.err).toMatch(/expected host:port/);
    const role = await run(['node', '--data-dir', dataDir, '--role', 'leader']);
    expect(role.err).toMatch(/Allowed choices are peer, tracker/);
    const missing = await run(['node', `--bootstrap=127.0.0.1:4000#${nodeId}`]);
    expect(missing.err).toContain("required option '--data-dir <dir>' not specified");
  });

  it('runs every role unless flags choose some, and refuses --dht-only with a role flag', async () => {
    const all = { storage: true, compute: true, gateway: true, role: 'tracker', allRolesByDefault: true };
    expect(settleRoles({ role: 'peer' }, false)).toEqual(all);
    // --role peer on its own only says "not a tracker".
    expect(settleRoles({ role: 'peer' }, true)).toEqual({ ...all, role: 'peer' });
    expect(settleRoles({ role: 'peer', compute: true }, false)).toEqual({ storage: false, compute: true, gateway: false, role: 'peer', allRolesByDefault: false });
    expect(settleRoles({ role: 'tracker' }, true)).toEqual({ storage: false, compute: false, gateway: false, role: 'tracker', allRolesByDefault: false });
    expect(settleRoles({ role: 'peer', dhtOnly: true }, false)).toEqual({ storage: false, compute: false, gateway: false, role: 'peer', allRolesByDefault: false });
    expect(() => settleRoles({ role: 'tracker', dhtOnly: true, gateway: true }, true)).toThrow(/--dht-only runs a bare DHT peer, without roles, but --gateway, --role tracker ask for one: drop --dht-only, or the role flags/);
    const refused = await run(['node', '--data-dir', temporaryDirectory(), '--dht-only', '--storage']);
    expect(refused.exitCode).toBe(1);
    expect(refused.err).toMatch(/--dht-only runs a bare DHT peer.*--storage asks for one/);
  });

  it('says how to get an identity when the data directory has none and no CA key is at hand', async () => {
    const dataDir = temporaryDirectory();
    const none = await run(['node', '--data-dir', dataDir]);
    expect(none.exitCode).toBe(1);
    expect(none.err).toMatch(/has no peer identity.*nines cluster issue --cluster-dir <cluster dir> --data-dir/);
    const clusterDir = join(temporaryDirectory(), 'cluster');
    await initCluster(clusterDir, { name: 'test' });
    rmSync(join(clusterDir, 'ca-key.pem'));
    const noKey = await run(['node', '--data-dir', dataDir, '--cluster-dir', clusterDir]);
    expect(noKey.err).toMatch(/holds no CA key.*nines cluster issue/);
  });

  it('says there is no running node when node.json is missing', async () => {
    const dataDir = temporaryDirectory();
    const result = await run(['peers', '--data-dir', dataDir]);
    expect(result.exitCode).toBe(1);
    expect(result.err).toContain(`no running node in ${dataDir}`);
    expect(result.err).toContain(`nines node --data-dir ${dataDir}`);
  });

  it('prints the routing table bucket by bucket', () => {
    const text = formatRoutingTable(
      {
        nodeId,
        contact: `127.0.0.1:4000#${nodeId}`,
        size: 2,
        buckets: [
          { index: 0, contacts: [{ nodeId: '00'.repeat(20), host: '127.0.0.1', port: 4001, lastSeenMs: 10_000 }] },
          { index: 3, contacts: [{ nodeId: 'bf'.repeat(20), host: '127.0.0.1', port: 4002, lastSeenMs: null }] },
        ],
      },
      12_500,
    );
    expect(text).toBe(
      [
        `node ${nodeId} at 127.0.0.1:4000#${nodeId}: 2 peers in 2 buckets`,
        'bucket 0 (ids sharing 0 leading bits with ours), 1 peer:',
        `  ${'00'.repeat(20)}  127.0.0.1         4001  last seen 2.5 s ago`,
        'bucket 3 (ids sharing 3 leading bits with ours), 1 peer:',
        `  ${'bf'.repeat(20)}  127.0.0.1         4002  last seen unknown`,
        '',
      ].join('\n'),
    );
  });
});
