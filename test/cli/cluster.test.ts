import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerCluster } from '../../src/cli/cluster.js';
import { settleApiAuth } from '../../src/node/api-keys-file.js';
import { clusterPaths, identityPaths, loadIdentity } from '../../src/p2p/identity/index.js';
import { removeTemporaryDirectories, temporaryDirectory } from '../net/helpers.js';

afterAll(removeTemporaryDirectories);

/** Runs `nines <args>` with the cluster commands, capturing output instead of exiting. */
async function run(args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  const program = new Command('nines').exitOverride().configureOutput({ writeOut: (text) => (out += text), writeErr: (text) => (err += text) });
  registerCluster(program, { write: (text) => (out += text) });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, err, exitCode: 0 };
  } catch (error) {
    if (error instanceof CommanderError) return { out, err, exitCode: error.exitCode };
    throw error;
  }
}

describe('nines cluster', () => {
  it('init creates the CA, issue gives a peer its identity', async () => {
    const clusterDir = join(temporaryDirectory(), 'ca');
    const dataDir = join(temporaryDirectory(), 'peer');
    const init = await run(['cluster', 'init', '--dir', clusterDir, '--name', 'lab']);
    expect(init.exitCode).toBe(0);
    expect(init.out).toContain('created cluster CA "lab"');
    expect(statSync(clusterPaths(clusterDir).key).mode & 0o777).toBe(0o600);

    const issue = await run(['cluster', 'issue', '--cluster-dir', clusterDir, '--data-dir', dataDir]);
    expect(issue.exitCode).toBe(0);
    const nodeId = loadIdentity(dataDir).nodeId;
    expect(issue.out).toContain(`issued a certificate for node ${nodeId} (new key)`);
    expect(statSync(identityPaths(dataDir).key).mode & 0o777).toBe(0o600);

    const again = await run(['cluster', 'issue', '--cluster-dir', clusterDir, '--data-dir', dataDir]);
    expect(again.exitCode).toBe(1);
    expect(again.err).toMatch(/already has a certificate.*--force/);
    const forced = await run(['cluster', 'issue', '--cluster-dir', clusterDir, '--data-dir', dataDir, '--force']);
    expect(forced.out).toContain(`node ${nodeId} (existing key kept)`);
  });

  it('init records the replication mode, and refuses impossible quorums before creating anything', async () => {
    const clusterDir = join(temporaryDirectory(), 'ca');
    const init = await run(['cluster', 'init', '--dir', clusterDir, '--replication', 'leaderless', '--n', '3', '--r', '1', '--w', '3']);
    expect(init.exitCode).toBe(0);
    expect(init.out).toContain('replication: leaderless (n=3, r=1, w=3)');
    expect(JSON.parse(readFileSync(join(clusterDir, 'replication.json'), 'utf8'))).toEqual({ mode: 'leaderless', n: 3, r: 1, w: 3 });
    const otherDir = join(temporaryDirectory(), 'ca');
    const refused = await run(['cluster', 'init', '--dir', otherDir, '--replication', 'leaderless', '--n', '2', '--r', '3']);
    expect(refused.exitCode).toBe(1);
    expect(refused.err).toMatch(/r \(3\) and w \(2\) cannot exceed n \(2\)/);
    expect(existsSync(otherDir)).toBe(false);
    const unknown = await run(['cluster', 'init', '--dir', otherDir, '--replication', 'raft']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.err).toMatch(/Allowed choices are single-leader, multi-leader, leaderless/);
  });

  it('never overwrites a CA without --force', async () => {
    const clusterDir = temporaryDirectory();
    expect((await run(['cluster', 'init', '--dir', clusterDir])).exitCode).toBe(0);
    const again = await run(['cluster', 'init', '--dir', clusterDir]);
    expect(again.exitCode).toBe(1);
    expect(again.err).toMatch(/already exists.*refusing to overwrite/);
    expect((await run(['cluster', 'init', '--dir', clusterDir, '--force'])).exitCode).toBe(0);
  });

  it('fails with a clear message and exit code 1 on bad flags or a missing CA', async () => {
    const missingFlag = await run(['cluster', 'issue', '--cluster-dir', temporaryDirectory()]);
    expect(missingFlag.exitCode).toBe(1);
    expect(missingFlag.err).toContain("required option '--data-dir <dir>' not specified");

    const noCa = await run(['cluster', 'issue', '--cluster-dir', temporaryDirectory(), '--data-dir', temporaryDirectory()]);
    expect(noCa.exitCode).toBe(1);
    expect(noCa.err).toMatch(/no cluster CA in .*nines cluster init --dir/);

    const badDays = await run(['cluster', 'init', '--dir', temporaryDirectory(), '--validity-days', 'ten']);
    expect(badDays.exitCode).toBe(1);
    expect(badDays.err).toContain('a whole number of days');

    const badName = await run(['cluster', 'init', '--dir', temporaryDirectory(), '--name', 'a,b']);
    expect(badName.exitCode).toBe(1);
    expect(badName.err).toContain('cluster name must be');
  });
});

describe('nines cluster key', () => {
  it('adds, lists and revokes keys in a 0600 file; a gateway accepts exactly the listed keys', async () => {
    const clusterDir = join(temporaryDirectory(), 'ca');
    expect((await run(['cluster', 'init', '--dir', clusterDir])).out).toContain('API: no keys yet');
    const added = await run(['cluster', 'key', 'add', 'alice', '--dir', clusterDir]);
    expect(added.exitCode).toBe(0);
    const key = added.out.split('\n')[0];
    expect(key).toMatch(/^nines-[A-Za-z0-9_-]{32}$/);
    await run(['cluster', 'key', 'add', 'batch', '--dir', clusterDir, '--priority', 'low']);
    expect(statSync(join(clusterDir, 'api-keys.json')).mode & 0o777).toBe(0o600);
    const listed = await run(['cluster', 'key', 'list', '--dir', clusterDir]);
    expect(listed.out).toMatch(/2 key\(s\)/);
    expect(listed.out).toMatch(/alice {2}normal/);
    expect(listed.out).not.toContain(key);
    const duplicate = await run(['cluster', 'key', 'add', 'alice', '--dir', clusterDir]);
    expect(duplicate.exitCode).toBe(1);
    expect(duplicate.err).toMatch(/exists already/);
    const dataDir = temporaryDirectory();
    const auth = settleApiAuth(dataDir, clusterDir);
    expect('keys' in auth && [...auth.keys.values()].map((entry) => entry.name)).toEqual(['alice', 'batch']);
    expect((await run(['cluster', 'key', 'revoke', 'alice', '--dir', clusterDir])).exitCode).toBe(0);
    expect((await run(['cluster', 'key', 'revoke', 'alice', '--dir', clusterDir])).err).toMatch(/no key named alice/);
    await run(['cluster', 'key', 'revoke', 'batch', '--dir', clusterDir]);
    expect(() => settleApiAuth(temporaryDirectory(), clusterDir)).toThrow(/no API keys .* nines cluster key add .* --open/);
  });

  it('an open cluster needs no keys', async () => {
    const clusterDir = join(temporaryDirectory(), 'ca');
    expect((await run(['cluster', 'init', '--dir', clusterDir, '--open'])).out).toContain('API: open to anyone');
    expect(settleApiAuth(temporaryDirectory(), clusterDir)).toEqual({ open: true });
  });
});
