/**
 * The chaos report: pure. What the run recorded (its actions, the leaders it saw, every
 * request's outcome, the read-back after the run) becomes health events for src/availability,
 * per-second request summaries, the measured figures next to the configured ones, and the
 * targets of issue 8, each met, missed or not measured.
 *
 * The chat success rate counts the requests that reached a gateway: ok / (ok + failed). A
 * refused connection never reached a peer (the client moved to another gateway with the same
 * request), so it is counted apart and not against the rate.
 */
import { availabilityReport, type AvailabilityReport, type HealthEvent } from '../availability/index.js';
import { chatSuccessTarget, failoverMttrMsTarget, sloTarget } from './constants.js';
import type { MissingMessage, MissingPut } from './lost-messages.js';
import type { ChaosPlan } from './plan.js';
import type { ChaosAction, FailoverMeasure, LeaderObservation, RequestKind, RequestRecord } from './types.js';

export interface ChaosConfiguration {
  peers: number;
  durationMs: number;
  mtbfMs: number;
  repairMs: number;
  seed: number;
  replication: string;
  acks: string;
  killsMax: number;
  /** Kills aimed at the storage leader of the moment (--leader-kills). */
  leaderKills: number;
  /** Gateway-only peers in front, used by the chat clients and never killed. */
  frontGateways: number;
  /** The --target URLs, or empty when the run started its own swarm. */
  targets: string[];
  chatClients: number;
  kvClients: number;
  chatTokensMax: number;
}

export interface ChaosPeerInfo {
  index: number;
  nodeId: string;
  api: string;
}

export interface ChaosReportInput {
  configuration: ChaosConfiguration;
  startMs: number;
  endMs: number;
  peers: ChaosPeerInfo[];
  /** The gateways the clients used, by the index their requests record. */
  gateways: string[];
  plan: ChaosPlan;
  actions: ChaosAction[];
  /** Whether the leader was tracked (single-leader mode). */
  leaderTracking: boolean;
  leaders: LeaderObservation[];
  failovers: FailoverMeasure[];
  requests: RequestRecord[];
  /** `unverified`: writes that could not be read back at all (never counted as kept). */
  conversations: { checked: number; acknowledgedMessages: number; missing: MissingMessage[]; unverified: string[] };
  kv: { acknowledgedPuts: number; missing: MissingPut[]; unverified: string[] };
  /** The swarm's own availability report (GET /v1/admin/availability), or why there is none. */
  clusterView: { available: true; report: unknown } | { available: false; note: string };
  notes: string[];
}

export interface RequestTotals {
  sent: number;
  ok: number;
  failed: number;
  refused: number;
  /** ok / (ok + failed); null without any request that reached a gateway. */
  successRate: number | null;
  latencyMsP50: number | null;
  latencyMsP99: number | null;
  latencyMsMax: number | null;
  /** The most frequent errors, with their counts. */
  errors: { error: string; count: number }[];
}

export interface SecondSummary {
  /** Seconds since the run's start. */
  second: number;
  chatOk: number;
  chatFailed: number;
  kvOk: number;
  kvFailed: number;
  refused: number;
  chatLatencyMsP50: number | null;
  chatLatencyMsMax: number | null;
}

export type TargetOutcome = 'met' | 'missed' | 'not-measured';

export interface TargetResult {
  name: string;
  required: string;
  measured: string;
  outcome: TargetOutcome;
}

export interface ChaosReport {
  version: 1;
  configuration: ChaosConfiguration;
  seed: number;
  startMs: number;
  endMs: number;
  windowMs: number;
  peers: ChaosPeerInfo[];
  gateways: string[];
  plan: { kills: number; skipped: ChaosPlan['skipped']; downPeersMax: number };
  actions: ChaosAction[];
  leaderTracking: boolean;
  leaderChanges: LeaderObservation[];
  failovers: FailoverMeasure[];
  requests: Record<RequestKind, RequestTotals>;
  perSecond: SecondSummary[];
  conversations: ChaosReportInput['conversations'];
  kv: ChaosReportInput['kv'];
  lostMessages: number;
  configured: { mtbfMs: number; repairMs: number; peerMtbfMs: number; peerAvailability: number; peerNines: number | null };
  measured: {
    kills: number;
    /** The run's length over its kills: the swarm's measured mean time between failures. */
    mtbfMs: number | null;
    /** Pooled over peers: uptime / failures, downtime / outages, uptime / observed time. */
    peerMtbfMs: number | null;
    peerMttrMs: number | null;
    peerAvailability: number | null;
    peerNines: number | null;
    clusterAvailability: number | null;
    clusterNines: number | null;
    chatAvailability: number | null;
    chatNines: number | null;
    failoverMttrMsMax: number | null;
  };
  availability: AvailabilityReport;
  clusterView: ChaosReportInput['clusterView'];
  targets: TargetResult[];
  passed: boolean;
  notes: string[];
}

const observer = 'chaos';

/** Health events (src/availability) for what the run did and saw: peers and their services, leaders, chat requests per second. */
export function healthEventsOf(input: Pick<ChaosReportInput, 'startMs' | 'peers' | 'actions' | 'leaders' | 'requests' | 'gateways'>): HealthEvent[] {
  const events: HealthEvent[] = [];
  const peerState = (atMs: number, nodeId: string, state: 'up' | 'down') => {
    events.push({ kind: 'peer', atMs, observer, subject: nodeId, state });
    for (const service of ['gateway', 'compute', 'storage'] as const) events.push({ kind: 'service', atMs, peer: nodeId, service, state });
  };
  for (const peer of input.peers) peerState(input.startMs, peer.nodeId, 'up');
  for (const action of input.actions) {
    if (action.kind === 'kill') peerState(action.atMs, action.nodeId, 'down');
    if (action.kind === 'restart' && action.readyAtMs !== null && action.readyAtMs !== undefined) peerState(action.readyAtMs, action.nodeId, 'up');
  }
  for (const seen of input.leaders) events.push({ kind: 'leader', atMs: seen.atMs, observer: seen.observer, leader: seen.leader, term: seen.term });
  const windows = new Map<string, { atMs: number; gateway: string; ok: number; failed: number; rejected: number; latencyMsSum: number; latencyMsMax: number }>();
  for (const record of input.requests) {
    if (record.kind !== 'chat' || record.refused) continue;
    const atMs = input.startMs + Math.floor((record.atMs - input.startMs) / 1000) * 1000;
    const gateway = input.peers.find((peer) => peer.api === input.gateways[record.gateway])?.nodeId ?? input.gateways[record.gateway];
    const key = `${atMs} ${gateway}`;
    const window = windows.get(key) ?? { atMs, gateway, ok: 0, failed: 0, rejected: 0, latencyMsSum: 0, latencyMsMax: 0 };
    if (record.ok) window.ok++;
    else if (record.status === 429) window.rejected++;
    else window.failed++;
    window.latencyMsSum += record.latencyMs;
    window.latencyMsMax = Math.max(window.latencyMsMax, record.latencyMs);
    windows.set(key, window);
  }
  for (const window of windows.values()) events.push({ kind: 'requests', windowMs: 1000, ...window });
  return events;
}

export function buildChaosReport(input: ChaosReportInput): ChaosReport {
  const { configuration, startMs, endMs } = input;
  const availability = availabilityReport(healthEventsOf(input), { sinceMs: startMs, untilMs: Math.max(endMs, startMs + 1), sloTarget });
  const requests = {
    chat: totals(input.requests.filter((record) => record.kind === 'chat')),
    'kv-put': totals(input.requests.filter((record) => record.kind === 'kv-put')),
    'kv-get': totals(input.requests.filter((record) => record.kind === 'kv-get')),
  };
  const lostMessages = input.conversations.missing.length + input.kv.missing.length;
  const unverified = input.conversations.unverified.length + input.kv.unverified.length;
  const kills = input.actions.filter((action) => action.kind === 'kill').length;
  const peerMtbfMs = configuration.mtbfMs * Math.max(1, input.peers.length);
  const peerAvailability = peerMtbfMs / (peerMtbfMs + configuration.repairMs);
  const pooled = pool(availability);
  const completed = input.failovers.map((failover) => failover.mttrMs);
  const failoverMttrMsMax = completed.length === 0 || completed.includes(null) ? null : Math.max(...(completed as number[]));
  const measured = {
    kills,
    mtbfMs: kills === 0 ? null : (endMs - startMs) / kills,
    ...pooled,
    clusterAvailability: availability.cluster.availability,
    clusterNines: availability.cluster.nines,
    chatAvailability: availability.client.availability,
    chatNines: availability.client.nines,
    failoverMttrMsMax,
  };
  const targets = targetResults(input, requests.chat, lostMessages, unverified);
  return {
    version: 1,
    configuration,
    seed: configuration.seed,
    startMs,
    endMs,
    windowMs: endMs - startMs,
    peers: input.peers,
    gateways: input.gateways,
    plan: { kills: input.plan.kills.length, skipped: input.plan.skipped, downPeersMax: input.plan.downPeersMax },
    actions: input.actions,
    leaderTracking: input.leaderTracking,
    leaderChanges: input.leaders,
    failovers: input.failovers,
    requests,
    perSecond: perSecond(input.requests, startMs, endMs),
    conversations: input.conversations,
    kv: input.kv,
    lostMessages,
    configured: { mtbfMs: configuration.mtbfMs, repairMs: configuration.repairMs, peerMtbfMs, peerAvailability, peerNines: -Math.log10(1 - peerAvailability) },
    measured,
    availability,
    clusterView: input.clusterView,
    targets,
    passed: targets.every((target) => target.outcome !== 'missed'),
    notes: input.notes,
  };
}

function targetResults(input: ChaosReportInput, chat: RequestTotals, lostMessages: number, unverified: number): TargetResult[] {
  const percent = (value: number) => `${(value * 100).toFixed(3)} %`;
  const failovers = input.failovers;
  const worst = failovers.reduce<number | null | undefined>((most, failover) => (failover.mttrMs === null || most === null ? null : Math.max(most ?? 0, failover.mttrMs)), undefined);
  return [
    {
      name: 'chat success',
      required: `>= ${percent(chatSuccessTarget)} of chat requests that reached a gateway`,
      measured: chat.successRate === null ? 'no chat request reached a gateway' : `${percent(chat.successRate)} (${chat.ok} of ${chat.ok + chat.failed}; ${chat.refused} refused connections apart)`,
      outcome: chat.successRate === null ? 'missed' : chat.successRate >= chatSuccessTarget ? 'met' : 'missed',
    },
    {
      name: 'lost acknowledged writes',
      required: '0 (conversation messages and key-value puts, read back linearizably after the run)',
      measured: `${lostMessages} (${input.conversations.acknowledgedMessages} acknowledged messages in ${input.conversations.checked} conversations, ${input.kv.acknowledgedPuts} acknowledged puts)${unverified === 0 ? '' : `; ${unverified} could not be read back`}`,
      outcome: lostMessages === 0 && unverified === 0 ? 'met' : 'missed',
    },
    {
      name: 'leader failover MTTR',
      required: `<= ${failoverMttrMsTarget} ms for every failover of the storage leader`,
      measured: !input.leaderTracking ? 'no storage leader in this replication mode' : failovers.length === 0 ? 'no leader was killed' : worst === null ? `${failovers.filter((failover) => failover.mttrMs === null).length} of ${failovers.length} failovers did not complete` : `worst ${Math.round(worst!)} ms over ${failovers.length} failover${failovers.length === 1 ? '' : 's'}`,
      outcome: !input.leaderTracking || failovers.length === 0 ? 'not-measured' : worst !== null && worst! <= failoverMttrMsTarget ? 'met' : 'missed',
    },
  ];
}

function pool(availability: AvailabilityReport): { peerMtbfMs: number | null; peerMttrMs: number | null; peerAvailability: number | null; peerNines: number | null } {
  let uptimeMs = 0;
  let downtimeMs = 0;
  let failures = 0;
  let outages = 0;
  for (const peer of availability.peers) {
    uptimeMs += peer.uptimeMs;
    downtimeMs += peer.downtimeMs;
    failures += peer.failures;
    outages += peer.outages;
  }
  const observedMs = uptimeMs + downtimeMs;
  const peerAvailability = observedMs === 0 ? null : uptimeMs / observedMs;
  return {
    peerMtbfMs: failures === 0 ? null : uptimeMs / failures,
    peerMttrMs: outages === 0 ? null : downtimeMs / outages,
    peerAvailability,
    peerNines: peerAvailability === null || peerAvailability === 1 ? null : -Math.log10(1 - peerAvailability),
  };
}

/** The p-th percentile (0..1) of sorted values, by the nearest rank; null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function totals(records: readonly RequestRecord[]): RequestTotals {
  const reached = records.filter((record) => !record.refused);
  const ok = reached.filter((record) => record.ok).length;
  const latencies = reached.map((record) => record.latencyMs).sort((left, right) => left - right);
  const errors = new Map<string, number>();
  for (const record of reached) if (!record.ok && record.error !== null) errors.set(record.error, (errors.get(record.error) ?? 0) + 1);
  return {
    sent: records.length,
    ok,
    failed: reached.length - ok,
    refused: records.length - reached.length,
    successRate: reached.length === 0 ? null : ok / reached.length,
    latencyMsP50: percentile(latencies, 0.5),
    latencyMsP99: percentile(latencies, 0.99),
    latencyMsMax: latencies.length === 0 ? null : latencies[latencies.length - 1],
    errors: [...errors.entries()].sort((left, right) => right[1] - left[1]).slice(0, 10).map(([error, count]) => ({ error, count })),
  };
}

function perSecond(records: readonly RequestRecord[], startMs: number, endMs: number): SecondSummary[] {
  const seconds = Math.max(1, Math.ceil((endMs - startMs) / 1000));
  const rows: SecondSummary[] = Array.from({ length: seconds }, (_, second) => ({ second, chatOk: 0, chatFailed: 0, kvOk: 0, kvFailed: 0, refused: 0, chatLatencyMsP50: null, chatLatencyMsMax: null }));
  const latencies: number[][] = rows.map(() => []);
  for (const record of records) {
    const second = Math.min(seconds - 1, Math.max(0, Math.floor((record.atMs - startMs) / 1000)));
    const row = rows[second];
    if (record.refused) row.refused++;
    else if (record.kind === 'chat') {
      if (record.ok) row.chatOk++;
      else row.chatFailed++;
      latencies[second].push(record.latencyMs);
    } else if (record.ok) row.kvOk++;
    else row.kvFailed++;
  }
  rows.forEach((row, second) => {
    const sorted = latencies[second].sort((left, right) => left - right);
    row.chatLatencyMsP50 = percentile(sorted, 0.5);
    row.chatLatencyMsMax = sorted.length === 0 ? null : sorted[sorted.length - 1];
  });
  return rows;
}
