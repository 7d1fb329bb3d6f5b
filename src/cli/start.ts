/**
 * `nines start` (and `npm start`): a local swarm of peers on loopback, as separate
 * processes, each with every role — storage (a replica of the cluster's store), compute
 * (the model) and gateway (the OpenAI-compatible API) — under a fresh cluster CA. It prints
 * one line per peer, the API address, the dashboard and a request to try, and stops every
 * peer on Ctrl-C. The swarm itself is src/node/local-swarm/.
 *
 *   nines start [--peers 3] [--dir d] [--model file.gguf] [--replication single-leader] [--redundancy hot-hot] [--open] [--threads 1]
 *
 * --redundancy hot-warm and hot-cold make peer 1 the primary compute peer and the others
 * warm or cold standbys (compute-role.ts); hot-hot, the default, makes every peer a primary.
 *
 * With --dir the swarm's cluster and data directories are kept there (a second start with
 * the same --dir carries on with the same peers and data); without it they live in a
 * temporary directory removed at the end. Each peer's log goes to <its data dir>/node.log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { replicationDefaults, replicationModes, type ReplicationMode } from '../node/replication-file.js';
import { LocalSwarm, localPeersMax, type LocalPeerView } from '../node/local-swarm/index.js';
import { integerOption } from './options.js';
import { redundancyModes, type RedundancyMode } from '../service/compute/compute-role.js';

interface StartFlags {
  peers: number;
  dir?: string;
  model?: string;
  replication: ReplicationMode;
  redundancy: RedundancyMode;
  open: boolean;
  threads: number;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('a local swarm of peers on loopback (storage, compute and gateway on each), with the built-in model and the OpenAI-compatible API')
    .option('--peers <n>', 'how many peer processes', integerOption('--peers', 1, localPeersMax), 3)
    .option('--dir <dir>', 'keep the cluster and the peers\' data here (default: a temporary directory, removed at the end)')
    .option('--model <file.gguf>', 'the model every peer serves (default: the built-in model)')
    .addOption(new Option('--replication <mode>', 'how the peers replicate the store').choices([...replicationModes]).default(replicationDefaults.mode))
    .addOption(new Option('--redundancy <mode>', 'compute redundancy: every peer serves (hot-hot), or peer 1 serves and the others stand by loaded (hot-warm) or unloaded (hot-cold)').choices([...redundancyModes]).default('hot-hot'))
    .option('--open', 'serve the API without an API key (by default one key is made and printed)', false)
    .option('--threads <n>', 'kernel threads per peer', integerOption('--threads', 1, 64), 1)
    .action((flags: StartFlags) => runSwarm(flags));
}

async function runSwarm(flags: StartFlags): Promise<void> {
  const temporary = flags.dir === undefined;
  const root = flags.dir ?? mkdtempSync(join(tmpdir(), 'nines-swarm-'));
  let started = false;
  let stopping = false;
  let swarm: LocalSwarm | undefined;
  const stopAll = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('stopping the swarm…\n');
    await swarm?.stop();
    if (temporary) rmSync(root, { recursive: true, force: true });
    process.exit(exitCode);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));
  try {
    swarm = await LocalSwarm.start({
      peers: flags.peers, root, clusterDir: join(root, 'cluster'), ...(flags.model !== undefined && { model: flags.model }),
      replication: flags.replication, redundancy: flags.redundancy, open: flags.open, threads: flags.threads,
      onPeerExit: (peer, exit) => {
        if (started && !stopping && !exit.expected) process.stderr.write(`peer ${peer.index + 1} exited (${exit.signal ?? `code ${exit.code}`}); the others go on. Its log: ${swarm?.logPath(peer.index)}\n`);
      },
    });
  } catch (error) {
    process.stderr.write(`nines start: ${(error as Error).message}\n`);
    await stopAll(1);
    return;
  }
  started = true;
  const peers = swarm.peers();
  printSummary(peers, { root, temporary, flags, apiKey: swarm.apiKey, model: await modelName(peers[0], swarm.apiKey) });
}

/** The model the swarm serves, as GET /v1/models names it (the name to put in requests). */
async function modelName(peer: LocalPeerView, apiKey: string | undefined): Promise<string> {
  try {
    const response = await fetch(`${peer.api}/v1/models`, { headers: apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as { data?: Array<{ id: string }> };
    return body.data?.[0]?.id ?? '<model>';
  } catch {
    return '<model>';
  }
}

function printSummary(peers: readonly LocalPeerView[], context: { root: string; temporary: boolean; flags: StartFlags; apiKey: string | undefined; model: string }): void {
  const { flags, apiKey } = context;
  const auth = apiKey === undefined ? '' : ` -H 'Authorization: Bearer ${apiKey}'`;
  const lines = [
    `nines: a local swarm of ${peers.length} peer${peers.length === 1 ? '' : 's'}, ${flags.replication} replication, ${flags.redundancy} compute, data in ${context.root}${context.temporary ? ' (removed at the end)' : ''}`,
    ...peers.map((peer) => `  peer ${peer.index + 1}  ${peer.contact}  api ${peer.api}  (storage, ${computeRoleOf(peer, flags.redundancy)}, gateway)`),
    `API: ${peers[0].api}/v1  (every peer's api serves it)${apiKey === undefined ? ', open to anyone' : `, key ${apiKey}`}`,
    // The key goes after '#', which a browser never sends to the server: the dashboard reads it from the page's address.
    `dashboard: ${peers[0].api}/${apiKey === undefined ? '' : `#key=${apiKey}`}`,
    'try:',
    `  curl ${peers[0].api}/v1/chat/completions${auth} -H 'Content-Type: application/json' \\`,
    `    -d '{"model":"${context.model}","messages":[{"role":"user","content":"Who made the light?"}],"max_tokens":40,"stream":false}'`,
    'Ctrl-C stops every peer.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function computeRoleOf(peer: LocalPeerView, redundancy: RedundancyMode): string {
  if (peer.index === 0 || redundancy === 'hot-hot') return 'compute';
  return redundancy === 'hot-warm' ? 'compute: warm standby' : 'compute: cold standby';
}
