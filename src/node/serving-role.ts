/**
 * What a node serves to clients: the HTTP API (the key-value store of its storage role, and
 * the OpenAI-compatible routes of its gateway role) and the model (its compute role).
 *
 * - compute: loads the model, serves chunks of generation to gateways over the transport and
 *   announces itself in the DHT as a provider of the model;
 * - gateway: answers the OpenAI API with the swarm's compute peers (found through the DHT,
 *   failed over mid-answer), keeps conversations in the storage role's replicated store and
 *   accepts the cluster's API keys.
 *
 * A gateway reads the model file's header (its tokenizer and chat template turn requests
 * into prompts; the weights stay on the compute peers) and needs, for now, the storage role on
 * the same node: gateway-only peers, which would reach the store over the network, are not
 * built yet and are refused with that reason. A compute peer may be a standby (see
 * compute-role.ts): warm loads the model at start, cold only when it must take over.
 */
import type { Logger, Transport } from '../net/index.js';
import type { DhtShell } from '../p2p/dht/index.js';
import { ApiServer } from '../api/server.js';
import { Protection } from '../api/openai/protection.js';
import { loadModel, loadModelHeader, type KernelChoice } from '../model/load-file.js';
import { ComputeRole, type Standby } from '../service/compute/compute-role.js';
import { SwarmComputeDirectory } from '../service/swarm/compute-directory.js';
import { RaftConversations, ReplicaConversations } from '../service/swarm/conversations.js';
import { SwarmCompletionBackend } from '../service/swarm/swarm-backend.js';
import { gatewayRateLimitDefaults, settleApiKeys } from './api-keys-file.js';
import { NodeConfigError } from './errors.js';
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
}

export class ServingRole {
  private constructor(
    readonly api: ApiServer | undefined,
    readonly compute: ComputeRole | undefined,
    readonly directory: SwarmComputeDirectory | undefined,
    private readonly logger: Logger,
    private readonly protection: Protection | undefined,
  ) {}

  static async start(parts: StartParts): Promise<ServingRole> {
    const { config, storage } = parts;
    if (config.gateway && storage === undefined) {
      throw new NodeConfigError('--gateway needs --storage on the same node for now: conversations live in its replicated store (gateway-only peers come later)');
    }
    const keys = config.gateway ? settleApiKeys(parts.dataDir, parts.clusterDir) : undefined;
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
        backend: new SwarmCompletionBackend({
          model: { name: header!.name, tokenizer: header!.tokenizer, chatTemplate: header!.chatTemplate, contextLength: header!.config.contextLength },
          directory,
          conversations: storage!.peer instanceof RaftPeer ? new RaftConversations(storage!.peer) : new ReplicaConversations(storage!.peer),
          onFailover: (event) => parts.logger.info(event, 'answer moved to another compute peer'),
        }),
        auth: keys!.auth,
        protection: new Protection({ rateLimits: { defaults: gatewayRateLimitDefaults, limits: keys!.limits } }),
      };
      const api = storage === undefined && completions === undefined ? undefined : await ApiServer.start({ host: parts.api.host, port: parts.api.port, kv: storage!.peer, ...(completions !== undefined && { completions }) });
      return new ServingRole(api, compute, directory, parts.logger, completions?.protection);
    } catch (error) {
      await compute?.stop();
      throw error;
    }
  }

  /** Warms the compute role's kernels, then publishes its provider record; call once the DHT has joined. */
  async announce(): Promise<void> {
    if (this.compute === undefined) return;
    await this.compute.warmUp();
    if (!(await this.compute.announce())) this.logger.info({}, 'no peer stored the model provider record yet; it is republished periodically');
  }

  status(): Record<string, unknown> {
    return {
      api: this.api?.address ?? null,
      compute: this.compute === undefined ? null : {
        model: this.compute.modelName,
        standby: this.compute.standby ?? null,
        loaded: this.compute.engine !== undefined,
        load: this.compute.engine?.load() ?? null,
        counters: this.compute.engine?.counters ?? null,
      },
      gateway: this.directory === undefined ? null : {
        computePeers: this.directory.view(),
        admission: this.protection?.admission.stats(),
        degradation: this.protection?.degradation.level,
      },
    };
  }

  async stop(): Promise<void> {
    await this.api?.close();
    this.protection?.close();
    this.directory?.close();
    await this.compute?.stop();
  }
}
