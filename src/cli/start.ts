/**
 * `nines start` (and `npm start`): a local swarm of peers on loopback, as separate
 * processes, each with every role — storage (a replica of the cluster's store), compute
 * (the model) and gateway (the OpenAI-compatible API) — under a fresh cluster CA. It prints
 * one line per peer, the API address and a request to try, and stops every peer on Ctrl-C.
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
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { addApiKey, readApiKeys, writeApiKeys } from '../node/api-keys-file.js';
import { replicationDefaults, replicationModes, writeReplicationFile, type ReplicationMode } from '../node/replication-file.js';
import { clusterPaths, identityPaths, initCluster, issuePeerCertificate, loadIdentity } from '../p2p/identity/index.js';
import { integerOption } from './options.js';
import { redundancyModes, type RedundancyMode } from '../service/compute/compute-role.js';

/** Peers a local swarm may have: each is a process with the model loaded. */
export const localPeersMax = 9;
const stopGraceMs = 10_000;
const startTimeoutMs = 60_000;
const mainScript = fileURLToPath(new URL('./main.js', import.meta.url));

interface StartFlags {
  peers: number;
  dir?: string;
  model?: string;
  replication: ReplicationMode;
  redundancy: RedundancyMode;
  open: boolean;
  threads: number;
}

interface LocalPeer {
  index: number;
  dataDir: string;
  nodeId: string;
  transportPort: number;
  apiPort: number;
  child?: ChildProcess;
  contact?: string;
  api?: string;
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
    .action((flags: StartFlags, command: Command) => runSwarm(flags, command));
}

async function runSwarm(flags: StartFlags, command: Command): Promise<void> {
  const temporary = flags.dir === undefined;
  const root = flags.dir ?? mkdtempSync(join(tmpdir(), 'nines-swarm-'));
  const clusterDir = join(root, 'cluster');
  let apiKey: string | undefined;
  try {
    apiKey = await prepareCluster(clusterDir, flags);
  } catch (error) {
    if (temporary) rmSync(root, { recursive: true, force: true });
    command.error(`error: ${(error as Error).message}`, { exitCode: 1, code: 'nines.START_FAILED' });
  }
  const peers: LocalPeer[] = [];
  for (let index = 0; index < flags.peers; index++) {
    const dataDir = join(root, `peer-${index + 1}`);
    const identity = existsSync(identityPaths(dataDir).certificate) ? loadIdentity(dataDir) : await issuePeerCertificate(clusterDir, dataDir);
    peers.push({ index, dataDir, nodeId: identity.nodeId, transportPort: await freePort(), apiPort: await freePort() });
  }
  const voters = peers.map((peer) => `127.0.0.1:${peer.transportPort}#${peer.nodeId}`).join(',');
  let stopping = false;
  const stopAll = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('stopping the swarm…\n');
    await Promise.all(peers.map((peer) => stopChild(peer.child)));
    if (temporary) rmSync(root, { recursive: true, force: true });
    process.exit(exitCode);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));
  try {
    for (const peer of peers) launch(peer, { voters, clusterDir, bootstrap: peer.index === 0 ? undefined : `127.0.0.1:${peers[0].transportPort}#${peers[0].nodeId}`, flags });
    await Promise.all(peers.map((peer) => ready(peer)));
  } catch (error) {
    process.stderr.write(`nines start: ${(error as Error).message}\n`);
    await stopAll(1);
    return;
  }
  for (const peer of peers) {
    peer.child!.once('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`peer ${peer.index + 1} exited (${signal ?? `code ${code}`}); the others go on. Its log: ${join(peer.dataDir, 'node.log')}\n`);
    });
  }
  printSummary(peers, { root, temporary, flags, apiKey, model: await modelName(peers[0], apiKey) });
}

/** The model the swarm serves, as GET /v1/models names it (the name to put in requests). */
async function modelName(peer: LocalPeer, apiKey: string | undefined): Promise<string> {
  try {
    const response = await fetch(`${peer.api}/v1/models`, { headers: apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as { data?: Array<{ id: string }> };
    return body.data?.[0]?.id ?? '<model>';
  } catch {
    return '<model>';
  }
}

/** Creates the cluster (CA, replication mode, API key) unless --dir holds one already; returns the key to show. */
async function prepareCluster(clusterDir: string, flags: StartFlags): Promise<string | undefined> {
  if (existsSync(clusterPaths(clusterDir).key)) {
    const keys = readApiKeys(clusterDir);
    return keys?.keys.find((entry) => entry.name === 'local')?.key;
  }
  mkdirSync(clusterDir, { recursive: true });
  await initCluster(clusterDir, { name: 'nines-local' });
  writeReplicationFile(clusterDir, { ...replicationDefaults, mode: flags.replication });
  if (flags.open) {
    writeApiKeys(clusterDir, { open: true, keys: [] });
    return undefined;
  }
  return addApiKey(clusterDir, 'local', 'normal');
}

function launch(peer: LocalPeer, options: { voters: string; clusterDir: string; bootstrap: string | undefined; flags: StartFlags }): void {
  const args = [
    mainScript, 'node', '--data-dir', peer.dataDir, '--cluster-dir', options.clusterDir, '--listen', `127.0.0.1:${peer.transportPort}`,
    '--storage', '--voters', options.voters, '--compute', '--gateway', '--api', `127.0.0.1:${peer.apiPort}`, '--threads', String(options.flags.threads),
    ...(options.bootstrap === undefined ? [] : ['--bootstrap', options.bootstrap]),
    ...(options.flags.model === undefined ? [] : ['--model', options.flags.model]),
    ...(peer.index > 0 && options.flags.redundancy !== 'hot-hot' ? ['--standby', options.flags.redundancy === 'hot-warm' ? 'warm' : 'cold'] : []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(join(peer.dataDir, 'node.log'), { flags: 'a' });
  child.stderr!.pipe(log);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    const contact = /^(\S+#[0-9a-f]{40})$/m.exec(output);
    const api = /^api (http:\/\/\S+)$/m.exec(output);
    if (contact !== null) peer.contact = contact[1];
    if (api !== null) peer.api = api[1];
  });
  peer.child = child;
}

function ready(peer: LocalPeer): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + startTimeoutMs;
    const check = () => {
      if (peer.api !== undefined && peer.contact !== undefined) return resolve();
      const child = peer.child!;
      if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`peer ${peer.index + 1} did not start (exit ${child.exitCode ?? child.signalCode}); see ${join(peer.dataDir, 'node.log')}`));
      if (Date.now() > deadline) return reject(new Error(`peer ${peer.index + 1} did not start within ${startTimeoutMs / 1000} s; see ${join(peer.dataDir, 'node.log')}`));
      setTimeout(check, 50);
    };
    check();
  });
}

function printSummary(peers: readonly LocalPeer[], context: { root: string; temporary: boolean; flags: StartFlags; apiKey: string | undefined; model: string }): void {
  const { flags, apiKey } = context;
  const auth = apiKey === undefined ? '' : ` -H 'Authorization: Bearer ${apiKey}'`;
  const lines = [
    `nines: a local swarm of ${peers.length} peer${peers.length === 1 ? '' : 's'}, ${flags.replication} replication, ${flags.redundancy} compute, data in ${context.root}${context.temporary ? ' (removed at the end)' : ''}`,
    ...peers.map((peer) => `  peer ${peer.index + 1}  ${peer.contact}  api ${peer.api}  (storage, ${computeRoleOf(peer, flags.redundancy)}, gateway)`),
    `API: ${peers[0].api}/v1  (every peer's api serves it)${apiKey === undefined ? ', open to anyone' : `, key ${apiKey}`}`,
    'try:',
    `  curl ${peers[0].api}/v1/chat/completions${auth} -H 'Content-Type: application/json' \\`,
    `    -d '{"model":"${context.model}","messages":[{"role":"user","content":"Who made the light?"}],"max_tokens":40,"stream":false}'`,
    'Ctrl-C stops every peer.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function computeRoleOf(peer: LocalPeer, redundancy: RedundancyMode): string {
  if (peer.index === 0 || redundancy === 'hot-hot') return 'compute';
  return redundancy === 'hot-warm' ? 'compute: warm standby' : 'compute: cold standby';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
  await exited;
  clearTimeout(timer);
}
