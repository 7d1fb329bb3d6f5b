/**
 * The chaos report as one self-contained HTML page: uPlot's script and stylesheet are inlined
 * (the caller reads them from node_modules/uplot/dist), the report's data is inlined as JSON,
 * and nothing is fetched from the network. Pure: the report and uPlot's text in, the page out.
 *
 * Plots: each peer's up/down over time with the leader changes marked, request outcomes per
 * second (ok and failed), and chat latency per second; next to them, the measured figures
 * beside the configured ones, the targets, and every kill, restart and failover.
 */
import type { AvailabilityReport } from '../availability/index.js';
import { formatDuration } from './durations.js';
import type { ChaosReport } from './report.js';

export interface UplotAssets {
  script: string;
  css: string;
}

/** Text safe inside HTML elements and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON safe inside a <script> element: no '<' (so no '</script>') and no line separators JavaScript rejects. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function figure(value: number | null, kind: 'ms' | 'fraction' | 'nines'): string {
  if (value === null) return '—';
  if (kind === 'ms') return formatDuration(value);
  if (kind === 'fraction') return `${(value * 100).toFixed(4)} %`;
  return value.toFixed(2);
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function figuresTable(report: ChaosReport): string {
  const { configured, measured } = report;
  return table(['figure', 'configured', 'measured'], [
    ['swarm MTBF (mean time between kills)', figure(configured.mtbfMs, 'ms'), figure(measured.mtbfMs, 'ms')],
    ['peer MTBF', figure(configured.peerMtbfMs, 'ms'), figure(measured.peerMtbfMs, 'ms')],
    ['peer MTTR (kill to ready again)', figure(configured.repairMs, 'ms'), figure(measured.peerMttrMs, 'ms')],
    ['peer availability', figure(configured.peerAvailability, 'fraction'), figure(measured.peerAvailability, 'fraction')],
    ['peer nines', figure(configured.peerNines, 'nines'), figure(measured.peerNines, 'nines')],
    ['cluster availability (every service up, a leader known)', '—', figure(measured.clusterAvailability, 'fraction')],
    ['cluster nines', '—', figure(measured.clusterNines, 'nines')],
    ['chat availability (client-observed)', '—', figure(measured.chatAvailability, 'fraction')],
    ['chat nines', '—', figure(measured.chatNines, 'nines')],
    ['worst leader failover MTTR', '—', figure(measured.failoverMttrMsMax, 'ms')],
  ]);
}

function eventsTable(report: ChaosReport): string {
  const at = (atMs: number) => `${((atMs - report.startMs) / 1000).toFixed(2)} s`;
  const rows = report.actions.map((action) => [
    at(action.atMs), action.kind, `peer ${action.peer + 1}`,
    action.kind === 'kill' ? (action.wasLeader === true ? 'was the leader' : '') : action.kind === 'restart' ? (action.readyAtMs === null || action.readyAtMs === undefined ? `did not come back: ${action.reason ?? ''}` : `ready after ${formatDuration(action.readyAtMs - action.atMs)}`) : (action.reason ?? ''),
  ]);
  return table(['at', 'action', 'peer', 'detail'], rows);
}

function failoverTable(report: ChaosReport): string {
  const nameOf = (nodeId: string | null) => (nodeId === null ? '—' : `peer ${(report.peers.find((peer) => peer.nodeId === nodeId)?.index ?? -1) + 1}`);
  return table(['killed at', 'old leader', 'new leader', 'leader known after', 'first write after', 'MTTR'], report.failovers.map((failover) => [
    `${((failover.killAtMs - report.startMs) / 1000).toFixed(2)} s`, nameOf(failover.oldLeader), nameOf(failover.newLeader),
    failover.newLeaderAtMs === null ? '—' : `${failover.newLeaderAtMs - failover.killAtMs} ms`,
    failover.firstWriteAtMs === null ? '—' : `${failover.firstWriteAtMs - failover.killAtMs} ms`,
    failover.mttrMs === null ? 'did not complete' : `${failover.mttrMs} ms`,
  ]));
}

/** The availability the peers recorded themselves (GET /v1/admin/availability), beside the run's own measurements. */
function clusterViewSection(report: ChaosReport): string {
  if (!report.clusterView.available) return `<p>${escapeHtml(report.clusterView.note)}</p>`;
  const view = report.clusterView.report as Partial<AvailabilityReport>;
  const number = (value: unknown) => (typeof value === 'number' ? value : null);
  return `<p>GET /v1/admin/availability over the run, from the peers' own health events (all of it is in report.json, clusterView).</p>\n${table(['figure', 'the run measured', 'the swarm recorded'], [
    ['cluster availability', figure(report.measured.clusterAvailability, 'fraction'), figure(number(view.cluster?.availability), 'fraction')],
    ['cluster nines', figure(report.measured.clusterNines, 'nines'), figure(number(view.cluster?.nines), 'nines')],
    ['client-observed availability', figure(report.measured.chatAvailability, 'fraction'), figure(number(view.client?.availability), 'fraction')],
    ['leader changes', String(report.leaderChanges.length), String(Array.isArray(view.leaderChanges) ? view.leaderChanges.length : '—')],
  ])}`;
}

function lostTable(report: ChaosReport): string {
  if (report.lostMessages === 0) return '<p>None: every acknowledged message and put was read back.</p>';
  const rows = [
    ...report.conversations.missing.map((missing) => [missing.conversationId, `turn ${missing.turn + 1} ${missing.role}`, missing.problem, missing.content]),
    ...report.kv.missing.map((missing) => [missing.key, 'put', missing.found === null ? 'lost' : `found ${missing.found}`, missing.expected]),
  ];
  return table(['where', 'what', 'problem', 'content'], rows);
}

/** The page's own script: draws the three plots from the inlined report with uPlot. */
const plotScript = String.raw`
const report = JSON.parse(document.getElementById('report-data').textContent);
const seconds = (atMs) => (atMs - report.startMs) / 1000;
const width = () => Math.min(1100, document.body.clientWidth - 40);
const stepped = uPlot.paths.stepped({ align: 1 });
const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
function peerTimeline() {
  const changes = [0, seconds(report.endMs)];
  for (const action of report.actions) {
    if (action.kind === 'kill') changes.push(seconds(action.atMs));
    if (action.kind === 'restart' && action.readyAtMs != null) changes.push(seconds(action.readyAtMs));
  }
  for (const change of report.leaderChanges) changes.push(Math.max(0, seconds(change.atMs)));
  const xs = [...new Set(changes)].sort((a, b) => a - b);
  const stateAt = (peer, x) => {
    let up = true;
    for (const action of report.actions) {
      if (action.peer !== peer.index) continue;
      if (action.kind === 'kill' && seconds(action.atMs) <= x) up = false;
      if (action.kind === 'restart' && action.readyAtMs != null && seconds(action.readyAtMs) <= x) up = true;
    }
    return up;
  };
  const series = report.peers.map((peer) => xs.map((x) => peer.index + (stateAt(peer, x) ? 0.75 : 0.25)));
  const leader = xs.map((x) => {
    const change = report.leaderChanges.find((item) => Math.max(0, seconds(item.atMs)) === x);
    const peer = change === undefined ? undefined : report.peers.find((item) => item.nodeId === change.leader);
    return peer === undefined ? null : peer.index + 0.5;
  });
  new uPlot({
    title: 'Peers: each line is high while the peer is up, low while it is down; a dot marks a new storage leader', width: width(), height: 80 + 40 * report.peers.length,
    scales: { x: { time: false }, y: { range: [0, report.peers.length] } },
    axes: [{ label: 'seconds since start' }, { size: 70, splits: () => report.peers.map((peer) => peer.index + 0.5), values: (u, ticks) => ticks.map((tick) => 'peer ' + (tick + 0.5)) }],
    series: [{}, ...report.peers.map((peer, index) => ({ label: 'peer ' + (peer.index + 1), stroke: colours[index % colours.length], width: 2, paths: stepped, points: { show: false } })),
      { label: 'new leader', stroke: '#000', width: 0, paths: () => null, points: { show: true, size: 10, fill: '#000' } }],
  }, [xs, ...series, leader], document.getElementById('plot-peers'));
}
function requestPlot() {
  const rows = report.perSecond;
  new uPlot({
    title: 'Requests per second', width: width(), height: 260, scales: { x: { time: false } }, axes: [{ label: 'seconds since start' }, { label: 'requests' }],
    series: [{}, { label: 'chat ok', stroke: '#2ca02c' }, { label: 'chat failed', stroke: '#d62728', width: 2 }, { label: 'kv ok', stroke: '#1f77b4' }, { label: 'kv failed', stroke: '#ff7f0e', width: 2 }, { label: 'refused connections', stroke: '#7f7f7f' }],
  }, [rows.map((row) => row.second), rows.map((row) => row.chatOk), rows.map((row) => row.chatFailed), rows.map((row) => row.kvOk), rows.map((row) => row.kvFailed), rows.map((row) => row.refused)], document.getElementById('plot-requests'));
}
function latencyPlot() {
  const rows = report.perSecond;
  new uPlot({
    title: 'Chat latency (ms)', width: width(), height: 260, scales: { x: { time: false } }, axes: [{ label: 'seconds since start' }, { label: 'ms' }],
    series: [{}, { label: 'p50', stroke: '#1f77b4' }, { label: 'max', stroke: '#d62728' }],
  }, [rows.map((row) => row.second), rows.map((row) => row.chatLatencyMsP50), rows.map((row) => row.chatLatencyMsMax)], document.getElementById('plot-latency'));
}
peerTimeline();
requestPlot();
latencyPlot();
`;

export function reportHtml(report: ChaosReport, uplot: UplotAssets): string {
  const { configuration } = report;
  const verdict = report.passed ? '<p class="pass">Every target measured was met.</p>' : `<p class="fail">Missed: ${escapeHtml(report.targets.filter((target) => target.outcome === 'missed').map((target) => target.name).join(', '))}. Replay with --seed ${report.seed}.</p>`;
  const setting = `${configuration.targets.length === 0 ? `${configuration.peers} local peers` : `targets ${configuration.targets.join(', ')}`}, ${configuration.replication} with acks=${configuration.acks}, ${formatDuration(configuration.durationMs)}, MTBF ${formatDuration(configuration.mtbfMs)}, repair ${formatDuration(configuration.repairMs)}, seed ${configuration.seed}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nines chaos report — seed ${report.seed}</title>
<style>${uplot.css}</style>
<style>
body { font-family: system-ui, sans-serif; margin: 20px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 20px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; font-size: 14px; }
.pass { color: #1a7f37; font-weight: bold; } .fail { color: #c62828; font-weight: bold; }
.met { color: #1a7f37; } .missed { color: #c62828; font-weight: bold; } .not-measured { color: #777; }
</style>
</head>
<body>
<h1>nines chaos report</h1>
<p>${escapeHtml(setting)}. Started ${escapeHtml(new Date(report.startMs).toISOString())}.</p>
${verdict}
<h2>Targets</h2>
<table><thead><tr><th>target</th><th>required</th><th>measured</th><th>outcome</th></tr></thead><tbody>
${report.targets.map((target) => `<tr><td>${escapeHtml(target.name)}</td><td>${escapeHtml(target.required)}</td><td>${escapeHtml(target.measured)}</td><td class="${target.outcome}">${target.outcome}</td></tr>`).join('\n')}
</tbody></table>
<h2>Measured and configured</h2>
${figuresTable(report)}
<h2>Timeline</h2>
<div id="plot-peers"></div>
<div id="plot-requests"></div>
<div id="plot-latency"></div>
<h2>Kills and restarts</h2>
${eventsTable(report)}
<h2>Leader failovers</h2>
${!report.leaderTracking ? '<p>No storage leader in this replication mode.</p>' : report.failovers.length === 0 ? '<p>No leader was killed in this run.</p>' : failoverTable(report)}
<h2>Lost acknowledged writes</h2>
${lostTable(report)}
<h2>Notes</h2>
${report.notes.length === 0 ? '<p>None.</p>' : `<ul>${report.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`}
<h2>The swarm's own view</h2>
${clusterViewSection(report)}
<script id="report-data" type="application/json">${scriptJson(report)}</script>
<script>${uplot.script.replace(/<\/script/gi, '<\\/script')}</script>
<script>${plotScript}</script>
</body>
</html>
`;
}
