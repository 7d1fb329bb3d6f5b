/**
 * `nines report`: the printed report (from a real report of the availability core), the
 * request it sends (to a local HTTP server standing in for a peer), and its argument errors.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availabilityReport, type HealthEvent } from '../../src/availability/index.js';
import { formatDuration, formatPercent, formatReport, parseSince, parseSlo, registerReport, type ReportIo } from '../../src/cli/report.js';

const alpha = 'a'.repeat(40);
const beta = 'b'.repeat(40);
const startMs = Date.parse('2026-11-26T10:00:00Z');
const hourMs = 3_600_000;

function sampleEvents(): HealthEvent[] {
  const events: HealthEvent[] = [];
  for (const peer of [alpha, beta]) {
    events.push({ kind: 'peer', atMs: startMs - 1_000, observer: peer, subject: peer, state: 'up' });
    for (const service of ['gateway', 'compute', 'storage'] as const) events.push({ kind: 'service', atMs: startMs - 1_000, peer, service, state: 'up' });
  }
  events.push({ kind: 'leader', atMs: startMs, observer: alpha, leader: alpha, term: 1 });
  // Alpha (the leader) fails three times for 10 s; beta is elected 800 ms after the first failure.
  for (const offsetMs of [1_000_000, 2_000_000, 3_000_000]) {
    events.push({ kind: 'peer', atMs: startMs + offsetMs, observer: beta, subject: alpha, state: 'down' }, { kind: 'peer', atMs: startMs + offsetMs + 10_000, observer: alpha, subject: alpha, state: 'up' });
  }
  events.push({ kind: 'leader', atMs: startMs + 1_000_800, observer: beta, leader: beta, term: 2 });
  events.push({ kind: 'breaker', atMs: startMs + 1_000_100, observer: beta, peer: alpha, state: 'open' }, { kind: 'breaker', atMs: startMs + 1_030_000, observer: beta, peer: alpha, state: 'closed' });
  events.push({ kind: 'breaker', atMs: startMs + 5_000, observer: alpha, peer: beta, state: 'closed' });
  events.push({ kind: 'requests', atMs: startMs, windowMs: 10_000, gateway: alpha, ok: 9_990, failed: 5, rejected: 5, latencyMsSum: 123_456, latencyMsMax: 950 });
  return events;
}

const sample = () => availabilityReport(sampleEvents(), { sinceMs: startMs, untilMs: startMs + hourMs, sloTarget: 0.999 });

describe('formatReport', () => {
  it('prints the cluster line, the service and peer tables, clients against the SLO, leader changes and the nines', () => {
    const text = formatReport(sample());
    const lines = text.split('\n');
    expect(lines[0]).toBe('Availability from 2026-11-26T10:00:00Z to 2026-11-26T11:00:00Z (1 h), from 20 health events');
    expect(lines[1]).toBe('cluster: 99.978 % (3.65 nines), 1 failure, MTBF 59 min 59 s, MTTR 800 ms, down 800 ms');
    expect(text).toMatch(/^service +peers +availability +nines +failures +MTBF +MTTR +down$/m);
    expect(text).toMatch(/^gateway +2 +100 % +no downtime +0 +- +- +0 ms of 1 h$/m);
    expect(text).toMatch(/^storage \(needs a leader\) +2 +99\.978 % +3\.65 +1 +59 min 59 s +800 ms +800 ms of 1 h$/m);
    expect(text).toMatch(/^aaaaaaaaaaaa… +99\.167 % +2\.08 +3 +19 min 50 s +10 s +30 s of 1 h$/m);
    expect(text).toContain('clients: 9,990 of 10,000 requests ok, 99.9 % (3.00 nines); 5 failed, 5 rejected; latency mean 12 ms, max 950 ms');
    expect(text).toContain('SLO 99.9 %: met; error budget 10 failed requests, 10 used, 0 % left');
    expect(text).toContain('  2026-11-26T10:16:40.800Z  term 2  bbbbbbbbbbbb…');
    expect(text).toContain('circuit breakers that opened or are not closed:\n  bbbbbbbbbbbb… -> aaaaaaaaaaaa…  closed now, opened 1 time\n\n');
    expect(text).toMatch(/^ {2}3 +99\.9 % +1 min 26 s +43 min 12 s +8 h 46 min$/m);
    expect(text).toMatch(/^ {2}5 +99\.999 % +864 ms +25\.9 s +5 min 15 s$/m);
    expect(lines.every((line) => line === line.trimEnd())).toBe(true);
  });

  it('says when there is nothing to report, when the SLO is missed, and when the read was cut', () => {
    const empty = formatReport({ ...availabilityReport([], { sinceMs: startMs, untilMs: startMs + 60_000, sloTarget: 0.99 }), healthRead: { truncated: true, invalidEvents: 2, problems: ['health/x/0 is not JSON'] } });
    expect(empty).toContain('cluster: no health events in this window');
    expect(empty).toContain('peers: none recorded health events');
    expect(empty).toContain('clients: no requests recorded in this window');
    expect(empty).toContain('SLO 99 %: met; no requests yet, the whole error budget is left');
    expect(empty).toContain('leader changes: none (storage has no single leader in this mode)');
    expect(empty).toMatch(/note: the peer read only the newest health events/);
    expect(empty).toContain('note: 2 malformed health events skipped (first: health/x/0 is not JSON)');
    const missed = availabilityReport([{ kind: 'requests', atMs: startMs, windowMs: 10_000, gateway: 'g', ok: 90, failed: 10, rejected: 0, latencyMsSum: 100, latencyMsMax: 5 }], { sinceMs: startMs, untilMs: startMs + 60_000, sloTarget: 0.99 });
    expect(formatReport(missed)).toContain('SLO 99 %: MISSED; error budget 1 failed requests, 10 used, -900 % left');
  });

  it('formats durations and percentages for people', () => {
    expect([850, 8_640, 25_920, 90_000, 3_153_600_000, 259_200_000].map(formatDuration)).toEqual(['850 ms', '8.64 s', '25.9 s', '1 min 30 s', '36 d 12 h', '3 d']);
    expect([0.997222, 1, 0, 0.9999999, null].map(formatPercent)).toEqual(['99.722 %', '100 %', '0 %', '99.99999 %', '-']);
  });
});

describe('nines report arguments', () => {
  const nowMs = Date.parse('2026-11-26T12:00:00Z');

  it('reads --since as a duration back from now or an ISO time, and --slo as a percentage', () => {
    expect(parseSince('1h', nowMs)).toBe(nowMs - hourMs);
    expect(parseSince('30m', nowMs)).toBe(nowMs - 1_800_000);
    expect(parseSince('90s', nowMs)).toBe(nowMs - 90_000);
    expect(parseSince('2026-11-26T10:00:00Z', nowMs)).toBe(startMs);
    expect(parseSlo('99.9')).toBeCloseTo(0.999, 12);
    expect(parseSlo('99%')).toBeCloseTo(0.99, 12);
  });

  it.each([['yesterday'], ['-5m'], ['0h'], ['2026-13-45T00:00:00Z'], ['2030-01-01T00:00:00Z']])('refuses --since %s', (value) => {
    expect(() => parseSince(value, nowMs)).toThrow(/--since/);
  });

  it.each([['100'], ['0'], ['-1'], ['abc'], ['']])('refuses --slo %j outside (0, 100)', (value) => {
    expect(() => parseSlo(value)).toThrow(/--slo must be a percentage strictly between 0 and 100/);
  });
});

describe('nines report against a peer', () => {
  let server: ReturnType<typeof createServer>;
  let api: string;
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  let answer: { status: number; body: string } = { status: 200, body: JSON.stringify(sample()) };

  beforeAll(async () => {
    server = createServer((request, response) => {
      seen.push({ url: request.url!, headers: request.headers });
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function run(args: string[]): Promise<{ output: string; error?: unknown }> {
    let output = '';
    const io: ReportIo = { write: (text) => void (output += text), fetch: (...parameters) => fetch(...parameters), now: () => Date.parse('2026-11-26T12:00:00Z') };
    const program = new Command().exitOverride().configureOutput({ writeErr: (text) => void (output += text), writeOut: (text) => void (output += text) });
    registerReport(program, io);
    try {
      await program.parseAsync(['report', ...args], { from: 'user' });
      return { output };
    } catch (error) {
      return { output, error };
    }
  }

  it('asks the availability route with the window, the SLO as a fraction and the API key, and prints the report', async () => {
    answer = { status: 200, body: JSON.stringify(sample()) };
    const { output, error } = await run(['--api', `${api}/`, '--api-key', 'secret', '--since', '2h', '--slo', '99.95']);
    expect(error).toBeUndefined();
    expect(seen.at(-1)!.url).toBe(`/v1/admin/availability?since=${Date.parse('2026-11-26T10:00:00Z')}&slo=0.9995`);
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer secret');
    expect(output).toBe(formatReport(sample()));
  });

  it('prints the JSON as it is with --json', async () => {
    answer = { status: 200, body: '{"anything": [1, 2]}' };
    expect((await run(['--api', api, '--json'])).output).toBe('{"anything": [1, 2]}\n');
  });

  it('reports a refusal, an answer that is not a report and an unreachable peer clearly', async () => {
    answer = { status: 401, body: JSON.stringify({ error: { message: 'a valid API key is required', code: 'invalid_api_key' } }) };
    expect((await run(['--api', api])).error).toMatchObject({ code: 'REPORT_REFUSED', message: expect.stringMatching(/answered 401: a valid API key is required \(pass --api-key or set NINES_API_KEY\)/) });
    answer = { status: 200, body: '{"not": "a report"}' };
    expect((await run(['--api', api])).error).toMatchObject({ code: 'BAD_ANSWER' });
    answer = { status: 200, body: '<html>' };
    expect((await run(['--api', api])).error).toMatchObject({ code: 'BAD_ANSWER', message: expect.stringMatching(/without JSON/) });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect((await run(['--api', `http://127.0.0.1:${port}`])).error).toMatchObject({ code: 'PEER_UNREACHABLE' });
  });

  it('refuses bad flags before asking anyone', async () => {
    const before = seen.length;
    const badSince = await run(['--api', api, '--since', 'last week']);
    expect(badSince.error).toBeInstanceOf(CommanderError);
    expect(badSince.output).toMatch(/--since must be a duration back from now/);
    const badSlo = await run(['--api', api, '--slo', '100']);
    expect(badSlo.output).toMatch(/--slo must be a percentage strictly between 0 and 100/);
    expect((await run(['--api', 'ftp://peer'])).output).toMatch(/--api must be an http/);
    const savedApi = process.env.NINES_API;
    delete process.env.NINES_API;
    expect((await run([])).error).toMatchObject({ code: 'NO_API' });
    if (savedApi !== undefined) process.env.NINES_API = savedApi;
    expect(seen.length).toBe(before);
  });
});
