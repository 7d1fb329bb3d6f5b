/**
 * `nines report`: the availability of a running swarm, as measured from its health events —
 * MTBF, MTTR, availability and nines for the cluster, each service and each peer, what clients
 * saw against the SLO with its error budget, the leader changes, and the table of nines.
 *
 *   nines report [--api http://host:port] [--api-key k] [--since 1h|30m|<ISO time>] [--slo 99.9] [--json]
 *
 * It asks any peer's API: GET <api>/v1/admin/availability?since=<ms>&slo=<fraction>, with
 * `Authorization: Bearer <key>` (the key from --api-key or $NINES_API_KEY; the peer from --api
 * or $NINES_API). --json prints the peer's answer as it is.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { AvailabilityReport, EntityAvailability } from '../availability/index.js';

/** What the admin route may add to the report about how the health events were read. */
export interface AvailabilityAnswer extends AvailabilityReport {
  healthRead?: { peers?: number; truncated?: boolean; invalidEvents?: number; problems?: string[] };
}

interface ReportFlags {
  api?: string;
  apiKey?: string;
  since: number;
  slo: number;
  json?: boolean;
}

export interface ReportIo {
  write: (text: string) => void;
  fetch: typeof fetch;
  now: () => number;
}

class ReportClientError extends Error {
  override name = 'ReportClientError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const sinceDefault = '1h';
const unitsMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** How long the peer may take to read every health log and answer. */
const requestTimeoutMs = 30_000;

/** `--since`: a duration back from now (90s, 30m, 1h, 7d) or an ISO time; returns milliseconds since the epoch. */
export function parseSince(value: string, nowMs: number): number {
  const trimmed = value.trim();
  const relative = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)$/.exec(trimmed);
  if (relative !== null) {
    const durationMs = Number(relative[1]) * unitsMs[relative[2]!]!;
    if (!(durationMs > 0)) throw new InvalidArgumentError(`--since must be a duration above zero, got '${value}'.`);
    return Math.round(nowMs - durationMs);
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const atMs = Date.parse(trimmed);
    if (Number.isNaN(atMs)) throw new InvalidArgumentError(`--since '${value}' is not a valid ISO time (e.g. 2026-11-26T10:00:00Z).`);
    if (atMs >= nowMs) throw new InvalidArgumentError(`--since ${trimmed} is not in the past.`);
    return atMs;
  }
  throw new InvalidArgumentError(`--since must be a duration back from now (90s, 30m, 1h, 7d) or an ISO time (2026-11-26T10:00:00Z), got '${value}'.`);
}

/** `--slo`: a percentage strictly between 0 and 100; returns the fraction. */
export function parseSlo(value: string): number {
  const trimmed = value.trim().replace(/%$/, '');
  const percent = trimmed === '' ? Number.NaN : Number(trimmed);
  if (!Number.isFinite(percent) || percent <= 0 || percent >= 100) {
    throw new InvalidArgumentError(`--slo must be a percentage strictly between 0 and 100 (99.9 for three nines), got '${value}'.`);
  }
  return percent / 100;
}

function parseApi(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`--api must be a URL like http://127.0.0.1:7400, got '${value}'.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`--api must be an http:// or https:// URL, got '${value}'.`);
  return value.replace(/\/+$/, '');
}

const defaultIo: ReportIo = { write: (text) => void process.stdout.write(text), fetch: (...args) => fetch(...args), now: () => Date.now() };

export function registerReport(program: Command, io: ReportIo = defaultIo): Command {
  return program
    .command('report')
    .description('availability of a running swarm: MTBF, MTTR, availability and nines per peer, per service and for the cluster; client-observed availability against the SLO')
    .option('--api <url>', 'any peer\'s API, e.g. http://127.0.0.1:7400 (default: $NINES_API)', parseApi)
    .option('--api-key <key>', 'the swarm\'s API key (default: $NINES_API_KEY)')
    .option('--since <time>', 'the window\'s start: a duration back from now (30m, 1h, 7d) or an ISO time', (value) => parseSince(value, io.now()), parseSince(sinceDefault, io.now()))
    .option('--slo <percent>', 'the SLO on client-observed availability, in percent', parseSlo, 0.999)
    .option('--json', 'print the peer\'s JSON answer as it is')
    .action(async (flags: ReportFlags) => report(flags, io));
}

async function report(flags: ReportFlags, io: ReportIo): Promise<void> {
  const api = flags.api ?? (process.env.NINES_API === undefined || process.env.NINES_API === '' ? undefined : parseApi(process.env.NINES_API));
  if (api === undefined) throw new ReportClientError('NO_API', 'say which peer to ask: --api http://127.0.0.1:<port> (the "api http://…" line nines start or nines node prints), or set NINES_API');
  const apiKey = flags.apiKey ?? process.env.NINES_API_KEY;
  const url = `${api}/v1/admin/availability?since=${flags.since}&slo=${flags.slo}`;
  let response: Response;
  try {
    response = await io.fetch(url, { headers: apiKey === undefined || apiKey === '' ? {} : { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(requestTimeoutMs) });
  } catch (error) {
    const cause = (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message;
    throw new ReportClientError('PEER_UNREACHABLE', `cannot reach ${api}: ${cause}`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ReportClientError('BAD_ANSWER', `${url} answered ${response.status} without JSON: is ${api} a nines peer's API?`);
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const hint = response.status === 401 ? ' (pass --api-key or set NINES_API_KEY)' : '';
    throw new ReportClientError('REPORT_REFUSED', `${api} answered ${response.status}: ${typeof error?.message === 'string' ? error.message : text.slice(0, 200)}${hint}`);
  }
  if (flags.json === true) {
    io.write(`${text.trimEnd()}\n`);
    return;
  }
  if (!looksLikeReport(body)) throw new ReportClientError('BAD_ANSWER', `${url} did not answer with an availability report; is that peer running this version of nines?`);
  io.write(formatReport(body));
}

function looksLikeReport(body: unknown): body is AvailabilityAnswer {
  const candidate = body as Partial<AvailabilityReport> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.sinceMs === 'number' && typeof candidate.untilMs === 'number' && typeof candidate.cluster === 'object'
    && Array.isArray(candidate.services) && Array.isArray(candidate.peers) && typeof candidate.client === 'object' && typeof candidate.slo === 'object'
    && Array.isArray(candidate.leaderChanges) && Array.isArray(candidate.ninesTable);
}


// ---------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------

/** A duration for people: 850 ms, 12.5 s, 4 min 10 s, 2 h 24 min, 3 d 4 h. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1_000).toFixed(ms < 10_000 ? 2 : 1))} s`;
  const parts: Array<[number, string]> = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'min'], [1_000, 's']];
  const index = parts.findIndex(([unitMs]) => ms >= unitMs);
  const [bigMs, bigUnit] = parts[index]!;
  const [smallMs, smallUnit] = parts[index + 1]!;
  const big = Math.floor(ms / bigMs);
  const small = Math.round((ms - big * bigMs) / smallMs);
  return small === 0 ? `${big} ${bigUnit}` : `${big} ${bigUnit} ${small} ${smallUnit}`;
}

/** 0.997222 -> "99.722 %"; never rounds up to 100 % while there was downtime. */
export function formatPercent(fraction: number | null): string {
  if (fraction === null) return '-';
  if (fraction === 1) return '100 %';
  let decimals = 3;
  while (decimals < 8 && Number((fraction * 100).toFixed(decimals)) >= 100) decimals++;
  return `${Number((fraction * 100).toFixed(decimals))} %`;
}

function formatNines(nines: number | null, availability: number | null): string {
  if (availability === null) return '-';
  return nines === null ? 'no downtime' : nines.toFixed(2);
}

function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function plural(count: number, word: string): string {
  return `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`;
}

/** Left-aligned columns separated by two spaces, without trailing blanks. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
}

function entityCells(entity: EntityAvailability): string[] {
  if (entity.observedMs === 0) return ['-', '-', '-', '-', '-', 'no events'];
  return [
    formatPercent(entity.availability),
    formatNines(entity.nines, entity.availability),
    String(entity.failures),
    entity.mtbfMs === null ? '-' : formatDuration(entity.mtbfMs),
    entity.mttrMs === null ? '-' : formatDuration(entity.mttrMs),
    `${formatDuration(entity.downtimeMs)} of ${formatDuration(entity.observedMs)}`,
  ];
}

const entityHeader = ['availability', 'nines', 'failures', 'MTBF', 'MTTR', 'down'];

/** A peer's node ID shortened for the table: the first 12 hexadecimal characters are unique enough to read. */
function peerLabel(peer: string): string {
  return /^[0-9a-f]{40}$/.test(peer) ? `${peer.slice(0, 12)}…` : peer;
}

export function formatReport(report: AvailabilityAnswer): string {
  const lines: string[] = [];
  const { cluster, client, slo } = report;
  lines.push(`Availability from ${formatTime(report.sinceMs)} to ${formatTime(report.untilMs)} (${formatDuration(report.windowMs)}), from ${plural(report.events, 'health event')}`);
  if (cluster.observedMs === 0) lines.push('cluster: no health events in this window');
  else {
    const mtbf = cluster.mtbfMs === null ? '' : `, MTBF ${formatDuration(cluster.mtbfMs)}`;
    const mttr = cluster.mttrMs === null ? '' : `, MTTR ${formatDuration(cluster.mttrMs)}`;
    lines.push(`cluster: ${formatPercent(cluster.availability)} (${cluster.nines === null ? 'no downtime' : `${cluster.nines.toFixed(2)} nines`}), ${plural(cluster.failures, 'failure')}${mtbf}${mttr}, down ${formatDuration(cluster.downtimeMs)}`);
  }
  lines.push('');
  lines.push(...table([['service', 'peers', ...entityHeader], ...report.services.map((service) => [service.service + (service.service === 'storage' && report.storageNeedsLeader ? ' (needs a leader)' : ''), String(service.peers), ...entityCells(service)])]));
  lines.push('');
  if (report.peers.length === 0) lines.push('peers: none recorded health events');
  else lines.push(...table([['peer', ...entityHeader], ...report.peers.map((peer) => [peerLabel(peer.peer), ...entityCells(peer)])]));
  lines.push('');
  if (client.requests === 0) lines.push('clients: no requests recorded in this window');
  else {
    const latency = client.latencyMsMean === null ? '' : `; latency mean ${formatDuration(client.latencyMsMean)}, max ${formatDuration(client.latencyMsMax ?? 0)}`;
    lines.push(`clients: ${client.ok.toLocaleString('en-US')} of ${plural(client.requests, 'request')} ok, ${formatPercent(client.availability)} (${formatNines(client.nines, client.availability)}${client.nines === null ? '' : ' nines'}); ${client.failed.toLocaleString('en-US')} failed, ${client.rejected.toLocaleString('en-US')} rejected${latency}`);
  }
  const budget = client.requests === 0 ? 'no requests yet, the whole error budget is left' : `error budget ${Number(slo.allowedFailures.toFixed(2))} failed requests, ${slo.failures} used, ${Number((slo.errorBudgetRemaining * 100).toFixed(1))} % left`;
  lines.push(`SLO ${formatPercent(slo.target)}: ${slo.met ? 'met' : 'MISSED'}; ${budget}`);
  lines.push('');
  if (report.leaderChanges.length === 0) lines.push(report.storageNeedsLeader ? 'leader changes: none in this window' : 'leader changes: none (storage has no single leader in this mode)');
  else {
    lines.push(`leader changes (${report.leaderChanges.length + report.leaderChangesOmitted}${report.leaderChangesOmitted > 0 ? `, the first ${report.leaderChanges.length} shown` : ''}):`);
    for (const change of report.leaderChanges) lines.push(`  ${formatTime(change.atMs)}  term ${change.term}  ${peerLabel(change.leader)}`);
  }
  const troubled = (report.breakers ?? []).filter((breaker) => breaker.opens > 0 || breaker.state !== 'closed');
  if (troubled.length > 0) {
    lines.push('', 'circuit breakers that opened or are not closed:');
    for (const breaker of troubled) lines.push(`  ${peerLabel(breaker.observer)} -> ${peerLabel(breaker.peer)}  ${breaker.state} now, opened ${plural(breaker.opens, 'time')}`);
  }
  lines.push('');
  lines.push('the table of nines (downtime allowed):');
  lines.push(...table([['nines', 'availability', 'per day', 'per month (30 d)', 'per year (365 d)'], ...report.ninesTable.map((row) => [String(row.nines), `${row.percent} %`, formatDuration(row.downtimePerDayMs), formatDuration(row.downtimePerMonthMs), formatDuration(row.downtimePerYearMs)])]).map((line) => `  ${line}`));
  const read = report.healthRead;
  if (read?.truncated === true) lines.push('', 'note: the peer read only the newest health events (healthEventsReadMax); the window\'s start may be incomplete: pass a later --since');
  if ((read?.invalidEvents ?? 0) > 0 || (read?.problems?.length ?? 0) > 0) lines.push('', `note: ${plural(read?.invalidEvents ?? 0, 'malformed health event')} skipped${read?.problems?.[0] === undefined ? '' : ` (first: ${read.problems[0]})`}`);
  return `${lines.join('\n')}\n`;
}
