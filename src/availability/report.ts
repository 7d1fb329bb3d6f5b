/**
 * The availability report: MTBF, MTTR, availability and nines per peer, per service and for
 * the cluster, client-observed availability against an SLO, and leader changes, computed
 * from health events over a window [sinceMs, untilMs).
 *
 * The rules:
 * - availability = uptime / (uptime + downtime) over the time inside the window whose state is
 *   known. With as many repairs as failures that is MTBF / (MTBF + MTTR), where MTBF = uptime /
 *   failures (mean time between failures, counted as time up) and MTTR = downtime / outages
 *   (mean time to repair; an outage that began before the window or has not ended counts too,
 *   with only its part inside the window). nines = -log10(1 - availability).
 * - A peer is down from the first 'down' any observer reports until an 'up' from anyone: its
 *   own start or any observer's failure detector. Several observers reporting the same
 *   change are one change.
 * - A state is known from the first event that sets it. The report is given every event, also
 *   those before sinceMs: the last one before the window sets the state the window starts in.
 *   A peer, service or the cluster with no event before the window starts is observed only
 *   from its first event (its `observedMs` is then shorter than the window): a peer that joined
 *   half-way was not down before it existed.
 * - A service (gateway, compute, storage) is offered by the peers that reported it (up or down)
 *   at least once: a reader may only have a peer's last 'down'. It is up while at least one of
 *   them has it up and is not down by the failure detector, and down otherwise. Storage in
 *   single-leader mode (when there are leader events at all) is also down while no leader is
 *   known or the leader is down (leader-view.ts says when a leader is known); it is observed
 *   only from the first time a leader is known, since a fresh cluster's first election is its
 *   start, not an outage. The detectors' timeouts bound how precisely this is seen: a dead peer
 *   counts as up until a detector says it is down (at the time it was last heard from, when
 *   the shell records it so: src/node/health).
 * - The cluster is down while any service it has is down (services never seen do not count).
 * - Breakers are listed with their state at the window's end and how often they opened in it.
 * - Client-observed availability is ok / all requests over the 'requests' events that start in
 *   the window; failed and rejected requests both count against the SLO.
 * - Events come in any order and may repeat: they are sorted by time with a stable tie-break
 *   on their content, and exact duplicates dropped, so the report does not depend on order.
 */
import { leaderChangesMax } from './constants.js';
import { AvailabilityOptionsInvalidError } from './errors.js';
import { services, sortEvents, type BreakerState, type HealthEvent, type PeerState, type RequestsEvent, type Service } from './events.js';
import { ninesOf, ninesTable, type NinesRow } from './nines.js';
import { StateSpan, type EntityAvailability, type KnownState } from './span.js';
import { LeaderView } from './leader-view.js';

export interface AvailabilityReportOptions {
  sinceMs: number;
  untilMs: number;
  /** The SLO on client-observed availability, as a fraction in (0, 1): 0.999 for 99.9 %. */
  sloTarget: number;
}

export interface PeerAvailability extends EntityAvailability {
  peer: string;
}

export interface ServiceAvailability extends EntityAvailability {
  service: Service;
  /** Peers that reported the service (up or down) at some time up to the window's end. */
  peers: number;
}

export interface ClientAvailability {
  requests: number;
  ok: number;
  failed: number;
  rejected: number;
  /** ok / requests; null without requests. */
  availability: number | null;
  nines: number | null;
  latencyMsMean: number | null;
  latencyMsMax: number | null;
  /** Gateways that reported requests in the window. */
  gateways: number;
}

export interface SloStatus {
  /** The target, as a fraction. */
  target: number;
  /** Failed requests the target allows for the requests seen: requests * (1 - target). */
  allowedFailures: number;
  /** Failed plus rejected requests. */
  failures: number;
  /** 1 - failures / allowedFailures: the fraction of the error budget left; negative when overspent. */
  errorBudgetRemaining: number;
  met: boolean;
}

export interface LeaderChange {
  atMs: number;
  leader: string;
  term: number;
}

/** One circuit breaker (of `observer`, towards `peer`): its state at the window's end and how often it opened inside it. */
export interface BreakerStatus {
  observer: string;
  peer: string;
  state: BreakerState;
  opens: number;
}

export interface AvailabilityReport {
  sinceMs: number;
  untilMs: number;
  windowMs: number;
  /** Distinct events up to the window's end that the report was computed from. */
  events: number;
  /** Whether storage needs a known leader (single-leader mode: leader events were recorded). */
  storageNeedsLeader: boolean;
  cluster: EntityAvailability;
  services: ServiceAvailability[];
  peers: PeerAvailability[];
  client: ClientAvailability;
  slo: SloStatus;
  leaderChanges: LeaderChange[];
  /** Breakers that reported at all, by observer then peer. */
  breakers: BreakerStatus[];
  /** Leader changes in the window beyond `leaderChangesMax`, left out (the oldest are kept). */
  leaderChangesOmitted: number;
  ninesTable: NinesRow[];
}

function checkOptions(options: AvailabilityReportOptions): void {
  const { sinceMs, untilMs, sloTarget } = options;
  if (!Number.isFinite(sinceMs) || !Number.isFinite(untilMs) || sinceMs >= untilMs) {
    throw new AvailabilityOptionsInvalidError(`the window must start before it ends, got since ${sinceMs} ms and until ${untilMs} ms; pass an earlier --since`);
  }
  if (!(Number.isFinite(sloTarget) && sloTarget > 0 && sloTarget < 1)) {
    throw new AvailabilityOptionsInvalidError(`the SLO target must be a fraction strictly between 0 and 1 (0.999 for 99.9 %), got ${sloTarget}`);
  }
}

/** Rounds away the last bits of floating-point noise (1000 * (1 - 0.999) is 1.0000000000000009). */
function tidy(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

/** What the events say about the cluster at one moment, updated event by event. */
class ClusterView {
  readonly peerStates = new Map<string, PeerState>();
  readonly serviceStates = new Map<Service, Map<string, PeerState>>(services.map((service) => [service, new Map()]));
  readonly leaders = new LeaderView();

  /** Applies one event; returns a leader change when it made a new leader known. */
  apply(event: HealthEvent): LeaderChange | undefined {
    switch (event.kind) {
      case 'peer':
        this.peerStates.set(event.subject, event.state);
        return undefined;
      case 'service':
        this.serviceStates.get(event.service)!.set(event.peer, event.state);
        return undefined;
      case 'leader':
        return this.leaders.apply(event.observer, event.term, event.leader, event.atMs);
      default:
        return undefined;
    }
  }

  peerState(peer: string): KnownState {
    return this.peerStates.get(peer);
  }

  serviceState(service: Service, needsLeader: boolean): KnownState {
    const offering = this.serviceStates.get(service)!;
    if (offering.size === 0) return undefined;
    // A fresh cluster's first election is its start, not an outage: its storage was not offered yet.
    if (service === 'storage' && needsLeader && !this.leaders.everKnown) return undefined;
    const anyUp = [...offering].some(([peer, state]) => state === 'up' && this.peerStates.get(peer) !== 'down');
    if (!anyUp) return 'down';
    if (service === 'storage' && needsLeader) {
      const isDown = (peer: string) => this.peerStates.get(peer) === 'down';
      const leader = this.leaders.leader(isDown);
      const leaderUp = leader !== null && !isDown(leader);
      if (!leaderUp) return 'down';
    }
    return 'up';
  }
}

function clusterState(serviceStates: KnownState[]): KnownState {
  if (serviceStates.every((state) => state === undefined)) return undefined;
  return serviceStates.includes('down') ? 'down' : 'up';
}

export function availabilityReport(events: readonly HealthEvent[], options: AvailabilityReportOptions): AvailabilityReport {
  checkOptions(options);
  const { sinceMs, untilMs } = options;
  // The replication mode is the cluster's, so leader events after the window count too.
  const needsLeader = events.some((event) => event.kind === 'leader');
  const sorted = sortEvents(events).filter((event) => event.atMs < untilMs);
  const view = new ClusterView();
  const peerSpans = new Map<string, StateSpan>();
  const serviceSpans = new Map(services.map((service) => [service, new StateSpan(sinceMs, untilMs)]));
  const clusterSpan = new StateSpan(sinceMs, untilMs);
  const leaderChanges: LeaderChange[] = [];
  let leaderChangesOmitted = 0;
  const touchedPeers = new Set<string>();
  for (let index = 0; index < sorted.length; index++) {
    const event = sorted[index]!;
    const change = view.apply(event);
    if (change !== undefined && change.atMs >= sinceMs) {
      if (leaderChanges.length < leaderChangesMax) leaderChanges.push(change);
      else leaderChangesOmitted++;
    }
    if (event.kind === 'peer') touchedPeers.add(event.subject);
    // Events at the same millisecond are one moment: the states are sampled after the last of them.
    if (sorted[index + 1]?.atMs === event.atMs) continue;
    for (const peer of touchedPeers) {
      let span = peerSpans.get(peer);
      if (span === undefined) peerSpans.set(peer, (span = new StateSpan(sinceMs, untilMs)));
      span.set(event.atMs, view.peerState(peer));
    }
    touchedPeers.clear();
    const states = services.map((service) => view.serviceState(service, needsLeader));
    services.forEach((service, position) => serviceSpans.get(service)!.set(event.atMs, states[position]));
    clusterSpan.set(event.atMs, clusterState(states));
  }
  const breakers = breakerStatuses(sorted, sinceMs);
  const client = clientAvailability(sorted.filter((event): event is RequestsEvent => event.kind === 'requests' && event.atMs >= sinceMs));
  return {
    sinceMs,
    untilMs,
    windowMs: untilMs - sinceMs,
    events: sorted.length,
    storageNeedsLeader: needsLeader,
    cluster: clusterSpan.finish(),
    services: services.map((service) => ({ service, peers: view.serviceStates.get(service)!.size, ...serviceSpans.get(service)!.finish() })),
    peers: [...peerSpans].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)).map(([peer, span]) => ({ peer, ...span.finish() })),
    client,
    slo: sloStatus(client, options.sloTarget),
    leaderChanges,
    breakers,
    leaderChangesOmitted,
    ninesTable: ninesTable(),
  };
}

function breakerStatuses(sorted: readonly HealthEvent[], sinceMs: number): BreakerStatus[] {
  const byBreaker = new Map<string, BreakerStatus>();
  for (const event of sorted) {
    if (event.kind !== 'breaker') continue;
    const key = JSON.stringify([event.observer, event.peer]);
    const known = byBreaker.get(key);
    const status = known ?? { observer: event.observer, peer: event.peer, state: event.state, opens: 0 };
    // A breaker first seen open opened then (breakers start closed).
    if (event.state === 'open' && known?.state !== 'open' && event.atMs >= sinceMs) status.opens++;
    status.state = event.state;
    byBreaker.set(key, status);
  }
  return [...byBreaker.entries()].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)).map(([, status]) => status);
}

function clientAvailability(windows: readonly RequestsEvent[]): ClientAvailability {
  let ok = 0;
  let failed = 0;
  let rejected = 0;
  let latencyMsSum = 0;
  let latencyMsMax: number | null = null;
  const gateways = new Set<string>();
  for (const window of windows) {
    ok += window.ok;
    failed += window.failed;
    rejected += window.rejected;
    latencyMsSum += window.latencyMsSum;
    if (window.ok + window.failed + window.rejected > 0) latencyMsMax = Math.max(latencyMsMax ?? 0, window.latencyMsMax);
    gateways.add(window.gateway);
  }
  const requests = ok + failed + rejected;
  const availability = requests === 0 ? null : ok / requests;
  return {
    requests,
    ok,
    failed,
    rejected,
    availability,
    nines: availability === null ? null : ninesOf(availability),
    latencyMsMean: requests === 0 ? null : latencyMsSum / requests,
    latencyMsMax,
    gateways: gateways.size,
  };
}

function sloStatus(client: ClientAvailability, target: number): SloStatus {
  const allowedFailures = tidy(client.requests * (1 - target));
  const failures = client.failed + client.rejected;
  return {
    target,
    allowedFailures,
    failures,
    errorBudgetRemaining: client.requests === 0 ? 1 : tidy(1 - failures / allowedFailures),
    met: client.availability === null || client.availability >= target,
  };
}
