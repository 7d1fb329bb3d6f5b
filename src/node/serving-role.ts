/**
 * What a node serves to clients: the HTTP API (the key-value store of its storage role, and
 * the OpenAI-compatible routes of its gateway role) and the model (its compute role).
 *
 * - compute: loads the model, serves chunks of generation to gateways over the transport and
 *   announces itself in the DHT as a provider of the model;
 * - gateway: answers the OpenAI API with the swarm's compute peers (found through the DHT,
 *   failed over mid-answer), keeps conversations in the replicated store and accepts the
 *   cluster's API keys;
 * - storage: serves conversations to gateway-only peers over the transport (conversation-rpc.ts)
 *   and announces itself in the DHT as a storage peer.
 *
 * A gateway reads the model file's header (its tokenizer and chat template turn requests
 * into prompts; the weights stay on the compute peers). With the storage role on the same node
 * it keeps conversations in its own replica; without it (a gateway-only peer) it reaches the
 * storage peers over the network (remote-conversations.ts), found in the DHT and/or given with
 * --storage-peers. A compute peer may be a standby (see compute-role.ts): warm loads the model
 * at start, cold only when it must take over.
 */
import type { Logger, Transport } from '../net/index.js';
import type { DhtShell } from '../p2p/dht/index.js';
import { ApiServer } from '../api/server.js';
import type { AdminRoutesOptions } from '../api/admin/routes.js';
import { protectionSource, type Metrics, type MetricsSources } from '../api/metrics/index.js';
import { Protection } from '../api/openai/protection.js';
import { loadModel, loadModelHeader, type KernelChoice } from '../model/load-file.js';
import { ComputeRole, type Standby } from '../service/compute/compute-role.js';
import { SwarmComputeDirectory } from '../service/swarm/compute-directory.js';
import { RaftConversations, ReplicaConversations, type ConversationStoreOptions } from '../service/swarm/conversations.js';
import { ConversationRpcServer } from '../service/swarm/conversation-rpc.js';
import { RemoteConversations } from '../service/swarm/remote-conversations.js';
import type { Contact } from '../p2p/identity/index.js';
import { SwarmCompletionBackend } from '../service/swarm/swarm-backend.js';
import { withOutcomes, type JobReport } from '../service/outcome-backend.js';
import type { CompletionBackend } from '../service/completion-backend.js';
import { gatewayRateLimitDefaults, type KeyLimitsByName } from './api-keys-file.js';
import type { ApiKeyRing } from '../api/openai/auth.js';
import { RaftPeer } from './raft/raft-peer.js';
import type { StorageRole } from './storage-role.js';

export interface ServingConfig {
  compute: boolean;
  gateway: boolean;
  /** The GGUF file (default: the built-in model). */
  modelPath?: string;
  threads?: number;
  kernels?: KernelChoice;
  /** A compute peer that serves only when no primary does (see compute-role.ts). */
  standby?: Standby;
  /** A gateway without the storage role: storage peers to reach at once, besides those found in the DHT. */
  storagePeers?: readonly Contact[];
}

interface StartParts {
  nodeId: string;
  dataDir: string;
  clusterDir: string | undefined;
  transport: Transport;
  dht: DhtShell;
  logger: Logger;
  storage: StorageRole | undefined;
  api: { host: string; port: number };
  config: ServingConfig;
  admin?: AdminRoutesOptions;
  /** The peer's live key ring (the OpenAI and key-value routes take it) and each key's rate limits; the node swaps both when api-keys.json changes. */
  keys: { ring: ApiKeyRing; limits: KeyLimitsByName };
  metrics?: Metrics;
  /** Where the gateway reports how each completion ended, for the availability tracker. */
  outcomes?: { onOutcome: (report: JobReport) => void; onRefusal: (error: unknown) => void };
}

export class ServingRole {
  private constructor(
    readonly api: ApiServer,
    readonly compute: ComputeRole | undefined,
    readonly directory: SwarmComputeDirectory | undefined,
    private readonly logger: Logger,
    private readonly protection: Protection | undefined,
  ) {}

  /** The conversations' RPC server of a storage peer, and the client of a gateway-only peer. */
  private conversations: { server?: ConversationRpcServer; remote?: RemoteConversations } = {};

  static async start(parts: StartParts): Promise<ServingRole> {
    const { config, storage } = parts;
    // A storage peer's conversations serve its own gateway and, over the transport, the gateway-only peers.
    const raftPeer = storage?.peer instanceof RaftPeer ? storage.peer : undefined;
    const conversationsOf = (options: ConversationStoreOptions) => (storage === undefined ? undefined : storage.peer instanceof RaftPeer ? new RaftConversations(storage.peer, options) : new ReplicaConversations(storage.peer, options));
    // This node's gateway waits out an election; remote gateways are answered at once and try another storage peer themselves.
    const localConversations = conversationsOf({});
    const servedConversations = conversationsOf({ retryDeadlineMs: 0 });
    let remote: RemoteConversations | undefined;
    const { keys } = parts;
    const header = config.compute || config.gateway ? loadModelHeader(config.modelPath) : undefined;
    const loadOptions = { threads: config.threads, kernels: config.kernels };
    let compute: ComputeRole | undefined;
    try {
      if (config.compute) {
        // A cold standby loads the weights only when it must take over; everyone else now.
        const model = config.standby === 'cold' ? () => loadModel(header!.path, loadOptions) : loadModel(header!.path, loadOptions);
        compute = new ComputeRole({ modelName: header!.name, model, ...(config.standby !== undefined && { standby: config.standby }), transport: parts.transport, dht: parts.dht, logger: parts.logger });
      }
      const directory = config.gateway ? new SwarmComputeDirectory({ selfId: parts.nodeId, transport: parts.transport, dht: parts.dht, logger: parts.logger, ...(compute !== undefined && { local: compute }) }) : undefined;
      const completions = directory === undefined ? undefined : {
        backend: reportingOutcomes(parts.outcomes, new SwarmCompletionBackend({
          model: { name: header!.name, tokenizer: header!.tokenizer, chatTemplate: header!.chatTemplate, contextLength: header!.config.contextLength },
          directory,
          conversations: localConversations ?? (remote = new RemoteConversations({ transport: parts.transport, dht: parts.dht, contacts: config.storagePeers, breakers: directory.breakers, logger: parts.logger })),
          onFailover: (event) => parts.logger.info(event, 'answer moved to another compute peer'),
        })),
        auth: keys.ring,
        ...(parts.outcomes !== undefined && { onRefusal: parts.outcomes.onRefusal }),
        protection: new Protection({ rateLimits: { defaults: gatewayRateLimitDefaults, limits: keys.limits } }),
      };
      // Every peer serves HTTP: the admin API, the metrics and the dashboard; the store and the OpenAI routes where it has those roles.
      const api = await ApiServer.start({
        host: parts.api.host, port: parts.api.port, ...(storage !== undefined && { kv: storage.peer, kvAuth: keys.ring }), ...(completions !== undefined && { completions }), ...(parts.admin !== undefined && { admin: parts.admin }),
        ...(parts.metrics !== undefined && { metrics: parts.metrics }),
      });
      // Last, so that nothing after it can fail and leave its republish timer running.
      const server = servedConversations === undefined ? undefined : new ConversationRpcServer({
        transport: parts.transport, store: servedConversations, dht: parts.dht, logger: parts.logger, ...(raftPeer !== undefined && { leaderId: () => raftPeer.leader }),
      });
      const role = new ServingRole(api, compute, directory, parts.logger, completions?.protection);
      role.conversations = { ...(server !== undefined && { server }), ...(remote !== undefined && { remote }) };
      return role;
    } catch (error) {
      await compute?.stop();
      throw error;
    }
  }

  /** Publishes the storage provider record (in the background); warms the compute role's kernels, then publishes its provider record; call once the DHT has joined. */
  async announce(): Promise<void> {
    void this.conversations.server?.announce();
    if (this.compute === undefined) return;
    await this.compute.warmUp();
    if (!(await this.compute.announce())) this.logger.info({}, 'no peer stored the model provider record yet; it is republished periodically');
  }

  /** Sets each key's rate limits after api-keys.json changed (a key it does not name keeps the defaults). */
  replaceKeyLimits(limits: KeyLimitsByName): void {
    for (const [keyName, keyLimits] of Object.entries(limits)) this.protection?.rateLimiter.setLimits(keyName, keyLimits);
  }

  /** What the metrics read of the gateway and compute roles, at each scrape. */
  metricSources(): Pick<MetricsSources, 'protection' | 'breakers' | 'compute'> {
    return {
      ...(this.protection !== undefined && { protection: protectionSource(this.protection) }),
      ...(this.directory !== undefined && { breakers: () => this.directory!.breakers.states() }),
      ...(this.compute !== undefined && { compute: () => this.compute!.engine?.counters }),
    };
  }

  status(): Record<string, unknown> {
    return {
      api: this.api.address,
      compute: this.compute === undefined ? null : {
        model: this.compute.modelName,
        standby: this.compute.standby ?? null,
        loaded: this.compute.engine !== undefined,
        load: this.compute.engine?.load() ?? null,
        counters: this.compute.engine?.counters ?? null,
      },
      gateway: this.directory === undefined ? null : {
        computePeers: this.directory.view(),
        storagePeers: this.conversations.remote?.view() ?? null,
        admission: this.protection?.admission.stats(),
        degradation: this.protection?.degradation.level,
      },
    };
  }

  /**
   * A clean stop: the compute role refuses new jobs at once (gateways take them elsewhere) while
   * the answers in progress — this gateway's streams, the jobs other gateways pull from here —
   * finish, until `deadlineMs`; then everything closes.
   */
  async stop(deadlineMs = Date.now()): Promise<void> {
    const draining = this.compute?.drain(deadlineMs);
    await this.api.close(deadlineMs);
    await draining;
    this.protection?.close();
    this.directory?.close();
    this.conversations.server?.stop();
    await this.compute?.stop();
  }
}

function reportingOutcomes(outcomes: StartParts['outcomes'], backend: CompletionBackend): CompletionBackend {
  return outcomes === undefined ? backend : withOutcomes(backend, outcomes.onOutcome);
}
