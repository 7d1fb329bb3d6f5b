/**
 * `nines cluster key add|list|revoke`: the API keys a cluster's gateways accept
 * (`Authorization: Bearer <key>`), kept in `<cluster dir>/api-keys.json` (mode 0600).
 * Peers running with `--cluster-dir <dir>` follow the file: a new key works, and a revoked key
 * is refused, within about a second; a peer elsewhere keeps its copy until the file reaches it.
 */
import { Command, Option } from 'commander';
import { addApiKey, apiKeysPath, gatewayRateLimitDefaults, readApiKeys, revokeApiKey } from '../node/api-keys-file.js';
import { integerOption } from './options.js';


export function registerClusterKeys(cluster: Command, output: { write(text: string): void }, clusterDirDefault: string): void {
  const key = cluster.command('key').description("the API keys the cluster's gateways accept");
  key
    .command('add')
    .description('create an API key and print it (it is shown once)')
    .argument('<name>', 'who the key is for: letters, digits, _ . @ -')
    .option('--dir <dir>', 'the cluster directory', clusterDirDefault)
    .addOption(new Option('--priority <priority>', 'under pressure, low-priority keys are shed first').choices(['normal', 'low']).default('normal'))
    .option('--rpm <n>', `requests per minute this key may make (default ${gatewayRateLimitDefaults.requestsPerMinute})`, integerOption('--rpm', 1, 1_000_000))
    .option('--tpm <n>', `tokens per minute, prompt and answer (default ${gatewayRateLimitDefaults.tokensPerMinute})`, integerOption('--tpm', 1, 1_000_000_000))
    .action((name: string, flags: { dir: string; priority: 'normal' | 'low'; rpm?: number; tpm?: number }, command: Command) => {
      const limits = { ...(flags.rpm !== undefined && { requestsPerMinute: flags.rpm }), ...(flags.tpm !== undefined && { tokensPerMinute: flags.tpm }) };
      const created = run(command, () => addApiKey(flags.dir, name, flags.priority, limits));
      output.write(`${created}\nadded key "${name}" (${flags.priority} priority) to ${apiKeysPath(flags.dir)}; peers running with --cluster-dir ${flags.dir} accept it within a second\n`);
    });
  key
    .command('list')
    .description('the key names, their priorities, and whether the cluster is open')
    .option('--dir <dir>', 'the cluster directory', clusterDirDefault)
    .action((flags: { dir: string }, command: Command) => {
      const config = run(command, () => readApiKeys(flags.dir));
      if (config === undefined) {
        output.write(`no API keys in ${flags.dir}: the gateways refuse to serve; add one with nines cluster key add <name> --dir ${flags.dir}\n`);
        return;
      }
      const lines = [config.open ? 'the cluster is open: every request is served, with or without a key' : `${config.keys.length} key(s); requests without one get 401`];
      for (const entry of config.keys) {
        const rpm = entry.requestsPerMinute ?? gatewayRateLimitDefaults.requestsPerMinute;
        const tpm = entry.tokensPerMinute ?? gatewayRateLimitDefaults.tokensPerMinute;
        lines.push(`  ${entry.name}  ${entry.priority}  ${rpm} requests/min  ${tpm} tokens/min  ${entry.key.slice(0, 9)}…`);
      }
      output.write(`${lines.join('\n')}\n`);
    });
  key
    .command('revoke')
    .description('remove a key: peers running with this cluster directory refuse it within a second')
    .argument('<name>')
    .option('--dir <dir>', 'the cluster directory', clusterDirDefault)
    .action((name: string, flags: { dir: string }, command: Command) => {
      run(command, () => revokeApiKey(flags.dir, name));
      output.write(`revoked key "${name}"; peers running with --cluster-dir ${flags.dir} refuse it within a second\n`);
    });
}

function run<T>(command: Command, work: () => T): T {
  try {
    return work();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (error instanceof RangeError || typeof code === 'string') command.error(`error: ${(error as Error).message}`, { exitCode: 1, code: 'nines.INVALID_ARGUMENT' });
    throw error;
  }
}
