/**
 * The gateway's view of the compute peers: who serves a model (DHT provider records,
 * refreshed in the background), who is healthy (every chunk goes through the peer's circuit
 * breaker, which opens after repeated failures and half-opens to try again; a peer whose
 * breaker is open, or that failed moments ago, is skipped unless nobody else is left), and who
 * is least loaded (the load each peer reported with its last chunk, plus the chunks this
 * gateway has in flight to it).
 *
 * A gateway that computes too calls its own engine directly, without the network.
 */
import type { Contact } from '../../p2p/identity/index.js';
import type { DhtShell } from '../../p2p/dht/index.js';
import type { Logger, Transport } from '../../net/index.js';
import { modelProviderKey, modelStandbyKey, type LocalCompute } from '../compute/compute-role.js';
import { isRequestError, type ComputeDirectory } from '../compute/failover-runner.js';
import { CircuitBreakers, type BreakerStatus } from '../../resilience/index.js';
import { computeGenerateMethod, type ChunkRequest, type ChunkResponse } from '../compute/protocol.js';

/** How long the provider list of a model is used before it is looked up again. */
export const providersRefreshMsDefault = 5_000;
/**
 * How long a peer that failed a chunk is skipped. Short: a peer that keeps failing is the
 * circuit breaker's to keep out, and a restarted peer should be used again soon.
 */
export const suspectMsDefault = 2_000;
/** Models whose provider lists the directory keeps fresh. */
const modelsTrackedMax = 16;
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
  /** This node's own compute role, when it has one. */
  local?: LocalCompute;
  /** The breakers of the gateway's RPC paths (one set per gateway; shared so status shows them together). */
  breakers?: CircuitBreakers;
  refreshMs?: number;
  suspectMs?: number;
  now?: () => number;
}

export class SwarmComputeDirectory implements ComputeDirectory {
  private readonly peers = new Map<string, PeerState>();
  /** Provider lists by DHT key: a model's primaries, and its standbys. */
  private readonly providers = new Map<string, { ids: string[]; fetchedMs: number; refreshing?: Promise<void> }>();
  /** Keys whose background lookup is under way. */
  private readonly refreshing = new Set<string>();
  /** Models asked for so far (a gateway serves one or a few), kept fresh by the timer. */
  private readonly models = new Set<string>();
  private readonly now: () => number;
  readonly breakers: CircuitBreakers;

  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly parts: ComputeDirectoryParts) {
    this.now = parts.now ?? Date.now;
    // Keep every known provider list fresh in the background, so that a failover finds the
    // other peers already known and never waits for a lookup (which may wait on the dead peer).
    this.timer = setInterval(() => this.refreshKnown(), parts.refreshMs ?? providersRefreshMsDefault);
    this.timer.unref();
    // A request the model refuses is the client's fault, not the peer's: it does not count against the breaker.
    this.breakers = parts.breakers ?? new CircuitBreakers({ isFailure: (error) => !isRequestError(error) });
  }

  /**
   * The peers to try, best first: healthy primaries, least loaded first; then healthy standbys,
   * in node-id order (so that every gateway turns to the same one); then, when nothing healthy
   * is left, the rest, primaries first.
   */
  async candidates(model: string, exclude: ReadonlySet<string>): Promise<string[]> {
    if (this.models.size < modelsTrackedMax) this.models.add(model);
    const ranked = await this.rank(model, exclude);
    if (ranked.length > 0 || exclude.size === 0) return ranked;
    // Every peer we knew of failed this job: look again before giving up, since peers that
    // joined since the last lookup (or whose first announcement we missed) may serve it.
    await Promise.all([this.refresh(model, 'primary', modelProviderKey(model)), this.refresh(model, 'standby', modelStandbyKey(model))]);
    return this.rank(model, exclude);
  }

  private async rank(model: string, exclude: ReadonlySet<string>): Promise<string[]> {
    const primaries = await this.providerIds(model, 'primary');
    const now = this.now();
    const healthy = (id: string) => (this.peers.get(id)?.suspectedUntilMs ?? 0) <= now && !this.breakers.isOpen(id, computeGenerateMethod);
    const usablePrimaries = primaries.filter((id) => !exclude.has(id));
    // Standbys are waited for only when no primary is left to try: a DHT lookup mid-failover
    // may wait on the very peer that just died. Otherwise the cached list (refreshed in the background) will do.
    const standbys = usablePrimaries.length > 0 ? this.cachedIds(model, 'standby') : await this.providerIds(model, 'standby');
    const usableStandbys = standbys.filter((id) => !exclude.has(id) && !primaries.includes(id)).sort();
    const byLoad = (left: string, right: string) => this.loadOf(left) - this.loadOf(right) || (left === this.parts.selfId ? -1 : right === this.parts.selfId ? 1 : 0);
    return [
      ...usablePrimaries.filter(healthy).sort(byLoad),
      ...usableStandbys.filter(healthy),
      ...usablePrimaries.filter((id) => !healthy(id)),
      ...usableStandbys.filter((id) => !healthy(id)),
    ];
  }

  async call(peer: string, request: ChunkRequest, timeoutMs: number, signal: AbortSignal): Promise<ChunkResponse> {
    const state = this.state(peer);
    state.inFlight++;
    try {
      if (peer === this.parts.selfId && this.parts.local !== undefined) return await this.parts.local.chunk(request);
      const contact = state.contact;
      if (contact === undefined) throw new Error(`no address known for compute peer ${peer}`);
      return await this.breakers.call(peer, computeGenerateMethod, async () =>
        (await this.parts.transport.request({ host: contact.host, port: contact.port, nodeId: peer }, computeGenerateMethod, request, { timeoutMs, signal })) as ChunkResponse,
      );
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
  view(): Array<{ id: string; inFlight: number; reportedLoad: number; suspected: boolean; breaker: BreakerStatus['state'] }> {
    const now = this.now();
    const breakerOf = new Map(this.breakers.states().filter((status) => status.path === computeGenerateMethod).map((status) => [status.peerId, status.state]));
    return [...this.peers].map(([id, state]) => ({ id, inFlight: state.inFlight, reportedLoad: state.reportedLoad, suspected: state.suspectedUntilMs > now, breaker: breakerOf.get(id) ?? 'closed' }));
  }

  close(): void {
    clearInterval(this.timer);
    this.breakers.close();
  }

  private refreshKnown(): void {
    for (const model of this.models) {
      this.cachedIds(model, 'primary');
      this.cachedIds(model, 'standby');
    }
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

  /** The cached list, refreshed in the background when stale or missing; never waits. */
  private cachedIds(model: string, kind: 'primary' | 'standby'): string[] {
    const key = kind === 'primary' ? modelProviderKey(model) : modelStandbyKey(model);
    const cached = this.providers.get(key);
    const stale = cached === undefined || this.now() - cached.fetchedMs >= (this.parts.refreshMs ?? providersRefreshMsDefault);
    if (stale && !this.refreshing.has(key)) {
      this.refreshing.add(key);
      void this.refresh(model, kind, key).finally(() => this.refreshing.delete(key));
    }
    return cached?.ids ?? [];
  }

  /** The model's primaries or standbys: from the cache while fresh, refreshed in the background when stale, looked up at once when unknown. */
  private async providerIds(model: string, kind: 'primary' | 'standby'): Promise<string[]> {
    const key = kind === 'primary' ? modelProviderKey(model) : modelStandbyKey(model);
    const cached = this.providers.get(key);
    const fresh = cached !== undefined && this.now() - cached.fetchedMs < (this.parts.refreshMs ?? providersRefreshMsDefault);
    // An empty list is looked up again every time: a standby serves only while no primary is known, so it must be noticed at once.
    if (cached !== undefined && cached.ids.length > 0) {
      if (!fresh && cached.refreshing === undefined) cached.refreshing = this.refresh(model, kind, key).finally(() => (cached.refreshing = undefined));
      return cached.ids;
    }
    await this.refresh(model, kind, key);
    return this.providers.get(key)?.ids ?? [];
  }

  private async refresh(model: string, kind: 'primary' | 'standby', key: string): Promise<void> {
    const ids = new Set<string>();
    const local = this.parts.local;
    if (local?.modelName === model && (local.standby === undefined) === (kind === 'primary')) ids.add(this.parts.selfId);
    try {
      const result = await this.parts.dht.findProviders(key, providersWanted);
      for (const contact of result.providers) {
        ids.add(contact.nodeId);
        this.state(contact.nodeId).contact = contact;
      }
    } catch (error) {
      this.parts.logger.warn({ model, error: (error as Error).message }, 'provider lookup failed');
    }
    this.providers.set(key, { ids: [...ids], fetchedMs: this.now() });
  }
}
