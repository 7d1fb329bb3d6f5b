/**
 * The gateway's view of the compute peers: who serves a model (DHT provider records,
 * refreshed in the background), who is healthy (a peer that failed is suspected for a while
 * and skipped, unless nobody else is left), and who is least loaded (the load each peer
 * reported with its last chunk, plus the chunks this gateway has in flight to it).
 *
 * A gateway that computes too calls its own engine directly, without the network.
 */
import type { Contact } from '../../p2p/identity/index.js';
import type { DhtShell } from '../../p2p/dht/index.js';
import type { Logger, Transport } from '../../net/index.js';
import type { ComputeEngine } from '../compute/compute-engine.js';
import { modelProviderKey } from '../compute/compute-role.js';
import type { ComputeDirectory } from '../compute/failover-runner.js';
import { computeGenerateMethod, type ChunkRequest, type ChunkResponse } from '../compute/protocol.js';

/** How long the provider list of a model is used before it is looked up again. */
export const providersRefreshMsDefault = 5_000;
/** How long a peer that failed a chunk is skipped. */
export const suspectMsDefault = 10_000;
/** Providers asked for per lookup. */
const providersWanted = 20;

interface PeerState {
  contact?: Contact;
  inFlight: number;
  reportedLoad: number;
  suspectedUntilMs: number;
}

export interface ComputeDirectoryParts {
  selfId: string;
  transport: Transport;
  dht: DhtShell;
  logger: Logger;
  /** This node's own engine, when it has the compute role. */
  localEngine?: ComputeEngine;
  refreshMs?: number;
  suspectMs?: number;
  now?: () => number;
}

export class SwarmComputeDirectory implements ComputeDirectory {
  private readonly peers = new Map<string, PeerState>();
  private readonly providers = new Map<string, { ids: string[]; fetchedMs: number; refreshing?: Promise<void> }>();
  private readonly now: () => number;

  constructor(private readonly parts: ComputeDirectoryParts) {
    this.now = parts.now ?? Date.now;
  }

  async candidates(model: string, exclude: ReadonlySet<string>): Promise<string[]> {
    const ids = await this.providerIds(model);
    const now = this.now();
    const usable = ids.filter((id) => !exclude.has(id));
    const healthy = usable.filter((id) => (this.peers.get(id)?.suspectedUntilMs ?? 0) <= now);
    const pool = healthy.length > 0 ? healthy : usable;
    return pool.sort((left, right) => this.loadOf(left) - this.loadOf(right) || (left === this.parts.selfId ? -1 : right === this.parts.selfId ? 1 : 0));
  }

  async call(peer: string, request: ChunkRequest, timeoutMs: number, signal: AbortSignal): Promise<ChunkResponse> {
    const state = this.state(peer);
    state.inFlight++;
    try {
      if (peer === this.parts.selfId && this.parts.localEngine !== undefined) return await this.parts.localEngine.chunk(request);
      if (state.contact === undefined) throw new Error(`no address known for compute peer ${peer}`);
      return (await this.parts.transport.request({ host: state.contact.host, port: state.contact.port, nodeId: peer }, computeGenerateMethod, request, { timeoutMs, signal })) as ChunkResponse;
    } finally {
      state.inFlight--;
    }
  }

  report(peer: string, outcome: { ok: true; load: ChunkResponse['load'] } | { ok: false; error: Error }): void {
    const state = this.state(peer);
    if (outcome.ok) {
      state.reportedLoad = outcome.load.liveJobs + outcome.load.waitingChunks;
      state.suspectedUntilMs = 0;
    } else {
      state.suspectedUntilMs = this.now() + (this.parts.suspectMs ?? suspectMsDefault);
      this.parts.logger.info({ peer, error: outcome.error.message }, 'compute peer failed a chunk; suspected');
    }
  }

  /** Peers and what the gateway believes of them, for status pages. */
  view(): Array<{ id: string; inFlight: number; reportedLoad: number; suspected: boolean }> {
    const now = this.now();
    return [...this.peers].map(([id, state]) => ({ id, inFlight: state.inFlight, reportedLoad: state.reportedLoad, suspected: state.suspectedUntilMs > now }));
  }

  private loadOf(peer: string): number {
    const state = this.peers.get(peer);
    return state === undefined ? 0 : state.inFlight + state.reportedLoad;
  }

  private state(peer: string): PeerState {
    let state = this.peers.get(peer);
    if (state === undefined) {
      state = { inFlight: 0, reportedLoad: 0, suspectedUntilMs: 0 };
      this.peers.set(peer, state);
    }
    return state;
  }

  /** The model's providers: from the cache while fresh, refreshed in the background when stale, looked up at once when unknown. */
  private async providerIds(model: string): Promise<string[]> {
    const cached = this.providers.get(model);
    const fresh = cached !== undefined && this.now() - cached.fetchedMs < (this.parts.refreshMs ?? providersRefreshMsDefault);
    if (cached !== undefined && cached.ids.length > 0) {
      if (!fresh && cached.refreshing === undefined) cached.refreshing = this.refresh(model).finally(() => (cached.refreshing = undefined));
      return cached.ids;
    }
    await this.refresh(model);
    return this.providers.get(model)?.ids ?? [];
  }

  private async refresh(model: string): Promise<void> {
    const ids = new Set<string>();
    if (this.parts.localEngine?.modelName === model) ids.add(this.parts.selfId);
    try {
      const result = await this.parts.dht.findProviders(modelProviderKey(model), providersWanted);
      for (const contact of result.providers) {
        ids.add(contact.nodeId);
        this.state(contact.nodeId).contact = contact;
      }
    } catch (error) {
      this.parts.logger.warn({ model, error: (error as Error).message }, 'provider lookup failed');
    }
    this.providers.set(model, { ids: [...ids], fetchedMs: this.now() });
  }
}
