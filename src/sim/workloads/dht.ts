/**
 * The DHT workload of the P2P issue, at any size: peers join through a few bootstrap peers,
 * then look up random keys, then live through churn that replaces a fraction of the peers
 * every simulated minute, while lookups and provider queries go on. Every query is judged
 * against the simulator's global knowledge of who is alive:
 *
 * - a lookup succeeds when the closest peer it returns is at least as close to the key as
 *   the closest peer that was up and joined (its bootstrap lookup done) before the lookup
 *   started and is still up when it ends;
 * - a provider query picks a (key, provider) record whose provider is up and whose
 *   announcement finished before the query started, and succeeds when that provider is
 *   among the providers returned.
 *
 * The production `KademliaNode` runs unchanged inside `Simulation`; nothing here reaches
 * into a node except through its public calls and results.
 */
import { assert } from '../../core/assert.js';
import type { Rng } from '../../core/rng.js';
import { kademliaConstants, randomId, type Contact, type KademliaMessage, type KademliaSettings, type NodeId, type OperationResult } from '../../p2p/kademlia/index.js';
import { compareDistance, idToWords } from '../../p2p/kademlia/node-id.js';
import { emptyTrafficCounts, kademliaPeerFactory, type ContactDirectory, type SimulatedKademliaPeer, type TrafficCounts } from '../kademlia-peer.js';
import type { NetworkSettings } from '../network.js';
import { Simulation } from '../simulation.js';
import { describeQueries, describeRoutingTables, QueryMetrics, routingTableSummary, type QuerySummary, type RoutingTableSummary, type Threshold } from './dht-metrics.js';

export interface DhtWorkloadOptions {
  seed: number;
  /** Peers in the network, bootstrap peers included; churn keeps the count. */
  peers: number;
  bootstrapPeers: number;
  /** Simulated milliseconds between two joins. */
  joinIntervalMs: number;
  lookups: number;
  lookupIntervalMs: number;
  /** Keys announced with provide() before the lookups, each by `providersPerKey` random peers. */
  providerKeys: number;
  providersPerKey: number;
  churnDurationMs: number;
  /** Fraction of the (non-bootstrap) peers replaced per simulated minute: 0.01 = 1%. */
  churnFractionPerMinute: number;
  churnLookupIntervalMs: number;
  churnProviderQueryIntervalMs: number;
  /** Quiet time after each phase, for operations in flight to finish. */
  settleMs: number;
  network?: Partial<NetworkSettings>;
  kademlia?: Partial<KademliaSettings>;
  log?: (line: string) => void;
}

/** The issue's full size: 10,000 peers, 3 bootstrap peers, 10,000 lookups, an hour of 1%-per-minute churn. */
export const fullSizeDhtOptions: Omit<DhtWorkloadOptions, 'seed'> = {
  peers: 10_000,
  bootstrapPeers: 3,
  joinIntervalMs: 50,
  lookups: 10_000,
  lookupIntervalMs: 10,
  providerKeys: 300,
  providersPerKey: 3,
  churnDurationMs: 60 * 60_000,
  churnFractionPerMinute: 0.01,
  churnLookupIntervalMs: 500,
  churnProviderQueryIntervalMs: 500,
  settleMs: 30_000,
};

export interface DhtReport {
  seed: number;
  options: Omit<DhtWorkloadOptions, 'log'>;
  joined: { peers: number; bootstrapRetries: number; simulatedMs: number; routingTables: RoutingTableSummary };
  lookups: QuerySummary;
  churn: { replacedPeers: number; simulatedMs: number; lookups: QuerySummary; providerQueries: QuerySummary; routingTables: RoutingTableSummary };
  thresholds: Threshold[];
  passed: boolean;
  simulation: { simulatedMs: number; events: number; messagesSent: number; messagesDelivered: number; dropped: number; traceHash: string; messagesByType: TrafficCounts };
}

interface PeerInfo {
  readonly address: string;
  readonly contact: Contact;
  readonly words: Uint32Array;
  readonly bootstrap: boolean;
  alive: boolean;
  bootstrappedAtMs: number | undefined;
  /** Keys this peer provides -> when its announcement finished (undefined while in flight). */
  readonly provides: Map<NodeId, number | undefined>;
}

interface PendingQuery {
  readonly kind: 'lookup' | 'providers';
  readonly metrics: QueryMetrics;
  readonly startMs: number;
  readonly key: NodeId;
  readonly origin: PeerInfo;
  readonly provider?: PeerInfo;
}

const bootstrapRetryMs = 5_000;

export function runDhtWorkload(options: DhtWorkloadOptions): DhtReport {
  assert(options.bootstrapPeers >= 1 && options.peers > options.bootstrapPeers, 'a DHT run needs at least one bootstrap peer and one more peer');
  assert(options.providersPerKey <= options.peers - options.bootstrapPeers, 'providersPerKey cannot exceed the peers that are not bootstrap peers');
  const log = options.log ?? (() => undefined);
  const sim = new Simulation<KademliaMessage>({ seed: options.seed, tickMs: kademliaConstants.tickMs, network: options.network, log });
  const workload = new DhtRun(sim, options, sim.forkRng());
  return workload.run(log);
}

class DhtRun {
  private readonly sim: Simulation<KademliaMessage>;
  private readonly options: DhtWorkloadOptions;
  private readonly rng: Rng;
  private readonly directory: ContactDirectory = new Map();
  private readonly traffic = emptyTrafficCounts();
  private readonly byAddress = new Map<string, PeerInfo>();
  /** Peers up now; `churnable` is the same without the bootstrap peers. Both are unordered (swap-remove). */
  private readonly live: PeerInfo[] = [];
  private readonly churnable: PeerInfo[] = [];
  private readonly bootstrapContacts: Contact[] = [];
  private readonly pending = new Map<string, PendingQuery>();
  /** Provided keys -> peers that provide them. */
  private readonly providersOfKey = new Map<NodeId, Set<PeerInfo>>();
  private readonly lookupMetrics = new QueryMetrics();
  private readonly churnLookupMetrics = new QueryMetrics();
  private readonly churnProviderMetrics = new QueryMetrics();
  private nextPeerNumber = 0;
  private bootstrapRetries = 0;
  private replacedPeers = 0;

  constructor(sim: Simulation<KademliaMessage>, options: DhtWorkloadOptions, rng: Rng) {
    this.sim = sim;
    this.options = options;
    this.rng = rng;
  }

  run(log: (line: string) => void): DhtReport {
    const { sim, options } = this;
    // Join: the bootstrap peers first, each through those before it, then everyone else through them.
    for (let i = 0; i < options.bootstrapPeers; i++) this.addPeer(true);
    for (let i = options.bootstrapPeers; i < options.peers; i++) sim.at(1_000 + (i - options.bootstrapPeers) * options.joinIntervalMs, () => this.addPeer(false));
    sim.runUntil(1_000 + (options.peers - options.bootstrapPeers) * options.joinIntervalMs + options.settleMs);
    const joinedAtMs = sim.now;
    const joinedTables = this.routingTables();
    log(`joined ${this.live.length} peers in ${(joinedAtMs / 1000).toFixed(0)} simulated s (${this.bootstrapRetries} bootstrap retries); ${this.trafficSince(emptyTrafficCounts())}`);
    const joinTraffic = { ...this.traffic };
    for (const line of describeRoutingTables('routing tables after joining', joinedTables)) log(line);

    // Provider records, then lookups of random keys in a steady network.
    this.announceProviders();
    sim.runFor(options.settleMs);
    this.repeat(options.lookups, options.lookupIntervalMs, () => this.startLookup(this.lookupMetrics));
    sim.runFor(options.lookups * options.lookupIntervalMs + options.settleMs);
    const lookups = this.lookupMetrics.summary();
    log(`provider announcements and lookups: ${this.trafficSince(joinTraffic)}`);
    const lookupTraffic = { ...this.traffic };
    for (const line of describeQueries('lookups', lookups)) log(line);

    // Churn: replace peers steadily while lookups and provider queries go on.
    const churnStartMs = sim.now;
    const replacementsPerMinute = Math.round(options.churnFractionPerMinute * (options.peers - options.bootstrapPeers));
    if (replacementsPerMinute > 0) this.repeat(Math.floor((options.churnDurationMs / 60_000) * replacementsPerMinute), 60_000 / replacementsPerMinute, () => this.replacePeer());
    this.repeat(Math.floor(options.churnDurationMs / options.churnLookupIntervalMs), options.churnLookupIntervalMs, () => this.startLookup(this.churnLookupMetrics));
    this.repeat(Math.floor(options.churnDurationMs / options.churnProviderQueryIntervalMs), options.churnProviderQueryIntervalMs, () => this.startProviderQuery());
    sim.runFor(options.churnDurationMs + options.settleMs);
    for (const query of this.pending.values()) if (!query.origin.alive) query.metrics.abandoned++;
    const churn = {
      replacedPeers: this.replacedPeers,
      simulatedMs: sim.now - churnStartMs,
      lookups: this.churnLookupMetrics.summary(),
      providerQueries: this.churnProviderMetrics.summary(),
      routingTables: this.routingTables(),
    };
    log(`churn: replaced ${churn.replacedPeers} peers in ${(options.churnDurationMs / 60_000).toFixed(0)} simulated minutes; ${this.trafficSince(lookupTraffic)}`);
    for (const line of describeQueries('lookups under churn', churn.lookups)) log(line);
    for (const line of describeQueries('provider queries under churn', churn.providerQueries)) log(line);
    for (const line of describeRoutingTables('routing tables after churn', churn.routingTables)) log(line);

    const thresholds = this.thresholds(lookups, churn.lookups, churn.providerQueries);
    for (const threshold of thresholds) log(`${threshold.pass ? 'PASS' : 'FAIL'} ${threshold.name}: ${threshold.actual} (required ${threshold.required})`);
    const stats = sim.stats;
    const { log: _log, ...reportedOptions } = options;
    return {
      seed: options.seed,
      options: reportedOptions,
      joined: { peers: joinedTables.peers, bootstrapRetries: this.bootstrapRetries, simulatedMs: joinedAtMs, routingTables: joinedTables },
      lookups,
      churn,
      thresholds,
      passed: thresholds.every((threshold) => threshold.pass),
      simulation: {
        simulatedMs: sim.now,
        events: stats.events,
        messagesSent: stats.messagesSent,
        messagesDelivered: stats.messagesDelivered,
        dropped: stats.droppedLost + stats.droppedPartitioned + stats.droppedUnreachable,
        traceHash: sim.traceHash(),
        messagesByType: { ...this.traffic },
      },
    };
  }

  private thresholds(lookups: QuerySummary, churnLookups: QuerySummary, churnProviders: QuerySummary): Threshold[] {
    const rate = (value: number) => Math.round(value * 100_000) / 100_000;
    return [
      { name: 'lookup success', required: '>= 0.999', actual: rate(lookups.successRate), pass: lookups.successRate >= 0.999 },
      { name: 'lookup median hops', required: '<= 4', actual: lookups.hops.median, pass: lookups.hops.median <= 4 },
      { name: 'lookup p99 hops', required: '<= 7', actual: lookups.hops.p99, pass: lookups.hops.p99 <= 7 },
      { name: 'lookup success under churn', required: '>= 0.99', actual: rate(churnLookups.successRate), pass: churnLookups.successRate >= 0.99 },
      { name: 'provider records found under churn', required: '>= 0.99', actual: rate(churnProviders.successRate), pass: churnProviders.successRate >= 0.99 },
    ];
  }

  private trafficSince(before: TrafficCounts): string {
    const parts = Object.entries(this.traffic).map(([type, count]) => [type, count - before[type as keyof TrafficCounts]] as const).filter(([, count]) => count > 0);
    const total = parts.reduce((sum, [, count]) => sum + count, 0);
    return `${total} messages (${parts.map(([type, count]) => `${type} ${count}`).join(', ')})`;
  }

  /** Runs `action` `count` times, `intervalMs` apart, starting now; each run schedules the next, so the queue stays small. */
  private repeat(count: number, intervalMs: number, action: () => void): void {
    let done = 0;
    const step = () => {
      if (done++ >= count) return;
      action();
      this.sim.after(intervalMs, step);
    };
    this.sim.after(0, step);
  }

  // ---- peers -------------------------------------------------------------------------

  private addPeer(bootstrap: boolean, provides: readonly NodeId[] = []): PeerInfo {
    const number = this.nextPeerNumber++;
    const nodeId = randomId(this.rng);
    const contact: Contact = { nodeId, host: `peer-${number}`, port: 7946 };
    const address = `${contact.host}:${contact.port}`;
    const info: PeerInfo = { address, contact, words: idToWords(nodeId), bootstrap, alive: true, bootstrappedAtMs: undefined, provides: new Map() };
    for (const key of provides) info.provides.set(key, undefined);
    // Bootstrap peers join through the ones made before them; everyone else through all of them.
    const through = bootstrap ? [...this.bootstrapContacts] : this.bootstrapContacts;
    if (bootstrap) this.bootstrapContacts.push(contact);
    this.byAddress.set(address, info);
    this.live.push(info);
    if (!bootstrap) this.churnable.push(info);
    this.sim.addPeer(address, kademliaPeerFactory({
      contact,
      directory: this.directory,
      bootstrap: () => through,
      onResult: (from, result) => this.onResult(from, result),
      settings: this.options.kademlia,
      traffic: this.traffic,
    }));
    return info;
  }

  private replacePeer(): void {
    if (this.churnable.length === 0) return;
    const leaving = this.churnable[this.rng.nextInt(this.churnable.length)];
    this.removeFrom(this.churnable, leaving);
    this.removeFrom(this.live, leaving);
    leaving.alive = false;
    this.sim.removePeer(leaving.address);
    for (const key of leaving.provides.keys()) this.providersOfKey.get(key)!.delete(leaving);
    // The newcomer takes over what the leaver provided, as a replacement server would.
    const newcomer = this.addPeer(false, [...leaving.provides.keys()]);
    for (const key of newcomer.provides.keys()) this.providersOfKey.get(key)!.add(newcomer);
    this.replacedPeers++;
  }

  private removeFrom(list: PeerInfo[], info: PeerInfo): void {
    const index = list.indexOf(info);
    list[index] = list[list.length - 1];
    list.pop();
  }

  private onResult(address: string, result: OperationResult): void {
    const info = this.byAddress.get(address)!;
    const nowMs = this.sim.now;
    if (result.kind === 'bootstrap') {
      if (result.ok || info.bootstrap) {
        info.bootstrappedAtMs ??= nowMs;
        // Announcing right away, from inside this result's delivery, would re-enter the peer; a zero delay keeps calls flat.
        if (info.provides.size > 0) this.sim.after(0, () => this.provideAll(info));
      } else {
        this.bootstrapRetries++;
        this.sim.after(bootstrapRetryMs, () => this.sim.invoke(address, (peer) => (peer as SimulatedKademliaPeer).node.bootstrap(this.bootstrapContacts)));
      }
      return;
    }
    if (result.kind === 'provide') {
      if (info.provides.has(result.key)) info.provides.set(result.key, result.ok ? nowMs : undefined);
      return;
    }
    const query = this.pending.get(`${address}#${result.operationId}`);
    if (query === undefined) return;
    this.pending.delete(`${address}#${result.operationId}`);
    const latencyMs = nowMs - query.startMs;
    const success = query.kind === 'lookup' ? this.lookupSucceeded(query, result) : result.providers.some((provider) => provider.nodeId === query.provider!.contact.nodeId);
    this.sim.noteOutcome(success ? 1 : 0);
    query.metrics.add(success, result.hops, latencyMs, result.requests);
  }

  private provideAll(info: PeerInfo): void {
    for (const key of info.provides.keys()) this.sim.invoke(info.address, (peer) => (peer as SimulatedKademliaPeer).node.provide(key));
  }

  private announceProviders(): void {
    for (let i = 0; i < this.options.providerKeys; i++) {
      const key = randomId(this.rng);
      const providers = new Set<PeerInfo>();
      while (providers.size < this.options.providersPerKey) providers.add(this.churnable[this.rng.nextInt(this.churnable.length)]);
      this.providersOfKey.set(key, providers);
      for (const provider of providers) provider.provides.set(key, undefined);
    }
    for (const info of this.churnable) if (info.provides.size > 0) this.provideAll(info);
  }

  // ---- queries -----------------------------------------------------------------------

  /** A random peer that is up and has joined, other than `except`. */
  private randomJoinedPeer(except?: PeerInfo): PeerInfo | undefined {
    for (let attempt = 0; attempt < 100; attempt++) {
      const info = this.live[this.rng.nextInt(this.live.length)];
      if (info.bootstrappedAtMs !== undefined && info !== except) return info;
    }
    return undefined;
  }

  private startLookup(metrics: QueryMetrics): void {
    const origin = this.randomJoinedPeer();
    if (origin === undefined) return;
    const key = randomId(this.rng);
    const operationId = this.sim.invoke(origin.address, (peer) => (peer as SimulatedKademliaPeer).node.lookup(key))!;
    this.pending.set(`${origin.address}#${operationId}`, { kind: 'lookup', metrics, startMs: this.sim.now, key, origin });
  }

  private startProviderQuery(): void {
    const keys = [...this.providersOfKey.keys()];
    if (keys.length === 0) return;
    const key = keys[this.rng.nextInt(keys.length)];
    const announced = [...this.providersOfKey.get(key)!].filter((info) => info.provides.get(key) !== undefined);
    if (announced.length === 0) return;
    const provider = announced[this.rng.nextInt(announced.length)];
    const origin = this.randomJoinedPeer(provider);
    if (origin === undefined) return;
    const operationId = this.sim.invoke(origin.address, (peer) => (peer as SimulatedKademliaPeer).node.findProviders(key))!;
    this.pending.set(`${origin.address}#${operationId}`, { kind: 'providers', metrics: this.churnProviderMetrics, startMs: this.sim.now, key, origin, provider });
  }

  /** Whether the closest peer found is at least as close as the closest peer that was up and joined throughout the lookup. */
  private lookupSucceeded(query: PendingQuery, result: OperationResult): boolean {
    const keyWords = idToWords(query.key);
    let best: PeerInfo | undefined;
    for (const info of this.live) {
      if (info === query.origin || info.bootstrappedAtMs === undefined || info.bootstrappedAtMs > query.startMs) continue;
      if (best === undefined || compareDistance(keyWords, info.words, 0, best.words, 0) < 0) best = info;
    }
    if (best === undefined) return result.closest.length > 0;
    if (result.closest.length === 0) return false;
    return compareDistance(keyWords, idToWords(result.closest[0].nodeId), 0, best.words, 0) <= 0;
  }

  /** Routing-table fill of every live peer, and the sum of their counters (peers that left took theirs with them). */
  private routingTables(): RoutingTableSummary {
    const tables: { size: number; bucketFill: number[] }[] = [];
    const counters: Record<string, number> = {};
    for (const info of this.live) {
      this.sim.invoke(info.address, (peer) => {
        const node = (peer as SimulatedKademliaPeer).node;
        tables.push({ size: node.routingTableSize, bucketFill: node.bucketFill() });
        for (const [name, value] of Object.entries(node.stats)) if (typeof value === 'number') counters[name] = (counters[name] ?? 0) + value;
      });
    }
    return { ...routingTableSummary(tables), liveNodeCounters: counters };
  }
}
