/**
 * The composition root of a running node (minimal for now; issue 7 grows it): load or issue
 * the identity, listen on the TLS transport, run the DHT shell and the chosen discovery
 * modes (and the tracker role if asked), open the local admin channel, and record where it
 * all listens in `<data dir>/node.json`. `stop()` undoes it in reverse order.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Rng } from '../core/rng.js';
import { Transport, type Logger } from '../net/index.js';
import { CertifiedMembers, DhtShell } from '../p2p/dht/index.js';
import { Discovery, TrackerServer, type DiscoveryConfig } from '../p2p/discovery/index.js';
import {
  authenticatePeerCertificate,
  clusterPaths,
  formatContact,
  identityPaths,
  isIssuedBy,
  issuePeerCertificate,
  loadIdentity,
  type Identity,
} from '../p2p/identity/index.js';
import type { Contact, KademliaSettings, OperationResult } from '../p2p/kademlia/index.js';
import { AdminServer, type AdminApi } from './admin-server.js';
import { adminHost, adminTokenBytes, certifiedMembersMax, drainMs, nodeFileVersion } from './constants.js';
import { NodeConfigError } from './errors.js';
import { StorageRole, type StorageConfig } from './storage-role.js';
import { ServingRole, type ServingConfig } from './serving-role.js';
import { settleReplication } from './replication-file.js';
import { removeNodeFile, writeNodeFile } from './node-file.js';
import { settleModelFile, type FetchProgress, type SettledModelFile } from '../service/model-distribution/index.js';
import { ApiKeyRing } from '../api/openai/auth.js';
import type { AdminBackend } from '../api/admin/routes.js';
import { settlePeerApiKeys, type PeerApiKeys } from './api-keys-file.js';
import { ApiKeysWatch, warnIfNoKeys } from './api-keys-watch.js';
import { LocalSwarmControl } from './admin/local-swarm-control.js';
import { SwarmView, type PeerSummary } from './admin/swarm-view.js';
import { HealthRole } from './health-role.js';
import { RaftPeer } from './raft/raft-peer.js';
import { createMetrics, type CompletionOutcome, type Metrics } from '../api/metrics/index.js';
import { isOpenAiErrorCode } from '../api/openai/errors.js';

export type NodeRole = 'peer' | 'tracker';

export interface NodeConfig {
  dataDir: string;
  /** Holds ca.pem and ca-key.pem; used to issue this node's identity on first start. */
  clusterDir?: string;
  listen: { host: string; port: number };
  /** The host other peers reach this node at; defaults to the listen host. */
  advertiseHost?: string;
  role: NodeRole;
  discovery: DiscoveryConfig;
  /** For the tracker role: how long a peer stays known after its last announcement. */
  trackerTtlMs?: number;
  logger: Logger;
  kademlia?: Partial<KademliaSettings>;
  /** The storage role (a replica of the key-value store), when this node stores data; without voters, this node alone (a one-node cluster). */
  storage?: Omit<StorageConfig, 'voters'> & { voters?: StorageConfig['voters'] };
  /**
   * The roles were not chosen but taken by default (`nines node` without role flags): a gateway
   * on a cluster without API keys then starts, warns and answers 401, where a gateway that was
   * asked for refuses to start.
   */
  allRolesByDefault?: boolean;
  /** The compute and gateway roles (the model, and the OpenAI-compatible API). */
  serving?: ServingConfig;
  /** Where the HTTP API listens, on nodes with the storage or gateway role (port 0: any free port). */
  api?: { host: string; port: number };
  /** Model distribution (`--fetch-model`): have this model in `<dataDir>/models/`, fetched from the peers that seed it if missing. */
  fetchModel?: { name: string; onProgress?: (progress: FetchProgress) => void };
}

/** Loads the identity in the data directory, issuing one first if it is missing and the CA key is at hand. */
export async function loadOrIssueIdentity(dataDir: string, clusterDir: string | undefined): Promise<Identity & { issued: boolean }> {
  const hasIdentity = existsSync(identityPaths(dataDir).certificate);
  if (!hasIdentity && clusterDir !== undefined && existsSync(clusterPaths(clusterDir).key)) {
    return { ...(await issuePeerCertificate(clusterDir, dataDir)), issued: true };
  }
  if (!hasIdentity && clusterDir !== undefined) {
    throw new NodeConfigError(
      `${dataDir} has no peer identity, and ${clusterDir} holds no CA key (${clusterPaths(clusterDir).key}) to issue one. ` +
        `On the machine that holds the CA key run: nines cluster issue --cluster-dir <cluster dir> --data-dir ${dataDir}`,
    );
  }
  const identity = loadIdentity(dataDir);
  const caCertificate = clusterDir === undefined ? undefined : clusterPaths(clusterDir).certificate;
  if (caCertificate !== undefined && existsSync(caCertificate) && !isIssuedBy(identity.certPem, readFileSync(caCertificate, 'utf8'))) {
    throw new NodeConfigError(`the identity in ${dataDir} was issued by another CA than ${caCertificate}; point --cluster-dir at its own cluster, or re-issue it`);
  }
  return { ...identity, issued: false };
}

function advertisedHost(config: NodeConfig): string {
  const host = config.advertiseHost ?? config.listen.host;
  if (host === '0.0.0.0' || host === '::') {
    throw new NodeConfigError(`listening on ${config.listen.host} (every interface) needs --advertise <host>: the address other peers should dial`);
  }
  return host;
}

export class Node implements AdminApi {
  readonly identity: Identity;
  readonly self: Contact;
  readonly roles: readonly string[];
  private readonly config: NodeConfig;
  private readonly transport: Transport;
  private readonly dht: DhtShell;
  private readonly discovery: Discovery;
  private readonly tracker: TrackerServer | undefined;
  private readonly admin: AdminServer;
  private readonly storage: StorageRole | undefined;
  private readonly serving: ServingRole;
  private readonly health: HealthRole;
  private readonly keysWatch: ApiKeysWatch | undefined;
  private stopping: Promise<void> | undefined;
  /** The model file this node fetched and/or seeds (model distribution). */
  private modelFile: SettledModelFile | undefined;

  private constructor(parts: {
    config: NodeConfig; identity: Identity; self: Contact; transport: Transport; dht: DhtShell; discovery: Discovery; tracker: TrackerServer | undefined; token: string;
    storage: StorageRole | undefined;
    serving: ServingRole;
    health: HealthRole;
    keysWatch: ApiKeysWatch | undefined;
  }) {
    this.health = parts.health;
    this.keysWatch = parts.keysWatch;
    this.config = parts.config;
    this.identity = parts.identity;
    this.self = parts.self;
    this.transport = parts.transport;
    this.dht = parts.dht;
    this.discovery = parts.discovery;
    this.tracker = parts.tracker;
    this.admin = new AdminServer(this, parts.token, parts.config.logger);
    this.storage = parts.storage;
    this.serving = parts.serving;
    const serving = parts.config.serving;
    this.roles = [
      parts.config.role,
      ...(parts.storage === undefined ? [] : ['storage']),
      ...(serving?.compute === true ? ['compute'] : []),
      ...(serving?.gateway === true ? ['gateway'] : []),
      ...parts.discovery.modes,
    ];
  }

  /** Starts a node; resolves once it listens, has written node.json and has started discovery. */
  static async start(config: NodeConfig): Promise<Node> {
    const { logger } = config;
    const identity = await loadOrIssueIdentity(config.dataDir, config.clusterDir);
    if (identity.issued) logger.info({ nodeId: identity.nodeId, dataDir: config.dataDir }, 'issued a new identity from the cluster CA');
    const host = advertisedHost(config);
    // Before anything listens: a gateway that was asked for and has no keys refuses to start.
    const keys = settlePeerApiKeys(config.dataDir, config.clusterDir, { required: config.serving?.gateway === true && config.allRolesByDefault !== true });
    const ring = new ApiKeyRing(keys.auth);
    warnIfNoKeys(ring, { gateway: config.serving?.gateway === true, storage: config.storage !== undefined, clusterDir: config.clusterDir, logger });
    const members = new CertifiedMembers(certifiedMembersMax);
    members.add(identity.nodeId);
    const transport = new Transport({
      identity,
      logger,
      // Every certificate that reaches this check has chained to the cluster CA: its key may sign values we believe.
      authenticatePeer: (certificate) => {
        const authentication = authenticatePeerCertificate(certificate);
        if (authentication.ok) members.add(authentication.nodeId);
        return authentication;
      },
    });
    const rng = new Rng(randomInt(2 ** 47));
    const started: { stop(): unknown }[] = [];
    try {
      const bound = await transport.listen(config.listen.host, config.listen.port);
      started.push({ stop: () => transport.close() });
      const self: Contact = { nodeId: identity.nodeId, host, port: bound.port };
      const dht = new DhtShell({ transport, self, keyPem: identity.keyPem, members, rng, logger, settings: config.kademlia });
      dht.start();
      started.push(dht);
      const tracker = config.role === 'tracker' ? new TrackerServer({ transport, rng, logger, ttlMs: config.trackerTtlMs }) : undefined;
      tracker?.start();
      if (tracker !== undefined) started.push(tracker);
      const announcer = { contact: self, certificatePem: identity.certPem, keyPem: identity.keyPem };
      const discovery = new Discovery(config.discovery, { transport, dht, rng, logger, announcer, caPem: identity.caPem });
      const storageConfig = config.storage === undefined ? undefined : {
        ...config.storage,
        voters: config.storage.voters === undefined || config.storage.voters.length === 0 ? [self] : config.storage.voters,
        replication: config.storage.replication ?? settleReplication(config.dataDir, config.clusterDir),
      };
      const storage = storageConfig === undefined ? undefined : StorageRole.start({ nodeId: identity.nodeId, dataDir: config.dataDir, transport, logger, config: storageConfig });
      if (storage !== undefined) started.push(storage);
      // Model distribution: fetching from peers needs the DHT joined, so discovery starts before the serving role;
      // a compute peer seeds its model file (fetched or its own) for the next peer that lacks it.
      started.push(discovery);
      await discovery.start();
      const modelFile = await settleModelFile({ transport, dht, logger, dataDir: config.dataDir, fetchName: config.fetchModel?.name, modelPath: config.serving?.modelPath, seed: config.serving?.compute === true, onProgress: config.fetchModel?.onProgress });
      started.push(modelFile);
      const servingConfig = { ...(config.serving ?? { compute: false, gateway: false }), ...(modelFile.path !== undefined && { modelPath: modelFile.path }) };
      // The view answers for the node, which exists only once every part below has started.
      const late: { node?: Node } = {};
      const { health, serving } = await startServingParts({ config, identity, self, transport, dht, storage, servingConfig, keys: { ...keys, ring }, late, started });
      const keysWatch = config.clusterDir === undefined ? undefined : new ApiKeysWatch({
        dataDir: config.dataDir, clusterDir: config.clusterDir, ring, applied: keys.config, logger, onLimits: (limits) => serving.replaceKeyLimits(limits),
      });
      keysWatch?.start();
      if (keysWatch !== undefined) started.push(keysWatch);
      const token = randomBytes(adminTokenBytes).toString('hex');
      const node = new Node({ config, identity, self, transport, dht, discovery, tracker, token, storage, serving, health, keysWatch });
      late.node = node;
      node.modelFile = modelFile;
      const adminPort = await node.admin.listen();
      started.push({ stop: () => node.admin.close() });
      writeNodeFile(config.dataDir, {
        version: nodeFileVersion, nodeId: identity.nodeId, contact: formatContact(self), host, port: bound.port, roles: [...node.roles],
        pid: process.pid, startedAt: new Date().toISOString(), admin: { host: adminHost, port: adminPort, token },
        api: serving.api.address,
      });
      void serving.announce();
      logger.info({ contact: formatContact(self), roles: node.roles, adminPort }, 'node started');
      return node;
    } catch (error) {
      for (const part of started.reverse()) await part.stop();
      removeNodeFile(config.dataDir);
      throw error;
    }
  }

  /** Where the HTTP API listens (every node serves the admin API, metrics and the dashboard). */
  get apiAddress(): { host: string; port: number } {
    return this.serving.api.address;
  }

  get servingRole(): ServingRole {
    return this.serving;
  }

  /** What this node tells others about itself, for the swarm view. */
  summary(): PeerSummary {
    const { host, port } = this.apiAddress;
    const raft = this.storage?.peer instanceof RaftPeer ? this.storage.peer.status() : undefined;
    return {
      nodeId: this.self.nodeId,
      contact: this.contact,
      api: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      roles: [...this.roles],
      leader: raft?.leader ?? null,
      mode: this.storage?.mode ?? null,
      reaches: [...new Set(this.health.reachable())],
    };
  }

  get contact(): string {
    return formatContact(this.self);
  }

  lookup(key: string): Promise<OperationResult> {
    return this.dht.lookup(key);
  }

  provide(key: string): Promise<OperationResult> {
    return this.dht.provide(key);
  }

  findProviders(key: string): Promise<OperationResult> {
    return this.dht.findProviders(key);
  }

  routingTable(): { nodeId: string; contact: string; size: number; buckets: ReturnType<DhtShell['routingTable']> } {
    return { nodeId: this.self.nodeId, contact: this.contact, size: this.dht.node.routingTableSize, buckets: this.dht.routingTable() };
  }

  status(): Record<string, unknown> {
    return {
      nodeId: this.self.nodeId,
      contact: this.contact,
      roles: this.roles,
      connectedPeers: this.transport.connectedPeers().length,
      routingTableSize: this.dht.node.routingTableSize,
      storedRecords: this.dht.node.storedRecordCount,
      kademlia: this.dht.node.stats,
      discovery: this.discovery.status(),
      tracker: this.tracker === undefined ? null : { peers: this.tracker.registry.size, ttlMs: this.tracker.registry.ttlMs },
      storage: this.storage === undefined ? null : { mode: this.storage.mode, replication: this.storage.peer.status() },
      serving: this.serving.status(),
      health: this.health.status(),
      modelFile: this.modelFile?.status() ?? null,
    };
  }

  /** Leaves cleanly: stops discovery and ticking, closes the admin channel and every connection, removes node.json. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.keysWatch?.stop();
      this.discovery.stop();
      this.tracker?.stop();
      // The DHT stays up while answers in progress finish: a gateway may still need to find another compute peer.
      await this.serving.stop(Date.now() + drainMs);
      // Its services' 'down', flushed while the store is still there.
      await this.health.stop();
      this.dht.stop();
      await this.modelFile?.stop();
      await this.storage?.stop();
      await this.admin.close();
      await this.transport.close();
      removeNodeFile(this.config.dataDir);
      this.config.logger.info({ contact: this.contact }, 'node stopped');
    })();
    return this.stopping;
  }
}

/**
 * The parts that serve clients and watch health: the swarm view (admin RPCs), the health role
 * (failure detector, health log), and the serving role with the HTTP API. Each is pushed on
 * `started` as it starts, so a failure stops what already runs.
 */
async function startServingParts(parts: {
  config: NodeConfig; identity: Identity; self: Contact; transport: Transport; dht: DhtShell; storage: StorageRole | undefined; servingConfig: ServingConfig;
  keys: PeerApiKeys & { ring: ApiKeyRing }; late: { node?: Node }; started: { stop(): unknown }[];
}): Promise<{ health: HealthRole; serving: ServingRole }> {
  const { config, identity, self, transport, dht, storage, servingConfig, keys, late, started } = parts;
  const known = () => knownPeers(dht, transport, config.storage?.voters ?? []);
  const swarmView = new SwarmView({
    self, transport, knownPeers: known,
    summary: () => late.node!.summary(),
    status: () => late.node!.status(),
    routingTable: () => late.node!.routingTable(),
  });
  // A compute or gateway peer without storage keeps its health log on the storage peers; a bare DHT peer keeps none.
  const remote = storage === undefined && (servingConfig.compute || servingConfig.gateway)
    ? { contacts: servingConfig.storagePeers ?? [], mode: settleReplication(config.dataDir, config.clusterDir).mode }
    : undefined;
  const health = new HealthRole({
    nodeId: identity.nodeId, transport, dht, knownPeers: known, storage, logger: config.logger, ...(remote !== undefined && { remote }),
    services: [...(storage === undefined ? [] : ['storage' as const]), ...(servingConfig.compute ? ['compute' as const] : []), ...(servingConfig.gateway ? ['gateway' as const] : [])],
  });
  started.push(health);
  const metrics = peerMetrics(dht, storage, () => late.node?.servingRole, health);
  const serving = await ServingRole.start({
    nodeId: identity.nodeId, dataDir: config.dataDir, clusterDir: config.clusterDir, transport, dht, logger: config.logger, storage, api: config.api ?? { host: '127.0.0.1', port: 0 }, config: servingConfig,
    admin: { backend: adminBackend(swarmView, health, servingConfig.gateway), auth: keys.ring },
    keys: { ring: keys.ring, limits: keys.limits },
    metrics,
    outcomes: {
      onOutcome: (report) => {
        health.requestOutcome(report);
        metrics.observeCompletion({ model: report.model, outcome: report.outcome === 'ok' ? 'success' : completionOutcomeOf(report.errorCode), promptTokens: report.promptTokens, completionTokens: report.completionTokens, durationMs: report.latencyMs });
      },
      onRefusal: (error) => {
        health.requestOutcome({ outcome: 'rejected', latencyMs: 0 });
        const { code, limit } = error as { code?: unknown; limit?: unknown };
        const rateLimit = limit === 'requests' || limit === 'tokens' || limit === 'streams' ? limit : undefined;
        metrics.observeCompletion({ model: undefined, outcome: completionOutcomeOf(code), promptTokens: 0, completionTokens: 0, durationMs: 0, ...(rateLimit !== undefined && { rateLimit }) });
      },
    },
  });
  started.push(serving);
  if (serving.directory !== undefined) health.watchBreakers(serving.directory.breakers);
  return { health, serving };
}

/** A completion's outcome as the metrics label it: OpenAI's error code where there is one. */
function completionOutcomeOf(code: unknown): CompletionOutcome {
  return isOpenAiErrorCode(code) ? code : 'internal_error';
}

/** Everyone a node knows of: its routing table, its storage voters and its live connections. */
function knownPeers(dht: DhtShell, transport: Transport, voters: readonly Contact[]): Contact[] {
  const connected = transport.connectedPeers().filter((peer) => peer.listenPort > 0).map((peer) => ({ nodeId: peer.nodeId, host: peer.host, port: peer.listenPort }));
  return [...dht.node.contacts(), ...voters, ...connected];
}

/** The peer's Prometheus metrics, read from each part at scrape time (the serving role's once it exists). */
function peerMetrics(dht: DhtShell, storage: StorageRole | undefined, serving: () => ServingRole | undefined, health: HealthRole): Metrics {
  const peer = storage?.peer;
  const metrics = createMetrics({
    ...(peer instanceof RaftPeer && { raft: () => peer.status() }),
    ...(peer !== undefined && !(peer instanceof RaftPeer) && { replica: () => peer.status() }),
    dht: () => ({ routingTableSize: dht.node.routingTableSize, storedRecords: dht.node.storedRecordCount, stats: dht.node.stats }),
    protection: () => serving()?.metricSources().protection?.(),
    breakers: () => serving()?.metricSources().breakers?.(),
    compute: () => serving()?.metricSources().compute?.(),
    availability: () => ({ peers: health.peerStates(), ...health.lastAvailability() }),
  });
  dht.onOperation((result) => metrics.observeDhtOperation({ kind: result.kind, ok: result.ok, hops: result.hops }));
  return metrics;
}

function adminBackend(view: SwarmView, health: HealthRole, gateway: boolean): AdminBackend {
  const control = LocalSwarmControl.fromEnvironment();
  return {
    swarm: async () => ({ ...(await view.gather()), localSwarm: control !== undefined }),
    peerStatus: (nodeId) => view.peerStatus(nodeId),
    peerRoutingTable: (nodeId) => view.peerRoutingTable(nodeId),
    availability: (options) => health.availability(options),
    ...(gateway && { requests: (seconds: number) => health.recentRequests(seconds) ?? [] }),
    ...(control !== undefined && { localSwarm: control }),
  };
}


/** Checks that a listen host is an IP address or a plain host name, before any work is done. */
export function checkListenHost(host: string): string {
  if (isIP(host) === 0 && !/^[a-zA-Z0-9.-]{1,253}$/.test(host)) throw new NodeConfigError(`--listen host "${host}" is not an IP address or host name`);
  return host;
}

export function startNode(config: NodeConfig): Promise<Node> {
  return Node.start(config);
}
