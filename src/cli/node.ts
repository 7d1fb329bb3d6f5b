/**
 * `nines node`: run one peer until SIGTERM or SIGINT.
 *
 *   nines node --data-dir d [--cluster-dir c] [--listen host:port] [--advertise host]
 *              [--bootstrap host:port#id ...] [--tracker host:port#id ...]
 *              [--multicast [group:port]] [--multicast-interface address]
 *              [--announce-interval seconds] [--role peer|tracker] [--tracker-ttl seconds]
 *              [--storage [--voters ...]] [--compute] [--gateway] [--dht-only] [--api host:port]
 *              [--log-level debug|info|warn|error]
 *
 * A peer runs every role (storage, compute, gateway and tracker) unless its flags (or --config)
 * choose some: then exactly those. `--dht-only` runs a bare DHT peer. Storage without --voters
 * is a one-node cluster of this node alone.
 *
 * It prints its contact line (host:port#nodeid) on standard output once it listens, and
 * logs as JSON lines on standard error. `nines tracker` (tracker.ts) is the same command
 * with the tracker role.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { jsonLinesLogger, logLevels, Node, stopTimeoutMs, type LogLevel, type NodeConfig, type NodeRole } from '../node/index.js';
import { multicastGroupDefault, multicastPortDefault, type DiscoveryConfig } from '../p2p/discovery/index.js';
import { parseContact, type Contact } from '../p2p/identity/index.js';
import { integerOption, numberOption } from './options.js';
import { applyConfigFile } from './config-file.js';
import { storageDefaults } from '../node/storage-role.js';
import type { AckLevel } from '../replication/leader/index.js';
import { createFetchProgressDisplay, modelNameProblem, type FetchProgress } from '../service/model-distribution/index.js';

type NodeStorageConfig = NonNullable<NodeConfig['storage']>;

interface NodeFlags {
  dataDir: string;
  config?: string;
  clusterDir?: string;
  listen: { host: string; port: number };
  advertise?: string;
  bootstrap?: Contact[];
  tracker?: Contact[];
  multicast?: true | { group: string; port: number };
  multicastInterface?: string;
  announceInterval?: number;
  role: NodeRole;
  trackerTtl?: number;
  logLevel: LogLevel;
  storage?: boolean;
  compute?: boolean;
  gateway?: boolean;
  dhtOnly?: boolean;
  model?: string;
  fetchModel?: string;
  threads?: number;
  standby?: 'warm' | 'cold';
  storagePeers?: Contact[];
  voters?: Contact[];
  api: { host: string; port: number };
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  acks: AckLevel;
}

/** Parses `host:port` for --listen; port 0 asks for any free port. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text.trim());
  if (match === null) throw new InvalidArgumentError(`expected host:port (e.g. 127.0.0.1:4000, or port 0 for any free port), got '${text}'.`);
  const port = Number(match[3]);
  if (port > 65_535) throw new InvalidArgumentError(`the port must be from 0 to 65535, got ${port}.`);
  return { host: match[1] ?? match[2], port };
}

/** Parses `group:port` for --multicast. */
export function parseMulticastAddress(text: string): { group: string; port: number } {
  const match = /^([0-9.]+):([0-9]{1,5})$/.exec(text.trim());
  const port = match === null ? Number.NaN : Number(match[2]);
  if (match === null || port < 1 || port > 65_535) {
    throw new InvalidArgumentError(`expected group:port, e.g. ${multicastGroupDefault}:${multicastPortDefault}, got '${text}'.`);
  }
  return { group: match[1], port };
}

function contactOption(value: string, previous: Contact[] | undefined): Contact[] {
  try {
    return [...(previous ?? []), parseContact(value)];
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message}.`);
  }
}

/** Adds the options every node command shares. */
export function addNodeOptions(command: Command): Command {
  return command
    .option('--config <file.json>', 'settings from a JSON file: its keys are these long flags without dashes ({"data-dir": "a", "storage": true, ...}); flags on the command line win')
    .option('--data-dir <dir>', "the node's data directory (its identity lives in <dir>/identity); required, here or in --config")
    .option('--cluster-dir <dir>', 'the cluster CA directory (ca.pem, ca-key.pem): issues an identity on first start')
    .option('--listen <host:port>', 'address to accept peers on; port 0 picks a free one', parseListenAddress, { host: '127.0.0.1', port: 0 })
    .option('--advertise <host>', 'the host other peers dial (needed when listening on 0.0.0.0)')
    .option('--bootstrap <host:port#id>', 'a trusted contact to join through (repeatable)', contactOption)
    .option('--tracker <host:port#id>', 'a tracker to announce to and ask for peers (repeatable)', contactOption)
    .option('--multicast [group:port]', `announce and listen on a UDP multicast group (default ${multicastGroupDefault}:${multicastPortDefault})`, parseMulticastAddress)
    .option('--multicast-interface <address>', 'local IPv4 address for multicast (default 127.0.0.1 when listening on loopback)')
    .option('--announce-interval <seconds>', 'how often to announce to trackers and on multicast', numberOption('--announce-interval', 0.05, 3600))
    .option('--tracker-ttl <seconds>', 'tracker role: forget a peer this long after its last announcement', numberOption('--tracker-ttl', 0.1, 86_400))
    .addOption(new Option('--log-level <level>', 'least severe log level written to standard error').choices(logLevels).default('info'));
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function discoveryConfig(flags: NodeFlags): DiscoveryConfig {
  const intervalMs = flags.announceInterval === undefined ? undefined : Math.round(flags.announceInterval * 1000);
  const config: DiscoveryConfig = { bootstrap: flags.bootstrap, trackers: flags.tracker, trackerIntervalMs: intervalMs };
  if (flags.multicast !== undefined) {
    const address = flags.multicast === true ? { group: multicastGroupDefault, port: multicastPortDefault } : flags.multicast;
    const host = flags.advertise ?? flags.listen.host;
    const interfaceAddress = flags.multicastInterface ?? (isLoopback(host) ? '127.0.0.1' : undefined);
    config.multicast = { ...address, interfaceAddress, intervalMs };
  }
  return config;
}

function votersOption(value: string, previous: Contact[] | undefined): Contact[] {
  return value.split(',').filter((item) => item.trim() !== '').reduce((list, item) => contactOption(item.trim(), list), previous ?? []);
}

/** The storage role's flags: single-leader replication (Raft) and the key-value API. */
export function addStorageOptions(command: Command): Command {
  return command
    .option('--storage', "store data: a replica of the key-value store in the cluster's replication mode (<data-dir>/raft.sqlite, multi-leader.sqlite or leaderless.sqlite), served on --api")
    .option('--voters <host:port#id,...>', 'with --storage: every storage peer (single-leader: every founding voter), this node too, comma-separated or repeated; the same list on each (default: this node alone, a one-node cluster)', votersOption)
    .option('--compute', 'load the model and generate text for the swarm\'s gateways (announced in the DHT)')
    .option('--gateway', 'serve the OpenAI-compatible API on --api with the swarm\'s compute peers and the cluster\'s API keys; conversations live in --storage on this node, or without it on the storage peers found in the DHT (and --storage-peers)')
    .option('--storage-peers <host:port#id,...>', 'with --gateway and without --storage: storage peers to keep conversations on, reached at once (more are found in the DHT), comma-separated or repeated', votersOption)
    .addOption(new Option('--standby <kind>', 'with --compute: serve only when no primary compute peer answers; warm loads the model now, cold only when it must take over').choices(['warm', 'cold']))
    .option('--model <file.gguf>', 'with --compute or --gateway: the model (default: the built-in model)')
    .option('--fetch-model <name>', 'with --compute or --gateway, instead of --model: the model <name> from <data-dir>/models/<name>.gguf, fetched first in verified chunks from the peers that seed it if it is missing')
    .option('--threads <n>', 'with --compute: kernel threads (default: the number of cores)', integerOption('--threads', 1, 256))
    .option('--api <host:port>', 'with --storage or --gateway: where the HTTP API listens; port 0 picks a free one', parseListenAddress, { host: '127.0.0.1', port: 0 })
    .option('--tick-ms <ms>', 'with --storage: milliseconds per Raft tick', integerOption('--tick-ms', 1, 10_000), storageDefaults.tickMs)
    .option('--election-ticks <n>', 'with --storage: election timeout in ticks (randomized between n and 2n)', integerOption('--election-ticks', 2, 10_000), storageDefaults.electionTicks)
    .option('--heartbeat-ticks <n>', 'with --storage: leader heartbeat interval in ticks (below --election-ticks)', integerOption('--heartbeat-ticks', 1, 10_000), storageDefaults.heartbeatTicks)
    .addOption(new Option('--acks <level>', 'with --storage: the default durability of a write').choices(['leader', 'quorum', 'all']).default(storageDefaults.defaultAcks))
    .option('--dht-only', 'a bare DHT peer: none of the roles above, nor the tracker (without any role flag a peer runs them all)');
}

/** The roles a peer runs, once the flags are read: `allRolesByDefault` when no flag chose any. */
export interface SettledRoles {
  storage: boolean;
  compute: boolean;
  gateway: boolean;
  role: NodeRole;
  allRolesByDefault: boolean;
}

/**
 * Issue 7: a peer runs every role — storage, compute, gateway and tracker — unless its flags
 * choose some (--storage, --compute, --gateway, --role tracker), and then exactly those.
 * `--role peer` given on its own says "not a tracker": the other three roles still run.
 * `--dht-only` asks for none, and cannot go with a role flag.
 */
export function settleRoles(flags: Pick<NodeFlags, 'storage' | 'compute' | 'gateway' | 'dhtOnly' | 'role'>, roleGiven: boolean): SettledRoles {
  const chosen = [
    ...(flags.storage === true ? ['--storage'] : []), ...(flags.compute === true ? ['--compute'] : []), ...(flags.gateway === true ? ['--gateway'] : []),
    ...(flags.role === 'tracker' ? ['--role tracker'] : []),
  ];
  if (flags.dhtOnly === true) {
    if (chosen.length > 0) throw new InvalidArgumentError(`--dht-only runs a bare DHT peer, without roles, but ${chosen.join(', ')} ${chosen.length === 1 ? 'asks' : 'ask'} for one: drop --dht-only, or the role flags.`);
    return { storage: false, compute: false, gateway: false, role: 'peer', allRolesByDefault: false };
  }
  if (chosen.length > 0) return { storage: flags.storage === true, compute: flags.compute === true, gateway: flags.gateway === true, role: flags.role, allRolesByDefault: false };
  return { storage: true, compute: true, gateway: true, role: roleGiven ? flags.role : 'tracker', allRolesByDefault: true };
}

/** --fetch-model replaces --model, and only peers that use a model have one to fetch. */
function checkFetchModel(flags: NodeFlags): void {
  if (flags.fetchModel === undefined) return;
  if (flags.model !== undefined) throw new InvalidArgumentError('--fetch-model and --model both name the model: give one (--model for a file you have, --fetch-model to fetch it from peers).');
  if (flags.compute !== true && flags.gateway !== true) throw new InvalidArgumentError('--fetch-model needs --compute or --gateway: only those roles use a model.');
  const problem = modelNameProblem(flags.fetchModel);
  if (problem !== undefined) throw new InvalidArgumentError(`--fetch-model: ${problem}.`);
}

function storageConfig(flags: NodeFlags): NodeStorageConfig | undefined {
  if (flags.storagePeers !== undefined && (flags.storage === true || flags.gateway !== true)) {
    throw new InvalidArgumentError('--storage-peers is for a gateway without --storage (a gateway-only peer); a storage peer keeps conversations in its own replica.');
  }
  if (flags.storage !== true) {
    if (flags.voters !== undefined) throw new InvalidArgumentError('--voters needs --storage: only storage nodes take part in replication.');
    return undefined;
  }
  if (flags.heartbeatTicks >= flags.electionTicks) throw new InvalidArgumentError(`--heartbeat-ticks (${flags.heartbeatTicks}) must be below --election-ticks (${flags.electionTicks}).`);
  // Without --voters the node founds a one-node cluster of its own (the node fills in its contact once it listens).
  return { ...(flags.voters !== undefined && { voters: flags.voters }), tickMs: flags.tickMs, electionTicks: flags.electionTicks, heartbeatTicks: flags.heartbeatTicks, defaultAcks: flags.acks };
}

/** A download's progress bar on standard error when it is a terminal (the node logs the progress either way). */
function fetchProgress(name: string): ((progress: FetchProgress) => void) | undefined {
  const display = createFetchProgressDisplay(process.stderr, name);
  return display === undefined ? undefined : (progress) => display.update(progress);
}

/** Starts the node, prints its contact, and stops it cleanly on SIGTERM or SIGINT. */
export async function runNode(given: NodeFlags, command: Command): Promise<void> {
  const logger = jsonLinesLogger((line) => void process.stderr.write(line), given.logLevel, { pid: process.pid });
  let node: Node;
  let storage: NodeStorageConfig | undefined;
  let flags = given;
  let allRolesByDefault = false;
  try {
    const roles = settleRoles(given, command.getOptionValueSource('role') !== 'default');
    ({ allRolesByDefault } = roles);
    flags = { ...given, storage: roles.storage, compute: roles.compute, gateway: roles.gateway, role: roles.role };
    storage = storageConfig(flags);
    checkFetchModel(flags);
  } catch (error) {
    command.error(`error: ${(error as Error).message}`, { exitCode: 1, code: 'nines.INVALID_ARGUMENT' });
  }
  try {
    node = await Node.start({
      storage,
      allRolesByDefault,
      api: flags.api,
      serving: {
        compute: flags.compute === true,
        gateway: flags.gateway === true,
        ...(flags.model !== undefined && { modelPath: flags.model }),
        ...(flags.threads !== undefined && { threads: flags.threads }),
        ...(flags.standby !== undefined && { standby: flags.standby }),
        ...(flags.storagePeers !== undefined && { storagePeers: flags.storagePeers }),
      },
      ...(flags.fetchModel !== undefined && { fetchModel: { name: flags.fetchModel, onProgress: fetchProgress(flags.fetchModel) } }),
      dataDir: flags.dataDir,
      clusterDir: flags.clusterDir,
      listen: flags.listen,
      advertiseHost: flags.advertise,
      role: flags.role,
      discovery: discoveryConfig(flags),
      trackerTtlMs: flags.trackerTtl === undefined ? undefined : Math.round(flags.trackerTtl * 1000),
      logger,
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') command.error(`error: ${(error as Error).message}`, { exitCode: 1, code: `nines.${code}` });
    throw error;
  }
  process.stdout.write(`${node.contact}\n`);
  const api = node.apiAddress;
  if (api !== undefined) process.stdout.write(`api http://${api.host}:${api.port}\n`);
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    // A stop that hangs (a peer that never lets go) must not keep the process alive forever.
    setTimeout(() => process.exit(1), stopTimeoutMs).unref();
    void node.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

export function registerNode(program: Command): Command {
  const command = program.command('node').description('run a peer: join the DHT through bootstrap contacts, trackers and/or multicast; with no role flag it runs every role (storage, compute, gateway, tracker), with role flags exactly those, with --dht-only none');
  addStorageOptions(addNodeOptions(command))
    .addOption(new Option('--role <role>', 'tracker: also serve as a tracker (a role flag); peer: not a tracker (on its own, the other roles still run by default)').choices(['peer', 'tracker']).default('peer'))
    .action((_flags: NodeFlags, self: Command) => runNode(settledFlags<NodeFlags>(self), self));
  return command;
}

/** The command's flags with --config applied under them, and the data directory required. */
export function settledFlags<Flags extends { dataDir?: string; config?: string }>(command: Command): Flags {
  const config = (command.opts() as Flags).config;
  try {
    if (config !== undefined) applyConfigFile(command, config);
  } catch (error) {
    command.error(`error: ${(error as Error).message}`, { exitCode: 1, code: 'nines.CONFIG_INVALID' });
  }
  const flags = command.opts() as Flags;
  if (flags.dataDir === undefined) command.error("error: required option '--data-dir <dir>' not specified (give it as a flag, or as \"data-dir\" in --config)", { exitCode: 1, code: 'nines.DATA_DIR_MISSING' });
  return flags;
}
