/**
 * A chaos run, start to end: get a swarm (start one, or reach --target), plan the kills from
 * the seed, run the workload while killing and restarting peers on plan and watching the
 * leader, then read every acknowledged write back, build the report and write it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../core/rng.js';
import type { ReplicationMode } from '../node/replication-file.js';
import { type ChaosSwarm, OwnSwarm, TargetSwarm } from './chaos-swarm.js';
import { chaosKeyRequestsPerMinute, chatClients, chatTokensMax, kvClients, requestRecordsMax } from './constants.js';
import { ChaosRunError } from './errors.js';
import { authorizationHeaders, send } from './http-client.js';
import { ClusterObserver } from './observer.js';
import { planChaos, type ChaosPlan } from './plan.js';
import { readBack } from './read-back.js';
import { buildChaosReport, type ChaosReport } from './report.js';
import { writeReport, type WrittenReport } from './report-file.js';
import type { ChaosAction, RequestRecord } from './types.js';
import { problemOf, Workload } from './workload.js';

export interface ChaosRunOptions {
  peers: number;
  durationMs: number;
  mtbfMs: number;
  repairMs: number;
  seed: number;
  replication: ReplicationMode;
  acks: 'leader' | 'quorum' | 'all';
  killsMax: number;
  /** Gateway-only peers in front of the run's own swarm, which the chat clients use and no kill touches (0: the clients use the peers' own gateways). */
  frontGateways?: number;
  /** The first this many kills go to the storage leader of the moment (a failover to measure), rather than to the planned peer. */
  leaderKills?: number;
  /** Existing swarm's API addresses (loopback only); empty to start a swarm of the run's own. */
  targets: string[];
  apiKey?: string;
  model?: string;
  threads: number;
  outDir: string;
  /** More `nines node` flags for the run's own peers. */
  extraNodeArgs?: string[];
  log: (line: string) => void;
  /** Aborting ends the run early; the report is still written. */
  signal?: AbortSignal;
}

export interface ChaosRunResult {
  report: ChaosReport;
  written: WrittenReport;
}

interface RunState {
  options: ChaosRunOptions;
  swarm: ChaosSwarm;
  observer: ClusterObserver;
  startMs: number;
  actions: ChaosAction[];
  restarts: Promise<void>[];
}

export async function runChaos(options: ChaosRunOptions): Promise<ChaosRunResult> {
  const root = options.targets.length === 0 ? mkdtempSync(join(tmpdir(), 'nines-chaos-')) : undefined;
  const swarm = await openSwarm(options, root);
  try {
    return await runOn(swarm, options);
  } finally {
    await swarm.close();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  }
}

async function openSwarm(options: ChaosRunOptions, root: string | undefined): Promise<ChaosSwarm> {
  if (root === undefined) {
    const swarm = await TargetSwarm.connect(options.targets, options.apiKey);
    if (swarm.killRefusal !== undefined && options.killsMax > 0) throw new ChaosRunError(`${swarm.killRefusal}; run nines chaos without --target to use a swarm of its own, or pass --kills-max 0 to only measure`);
    return swarm;
  }
  const fronts = options.frontGateways ?? 0;
  options.log(`starting ${options.peers} peers (${options.replication}, acks=${options.acks})${fronts > 0 ? ` and ${fronts} gateway-only peer${fronts > 1 ? 's' : ''} in front of them for the chat clients (never killed)` : ''} in ${root}`);
  try {
    return await OwnSwarm.start({
      peers: options.peers, root, clusterDir: join(root, 'cluster'), replication: options.replication, redundancy: 'hot-hot', open: false,
      threads: options.threads, ...(options.model !== undefined && { model: options.model }), frontGateways: options.frontGateways ?? 0,
      // The run measures failures, not its own quota: its key allows far more than the workload sends (about 15 requests a second).
      apiKeyLimits: { requestsPerMinute: chaosKeyRequestsPerMinute },
      extraNodeArgs: ['--acks', options.acks, ...(options.extraNodeArgs ?? [])],
    });
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw new ChaosRunError(`the swarm did not start: ${(error as Error).message}`);
  }
}

async function runOn(swarm: ChaosSwarm, options: ChaosRunOptions): Promise<ChaosRunResult> {
  const now = () => Date.now();
  const gateways = swarm.gateways();
  const model = await modelOf(gateways, swarm.apiKey);
  const plan = planChaos({ seed: options.seed, peers: swarm.peers().length, durationMs: options.durationMs, mtbfMs: options.mtbfMs, repairMs: options.repairMs, killsMax: options.killsMax });
  const runTag = `s${options.seed}-${now().toString(36)}`;
  const notes: string[] = [];
  const records: RequestRecord[] = [];
  const record = (item: RequestRecord) => {
    if (records.length < requestRecordsMax) records.push(item);
    else if (records.length === requestRecordsMax && !notes.some((note) => note.startsWith('request records'))) notes.push(`request records stopped at ${requestRecordsMax}; later requests are not counted`);
  };
  const livePeers = () => swarm.peers().filter((peer) => peer.state === 'up' && gateways.includes(peer.api));
  const observer = new ClusterObserver({ livePeers, apiKey: swarm.apiKey, runTag, acks: options.acks, now });
  await observer.pollOnce();
  const workload = new Workload({ gateways, chatGateways: swarm.chatGatewayIndexes(), apiKey: swarm.apiKey, model, runTag, acks: options.acks, rng: new Rng(options.seed).fork(), now, record });
  const state: RunState = { options, swarm, observer, startMs: now(), actions: [], restarts: [] };
  options.log(`running for ${options.durationMs / 1000} s: ${plan.kills.length} kills planned (seed ${options.seed}), at most ${plan.downPeersMax} peers down at once`);
  observer.start();
  workload.start(chatClients, kvClients);
  const killing = executePlan(state, plan);
  await sleepUntil(state.startMs + options.durationMs, options.signal);
  if (options.signal?.aborted === true) notes.push('the run was interrupted before its end');
  await workload.stop();
  const endMs = now();
  await killing;
  await Promise.all(state.restarts);
  await observer.stop();
  options.log(`reading back ${workload.acknowledgedTurns().size} conversations and ${workload.acknowledgedPuts().size} acknowledged puts`);
  const checked = await readBack({ gateways: () => livePeers().map((peer) => peer.api), apiKey: swarm.apiKey, turns: workload.acknowledgedTurns(), puts: workload.acknowledgedPuts() });
  const peers = swarm.peers().map(({ index, nodeId, api }) => ({ index, nodeId, api }));
  if (!observer.hasLeaders) notes.push(`${options.replication} replication has no storage leader: leader changes and failover MTTR are not measured`);
  if (swarm.killRefusal !== undefined) notes.push(swarm.killRefusal);
  notes.push(...swarm.problems());
  const report = buildChaosReport({
    configuration: { peers: peers.length, durationMs: options.durationMs, mtbfMs: options.mtbfMs, repairMs: options.repairMs, seed: options.seed, replication: options.replication, acks: options.acks, killsMax: options.killsMax, leaderKills: options.leaderKills ?? 0, frontGateways: options.frontGateways ?? 0, targets: options.targets, chatClients, kvClients, chatTokensMax },
    startMs: state.startMs, endMs, peers, gateways, plan,
    actions: state.actions.sort((left, right) => left.atMs - right.atMs),
    leaderTracking: observer.hasLeaders, leaders: observer.observations(), failovers: observer.measures(), requests: records,
    conversations: checked.conversations, kv: checked.kv,
    clusterView: await clusterView(livePeers().map((peer) => peer.api), swarm.apiKey, state.startMs),
    notes: [...notes, ...checked.notes],
  });
  return { report, written: writeReport(options.outDir, report, swarm.logs()) };
}

/** Kills peers on plan (skipping a kill that would leave a majority down as things really are) and restarts each after the repair time. */
async function executePlan(state: RunState, plan: ChaosPlan): Promise<void> {
  const { swarm, options, observer, actions } = state;
  let leaderKillsLeft = options.leaderKills ?? 0;
  for (const planned of plan.kills) {
    if (!(await sleepUntil(state.startMs + planned.atMs, options.signal))) return;
    const peers = swarm.peers();
    const leaderIndex = peers.findIndex((peer) => peer.nodeId === observer.leader && peer.state === 'up');
    const kill = leaderKillsLeft > 0 && leaderIndex >= 0 ? { ...planned, peer: leaderIndex } : planned;
    if (kill !== planned) leaderKillsLeft--;
    const victim = peers[kill.peer];
    const notUp = peers.filter((peer) => peer.state !== 'up').length;
    if (victim.state !== 'up' || notUp + 1 > plan.downPeersMax) {
      const reason = victim.state !== 'up' ? `peer ${kill.peer + 1} is not up (${victim.state}): its restart is slower than planned` : `${notUp} peers are not up yet; one more would leave no majority`;
      actions.push({ kind: 'skip', atMs: Date.now(), peer: kill.peer, nodeId: victim.nodeId, reason });
      continue;
    }
    const wasLeader = observer.leader === victim.nodeId;
    const atMs = Date.now();
    try {
      await swarm.kill(kill.peer);
    } catch (error) {
      actions.push({ kind: 'skip', atMs, peer: kill.peer, nodeId: victim.nodeId, reason: `the kill failed: ${(error as Error).message}` });
      continue;
    }
    if (wasLeader) observer.openFailover(atMs, victim.nodeId);
    actions.push({ kind: 'kill', atMs, peer: kill.peer, nodeId: victim.nodeId, wasLeader });
    options.log(`${((atMs - state.startMs) / 1000).toFixed(1)} s: killed peer ${kill.peer + 1}${wasLeader ? ' (the leader)' : ''}`);
    state.restarts.push(restartLater(state, kill.peer, victim.nodeId, atMs + options.repairMs));
  }
}

async function restartLater(state: RunState, peer: number, nodeId: string, atMs: number): Promise<void> {
  // An interrupted run restarts at once, so that the read-back finds every peer.
  await sleepUntil(atMs, state.options.signal);
  const startedMs = Date.now();
  try {
    await state.swarm.restart(peer);
    state.actions.push({ kind: 'restart', atMs: startedMs, peer, nodeId, readyAtMs: Date.now() });
    state.options.log(`${((Date.now() - state.startMs) / 1000).toFixed(1)} s: peer ${peer + 1} is back`);
  } catch (error) {
    state.actions.push({ kind: 'restart', atMs: startedMs, peer, nodeId, readyAtMs: null, reason: (error as Error).message });
    state.options.log(`peer ${peer + 1} did not come back: ${(error as Error).message}`);
  }
}

/** Waits until `atMs`; false when the signal aborted the wait first. */
function sleepUntil(atMs: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, atMs - Date.now()));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function modelOf(gateways: readonly string[], apiKey: string | undefined): Promise<string> {
  const headers = authorizationHeaders(apiKey);
  const outcome = await send(`${gateways[0]}/v1/models`, { method: 'GET', headers, timeoutMs: 10_000 });
  if (outcome.kind === 'answer' && outcome.answer.status === 200) {
    const id = (JSON.parse(outcome.answer.text) as { data?: Array<{ id?: unknown }> }).data?.[0]?.id;
    if (typeof id === 'string') return id;
  }
  throw new ChaosRunError(`${gateways[0]} did not name its model (GET /v1/models: ${problemOf(outcome)}); is it a gateway of a nines swarm?`);
}

/** The swarm's own availability report for the run's window, or why there is none. */
async function clusterView(apis: readonly string[], apiKey: string | undefined, sinceMs: number): Promise<ChaosReport['clusterView']> {
  const api = apis[0];
  if (api === undefined) return { available: false, note: 'no peer was up to ask for its availability report' };
  const headers = authorizationHeaders(apiKey);
  const outcome = await send(`${api}/v1/admin/availability?since=${sinceMs}&slo=0.999`, { method: 'GET', headers, timeoutMs: 10_000 });
  if (outcome.kind === 'answer' && outcome.answer.status === 200) return { available: true, report: JSON.parse(outcome.answer.text) as unknown };
  const missing = outcome.kind === 'answer' && outcome.answer.status === 404;
  return { available: false, note: missing ? 'the swarm has no GET /v1/admin/availability route (404): only the run\'s own measurements are reported' : `GET /v1/admin/availability failed: ${problemOf(outcome)}` };
}
