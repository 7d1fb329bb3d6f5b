/**
 * A local swarm: peers on loopback, as separate `nines node` processes, each with every
 * role — storage (a replica of the cluster's store), compute (the model) and gateway (the
 * OpenAI-compatible API) — under one cluster CA. `nines start` runs one for people;
 * `nines chaos` runs one to kill and restart its peers and measure what the swarm does.
 *
 * A peer keeps its data directory and both ports for life, so `restart(index)` brings back
 * the same peer (same node ID and address, same stored data), as a machine that reboots.
 * Each peer gets the address and bearer token of the swarm's control server in its
 * environment (NINES_LOCAL_SWARM_CONTROL, NINES_LOCAL_SWARM_TOKEN): only a swarm started
 * this way can have its peers killed and restarted over HTTP (control-server.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedundancyMode } from '../../service/compute/compute-role.js';
import type { ReplicationMode } from '../replication-file.js';
import { freePorts, peerIdentity, prepareCluster } from './cluster-setup.js';
import { controlTokenVariable, controlUrlVariable, localPeersMax, peerStopGraceMs } from './constants.js';
import { ControlServer } from './control-server.js';
import { LocalPeerBusyError, LocalPeerNotFoundError, LocalSwarmStartError } from './errors.js';
import { PeerProcess, type LocalPeerView, type PeerExit } from './peer-process.js';

/**
 * The `nines` entry point the peers run: the compiled one next to this module, or — when this
 * module runs from the TypeScript sources (tests, the TypeScript loader) — the one in dist/.
 */
const mainScript = [new URL('../../cli/main.js', import.meta.url), new URL('../../../dist/cli/main.js', import.meta.url)]
  .map((url) => fileURLToPath(url))
  .find((path) => existsSync(path)) ?? fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export interface LocalSwarmOptions {
  peers: number;
  /** Where each peer's data directory goes (<root>/peer-<n>). */
  root: string;
  /** The cluster's CA, replication mode and API keys: created here unless it exists. */
  clusterDir: string;
  /** The model every peer serves (default: the built-in model). */
  model?: string;
  replication: ReplicationMode;
  redundancy: RedundancyMode;
  /** Serve the API without an API key; otherwise one key is made (or found again). */
  open: boolean;
  /** Kernel threads per peer. */
  threads: number;
  /** More `nines node` flags for every peer (e.g. --acks quorum, --tick-ms 20). */
  extraNodeArgs?: readonly string[];
  /**
   * Gateway-only peers in front of the swarm (default 0): no storage, no model, only the
   * OpenAI-compatible API, keeping conversations on the storage peers over the network. They
   * are not among peers() and are never killed by index; frontGateways() lists them.
   */
  frontGateways?: number;
  /** The rate limits of the API key the swarm makes (default: the gateways' defaults, 600 requests a minute per gateway). */
  apiKeyLimits?: { requestsPerMinute?: number; tokensPerMinute?: number };
  /** Called when a peer's process exits, whether the swarm ended it (`expected`) or it died on its own. */
  onPeerExit?: (peer: LocalPeerView, exit: PeerExit) => void;
}

export class LocalSwarm {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly options: LocalSwarmOptions,
    private readonly members: readonly PeerProcess[],
    private readonly fronts: readonly PeerProcess[],
    private readonly controlServer: ControlServer,
    readonly apiKey: string | undefined,
  ) {}

  /** Prepares the cluster and the peers' identities, starts every peer and resolves once all are ready. */
  static async start(options: LocalSwarmOptions): Promise<LocalSwarm> {
    if (!Number.isSafeInteger(options.peers) || options.peers < 1 || options.peers > localPeersMax) {
      throw new RangeError(`a local swarm has 1 to ${localPeersMax} peers, got ${options.peers}`);
    }
    const frontCount = options.frontGateways ?? 0;
    if (!Number.isSafeInteger(frontCount) || frontCount < 0 || frontCount > localPeersMax) throw new RangeError(`a local swarm has 0 to ${localPeersMax} front gateways, got ${frontCount}`);
    const apiKey = await prepareCluster(options.clusterDir, options);
    const ports = await freePorts((options.peers + frontCount) * 2);
    const members: PeerProcess[] = [];
    const fronts: PeerProcess[] = [];
    // The control server starts before the swarm object exists (its address goes into the peers' environment).
    const late: { swarm?: LocalSwarm } = {};
    const onExit = (peer: PeerProcess, exit: PeerExit) => options.onPeerExit?.(peer.view(), exit);
    for (let index = 0; index < options.peers; index++) {
      const dataDir = join(options.root, `peer-${index + 1}`);
      const nodeId = await peerIdentity(options.clusterDir, dataDir);
      members.push(new PeerProcess({ index, dataDir, nodeId, transportPort: ports[2 * index], apiPort: ports[2 * index + 1] }, onExit));
    }
    for (let front = 0; front < frontCount; front++) {
      const index = options.peers + front;
      const dataDir = join(options.root, `gateway-${front + 1}`);
      const nodeId = await peerIdentity(options.clusterDir, dataDir);
      fronts.push(new PeerProcess({ index, dataDir, nodeId, transportPort: ports[2 * index], apiPort: ports[2 * index + 1] }, onExit));
    }
    const control = await ControlServer.start({
      peers: () => late.swarm?.peers() ?? [],
      kill: (index) => late.swarm!.kill(index),
      restart: (index) => late.swarm!.restart(index),
    });
    const created = new LocalSwarm(options, members, fronts, control, apiKey);
    late.swarm = created;
    // Should this process end without stopping the swarm (an uncaught error, process.exit), take the peers with it.
    process.once('exit', created.killOnExit);
    try {
      await Promise.all(members.map((member) => created.launch(member, member.spec.index === 0 ? undefined : members[0])));
      await Promise.all(fronts.map((front) => created.launchFront(front)));
    } catch (error) {
      await created.stop();
      throw error;
    }
    return created;
  }

  /** The control server's address and bearer token (also handed to every peer in its environment). */
  get control(): { url: string; token: string } {
    return { url: this.controlServer.url, token: this.controlServer.token };
  }

  peers(): LocalPeerView[] {
    return this.members.map((member) => member.view());
  }

  /** The gateway-only peers in front of the swarm (their index follows the peers'). */
  frontGateways(): LocalPeerView[] {
    return this.fronts.map((front) => front.view());
  }

  /** The log file of peer `index` (every run of it appends there). */
  logPath(index: number): string {
    return this.member(index).logPath;
  }

  /** The log files of the gateway-only peers in front of the swarm, in frontGateways() order. */
  frontLogPaths(): string[] {
    return this.fronts.map((front) => front.logPath);
  }

  /** SIGKILLs peer `index`, as a crash would; resolves once its process is gone. A peer already down stays down. */
  async kill(index: number): Promise<LocalPeerView> {
    const member = this.member(index);
    this.checkRunning();
    await member.kill();
    return member.view();
  }

  /**
   * Starts peer `index` again with the same data directory, ports and flags, and resolves once
   * it is ready. A peer that is up is stopped first (SIGTERM); one already starting is refused.
   */
  async restart(index: number): Promise<LocalPeerView> {
    const member = this.member(index);
    this.checkRunning();
    if (member.state === 'starting') throw new LocalPeerBusyError(`peer ${index + 1} is already starting; wait until it is up`);
    if (member.state === 'up') await member.terminate(peerStopGraceMs);
    const bootstrap = this.members.find((other) => other !== member && other.state === 'up');
    await this.launch(member, bootstrap);
    return member.view();
  }

  private readonly killOnExit = () => {
    for (const member of [...this.members, ...this.fronts]) member.killNow();
  };

  /** SIGTERM to every peer, SIGKILL to those still running after the grace period; closes the control server. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      process.off('exit', this.killOnExit);
      await this.controlServer.close();
      // The front gateways first: their answers in progress need the peers behind them.
      await Promise.all(this.fronts.map((front) => front.terminate(peerStopGraceMs)));
      await Promise.all(this.members.map((member) => member.terminate(peerStopGraceMs)));
    })();
    return this.stopping;
  }

  private member(index: number): PeerProcess {
    const member = Number.isSafeInteger(index) ? this.members[index] : undefined;
    if (member === undefined) throw new LocalPeerNotFoundError(`no peer ${index} in this swarm: peers are numbered 0 to ${this.members.length - 1}`);
    return member;
  }

  private checkRunning(): void {
    if (this.stopping !== undefined) throw new LocalPeerBusyError('the swarm is stopping');
  }

  /** A gateway-only peer: the OpenAI API, with conversations on the storage peers and answers from their compute roles. */
  private launchFront(front: PeerProcess): Promise<void> {
    const { options } = this;
    const { spec } = front;
    const voters = this.members.map((other) => other.contact).join(',');
    const args = [
      'node', '--data-dir', spec.dataDir, '--cluster-dir', options.clusterDir, '--listen', `127.0.0.1:${spec.transportPort}`,
      '--gateway', '--storage-peers', voters, '--api', `127.0.0.1:${spec.apiPort}`, '--bootstrap', this.members[0].contact,
      ...(options.model === undefined ? [] : ['--model', options.model]),
    ];
    const environment = { ...process.env, [controlUrlVariable]: this.controlServer.url, [controlTokenVariable]: this.controlServer.token };
    return front.launch(mainScript, args, environment).catch((error: unknown) => {
      throw error instanceof LocalSwarmStartError ? error : new LocalSwarmStartError(`front gateway ${spec.index - options.peers + 1} did not start: ${(error as Error).message}`);
    });
  }

  private launch(member: PeerProcess, bootstrap: PeerProcess | undefined): Promise<void> {
    const { options } = this;
    const { spec } = member;
    const voters = this.members.map((other) => other.contact).join(',');
    const args = [
      'node', '--data-dir', spec.dataDir, '--cluster-dir', options.clusterDir, '--listen', `127.0.0.1:${spec.transportPort}`,
      '--storage', '--voters', voters, '--compute', '--gateway', '--api', `127.0.0.1:${spec.apiPort}`, '--threads', String(options.threads),
      ...(bootstrap === undefined ? [] : ['--bootstrap', bootstrap.contact]),
      ...(options.model === undefined ? [] : ['--model', options.model]),
      ...(spec.index > 0 && options.redundancy !== 'hot-hot' ? ['--standby', options.redundancy === 'hot-warm' ? 'warm' : 'cold'] : []),
      ...(options.extraNodeArgs ?? []),
    ];
    const environment = { ...process.env, [controlUrlVariable]: this.controlServer.url, [controlTokenVariable]: this.controlServer.token };
    return member.launch(mainScript, args, environment).catch((error: unknown) => {
      throw error instanceof LocalSwarmStartError ? error : new LocalSwarmStartError(`peer ${spec.index + 1} did not start: ${(error as Error).message}`);
    });
  }
}
