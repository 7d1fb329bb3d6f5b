/**
 * The JSON the dashboard reads from a peer's admin API. The availability report is built
 * by another part of nines and may gain or rename fields, so every field the dashboard
 * shows from it is optional here and rendered only when present.
 */

export type PeerState = 'up' | 'suspect' | 'down';

export interface SwarmPeer {
  nodeId: string;
  /** host:port#nodeId of its transport. */
  contact: string;
  /** Its HTTP API (http://host:port), when it serves one. */
  api: string | null;
  roles: string[];
  state: PeerState;
  /** The node IDs this peer sees up. */
  reaches: string[];
}

export interface SwarmView {
  /** The node ID of the peer that answered. */
  self: string;
  peers: SwarmPeer[];
  leader: string | null;
  /** The replication mode: the route gives it as `mode`; the first design had `replication.mode`. Read it with modeOf. */
  mode?: string | null;
  replication?: { mode?: string };
  /** The view asked only the first of many peers. */
  truncated?: boolean;
  /** True when the swarm is a local one (`nines start`): only then may the dashboard kill and restart peers. */
  localSwarm: boolean;
}

export interface RoutingTable {
  nodeId: string;
  contact: string;
  size: number;
  buckets: { index: number; contacts: RoutingContact[] }[];
}

/** A routing-table entry: the route gives host and port (and when it was last seen); the first design had a contact string. */
export interface RoutingContact {
  nodeId: string;
  contact?: string;
  host?: string;
  port?: number;
  lastSeenMs?: number;
}

export function modeOf(view: SwarmView): string {
  return view.mode ?? view.replication?.mode ?? 'unknown';
}

/** Availability figures shared by the cluster, a service and a peer (src/availability/span.ts). */
export interface AvailabilityFigures {
  availability?: number | null;
  nines?: number | null;
  mtbfMs?: number | null;
  mttrMs?: number | null;
  failures?: number | null;
  uptimeMs?: number;
  downtimeMs?: number;
  observedMs?: number;
}

export interface ClientFigures {
  requests?: number;
  ok?: number;
  failed?: number;
  rejected?: number;
  availability?: number | null;
  nines?: number | null;
}

export interface AvailabilityReport {
  sinceMs?: number;
  untilMs?: number;
  windowMs?: number;
  cluster?: AvailabilityFigures;
  services?: (AvailabilityFigures & { service?: string; peers?: number })[];
  peers?: (AvailabilityFigures & { peer?: string })[];
  /** Client-observed availability (named `clientObserved` in early drafts of the report). */
  client?: ClientFigures;
  clientObserved?: ClientFigures;
  slo?: { target?: number; allowedFailures?: number; failures?: number; errorBudgetRemaining?: number | null; met?: boolean };
  leaderChanges?: { atMs?: number; leader?: string | null; term?: number }[];
  leaderChangesOmitted?: number;
  ninesTable?: NinesRow[];
}

/** One row of the table of nines: an availability and the downtime it allows. */
export interface NinesRow {
  nines?: number;
  availability?: number;
  percent?: number;
  downtimePerDayMs?: number;
  downtimePerMonthMs?: number;
  downtimePerYearMs?: number;
}

/** One second of a gateway's traffic. */
export interface RequestSecond {
  atMs: number;
  ok: number;
  failed: number;
  rejected: number;
  latencyMsP50: number | null;
  latencyMsP99: number | null;
}

export interface RequestSeries {
  series: RequestSecond[];
}

/** What a streamed chat chunk's `nines_trace` holds for one token. */
export interface TraceEntry {
  token: string;
  id: number;
  probability: number | null;
  candidates: { token: string; id: number; probability: number }[];
  peer?: string;
}
