/**
 * How a peer counts its own nines (DESIGN.md section 4, step 8): the failure detector pings
 * every peer it knows, and each up/down it sees, each change of the storage leader, each
 * circuit-breaker transition and each answer its gateway gives goes into the peer's health
 * log in the replicated store (src/node/health). The admin API reads every peer's log back and
 * computes MTBF, MTTR, availability and nines from it (src/availability).
 *
 * A peer without the storage role keeps its health log on the storage peers, over the
 * transport (health/remote-health-store.ts), and reads the others' from there for its reports.
 */
import type { Service } from '../availability/index.js';
import { availabilityReport } from '../availability/index.js';
import type { Logger, Transport } from '../net/index.js';
import type { Contact } from '../p2p/kademlia/index.js';
import type { CircuitBreakers } from '../resilience/index.js';
import { HealthMonitor, HealthRecorder, healthStoreFor, peerEventOf, readHealthEvents, RemoteHealthStore, serveHealthStore, type HealthStore, type RequestOutcomeReport, type RequestSecond } from './health/index.js';
import type { DhtShell } from '../p2p/dht/index.js';
import { RaftPeer } from './raft/raft-peer.js';
import type { StorageRole } from './storage-role.js';

/** The metrics' availability gauges: the cluster's over this window, computed at most this often (when scraped). */
const availabilityMetricWindowMs = 3_600_000;
const availabilityRefreshMs = 30_000;

/** How often a storage peer looks at whom it follows, to record leader changes. */
const leaderWatchMs = 100;

export interface HealthRoleParts {
  nodeId: string;
  transport: Transport;
  dht: DhtShell;
  knownPeers: () => Contact[];
  storage: StorageRole | undefined;
  /** A peer without storage: storage peers to keep its health log on (else those announced in the DHT), and the cluster's mode. */
  remote?: { contacts: readonly Contact[]; mode: HealthStore['mode'] };
  services: readonly Service[];
  logger: Logger;
}

export class HealthRole {
  private readonly monitor: HealthMonitor;
  private readonly store: HealthStore | undefined = undefined;
  private readonly recorder: HealthRecorder | undefined;
  private readonly leaderTimer: ReturnType<typeof setInterval> | undefined;
  private readonly unsubscribers: (() => void)[] = [];
  private cachedAvailability: { availability?: number; nines?: number | null } = {};
  private availabilityAtMs = Number.NEGATIVE_INFINITY;
  private computingAvailability = false;

  constructor(private readonly parts: HealthRoleParts) {
    const storagePeer = parts.storage?.peer;
    if (storagePeer !== undefined) {
      this.store = healthStoreFor(storagePeer);
      serveHealthStore(parts.transport, this.store);
    } else if (parts.remote !== undefined) {
      this.store = new RemoteHealthStore({ transport: parts.transport, dht: parts.dht, contacts: parts.remote.contacts, mode: parts.remote.mode });
    }
    this.recorder = this.store === undefined ? undefined : new HealthRecorder({ nodeId: parts.nodeId, store: this.store, now: Date.now, logger: parts.logger, services: parts.services });
    this.monitor = new HealthMonitor({
      transport: parts.transport,
      peers: parts.knownPeers,
      logger: parts.logger,
      onTransition: (observer, transition, lastHeardAtMs) => {
        const event = peerEventOf(observer, transition, Date.now(), lastHeardAtMs);
        if (event !== undefined) this.recorder?.record(event);
      },
    });
    this.monitor.start();
    if (storagePeer instanceof RaftPeer && this.recorder !== undefined) {
      const recorder = this.recorder;
      // Every change of (term, leader) this peer sees, a lost leader (null) and its own election included: the report's view of the leader rests on them.
      let last: string | undefined;
      this.leaderTimer = setInterval(() => {
        const { leader, term } = storagePeer.status();
        const seen = `${term}/${leader ?? ''}`;
        if (seen === last) return;
        last = seen;
        recorder.record({ kind: 'leader', atMs: Date.now(), observer: parts.nodeId, leader: leader ?? null, term });
      }, leaderWatchMs);
      this.leaderTimer.unref();
    }
  }

  /** Breaker transitions of the gateway's directory are health events too. */
  watchBreakers(breakers: CircuitBreakers): void {
    const recorder = this.recorder;
    if (recorder === undefined) return;
    this.unsubscribers.push(breakers.onTransition((transition) => recorder.record({ kind: 'breaker', atMs: transition.atMs, observer: this.parts.nodeId, peer: transition.peerId, state: transition.to })));
  }

  requestOutcome(report: RequestOutcomeReport): void {
    this.recorder?.requestOutcome(report);
  }

  recentRequests(seconds: number): RequestSecond[] | undefined {
    return this.recorder?.recentRequests(seconds);
  }

  /** What the failure detector thinks of each peer it watches. */
  peerStates(): { peer: string; state: 'up' | 'suspect' | 'down' }[] {
    return this.monitor.states().map((peer) => ({ peer: peer.peer, state: peer.state }));
  }

  /**
   * The cluster's availability over the last hour as last computed for the metrics (every
   * `availabilityRefreshMs`, from the health log; nothing until the first computation).
   */
  lastAvailability(): { availability?: number; nines?: number | null } {
    const now = Date.now();
    if (this.store !== undefined && !this.computingAvailability && now - this.availabilityAtMs >= availabilityRefreshMs) {
      this.computingAvailability = true;
      this.availabilityAtMs = now;
      void this.availability({ sinceMs: now - availabilityMetricWindowMs, sloTarget: 0.999 })
        .then((report) => {
          const cluster = (report as { cluster: { availability: number | null; nines: number | null } }).cluster;
          this.cachedAvailability = cluster.availability === null ? {} : { availability: cluster.availability, nines: cluster.nines };
        })
        .catch(() => undefined)
        .finally(() => (this.computingAvailability = false));
    }
    return this.cachedAvailability;
  }

  /** The node IDs the failure detector currently sees up. */
  reachable(): string[] {
    return this.monitor.states().filter((peer) => peer.state === 'up').map((peer) => peer.peer);
  }

  /** Every peer's health log, read from the store, as an availability report over [sinceMs, now]. */
  async availability(options: { sinceMs: number; sloTarget: number }): Promise<unknown> {
    if (this.store === undefined) throw Object.assign(new Error('this peer has no health log to read (no storage role, and no storage peer to reach); ask a storage peer'), { code: 'ADMIN_UNAVAILABLE' });
    const read = await readHealthEvents(this.store, { sinceMs: options.sinceMs });
    const report = availabilityReport(read.events, { sinceMs: options.sinceMs, untilMs: Date.now(), sloTarget: options.sloTarget });
    return { ...report, healthRead: { peers: read.peers, segmentsRead: read.segmentsRead, truncated: read.truncated, invalidEvents: read.invalidEvents, problems: read.problems } };
  }

  status(): Record<string, unknown> {
    return { peers: this.monitor.states(), recorder: this.recorder?.stats() ?? null };
  }

  /** Records this peer's services down (a clean stop is downtime too) and flushes, best effort. */
  async stop(): Promise<void> {
    clearInterval(this.leaderTimer);
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.monitor.stop();
    await this.recorder?.stop();
  }
}
