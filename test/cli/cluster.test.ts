import { afterAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerCluster } from '../../src/cli/cluster.js';
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
