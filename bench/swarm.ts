/**
 * `npm run bench:swarm`: what the swarm costs a client and what a dying compute peer costs it,
 * measured against the same generation in this process (the peer the swarm must not fall far
 * behind). The swarm is a gateway peer and two compute peers as real processes on loopback,
 * on a random model the bench writes (384 wide, 6 layers: an answer takes long enough to kill
 * its compute peer in the middle of it).
 *
 * 1. Gateway overhead: a completion of 8 tokens through the gateway vs the same completion
 *    in-process (LocalCompletionBackend); p50 and p99 of each and of the difference. The two
 *    take turns, request by request, while the swarm runs, so both see the same machine (an
 *    idle swarm's heartbeats and health checks take a few percent of the cores, and these
 *    shared machines drift). The client is node:http with a keep-alive connection, the
 *    thinnest Node has: the overhead is the swarm's, not the client library's. The same
 *    requests sent with fetch (undici) are reported next to it, for what a fetch client adds.
 * 2. Time to first token, streamed through the gateway vs in-process.
 * 3. Failover stall: during a streamed answer, SIGKILL the compute peer producing it after its
 *    10th token; the stall is the longest gap between two tokens the client sees; median and
 *    max over --kills rounds (default 20), the killed peer restarted after each.
 *
 * Writes bench/results/swarm.json. Options: --requests <n> (default 100), --kills <n>, --quick.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../src/model/load-file.js';
import { LocalCompletionBackend } from '../src/service/local-backend.js';
import type { CompletionJob } from '../src/service/completion-backend.js';
import { contentionWarning, describeMachine, formatTable, integerArgument, loadAverageNow, median, resultsDirectory, writeResults } from './measure.js';
import { writeRandomModel } from './random-model.js';
import { SwarmProcesses } from './swarm/swarm-processes.js';

const quick = process.argv.includes('--quick');
const requests = quick ? 20 : integerArgument('requests', 100);
const kills = quick ? 3 : integerArgument('kills', 20);
const directory = mkdtempSync(join(tmpdir(), 'nines-bench-swarm-model-'));
const modelPath = join(directory, 'bench-swarm.gguf');

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))].toFixed(2));
}

const base = loadModel(undefined, { threads: 1 });
writeRandomModel(modelPath, {
  config: { architecture: 'llama', vocabSize: base.tokenizer.vocabSize, dim: 384, hiddenDim: 1024, layerCount: 6, headCount: 6, kvHeadCount: 6, contextLength: 512, ropeFreqBase: 10000, normEpsilon: 1e-5, tiedEmbeddings: false },
  tokenizer: base.tokenizer, matrixType: 'F32', seed: 5, name: 'bench-swarm', nextTokenMap: true,
});
await base.close();

// ---- in-process ------------------------------------------------------------------------------
const loaded = loadModel(modelPath, { threads: 1 });
const local = new LocalCompletionBackend(loaded);
const job = (maxTokens: number): CompletionJob => ({
  model: 'bench-swarm', input: { kind: 'prompt', prompt: 'And God said' }, maxTokens, sampler: { temperature: 0, topP: 1, topK: 0, seed: 1 },
  stop: [], trace: false, traceTopK: 0, apiKeyName: 'bench', apiKeyPriority: 'normal',
});
async function localRun(maxTokens: number): Promise<{ totalMs: number; firstTokenMs: number }> {
  const started = performance.now();
  let firstTokenMs = Number.NaN;
  for await (const event of local.run(job(maxTokens), new AbortController().signal)) {
    if (event.type === 'token' && Number.isNaN(firstTokenMs)) firstTokenMs = performance.now() - started;
  }
  return { totalMs: performance.now() - started, firstTokenMs };
}
// In-process alone, before the swarm starts: reported beside the rest, for what an idle swarm's background costs the machine.
for (let i = 0; i < 5; i++) await localRun(8);
const inProcessAlone: number[] = [];
for (let i = 0; i < requests; i++) inProcessAlone.push((await localRun(8)).totalMs);

// ---- through the swarm ---------------------------------------------------------------------------
const machine = describeMachine();
const swarm = new SwarmProcesses(modelPath, 2, 27_000);
console.log('starting the swarm: a gateway and two compute peers');
await swarm.start();

// In-process and through the swarm in turn (see the header): warm-up first, then the measured rounds.
for (let i = 0; i < 5; i++) {
  await localRun(8);
  await swarm.complete(8);
  await swarm.complete(8, 1, 'fetch');
}
const inProcess: Array<{ totalMs: number; firstTokenMs: number }> = [];
const throughSwarm: number[] = [];
const throughSwarmWithFetch: number[] = [];
for (let i = 0; i < requests; i++) {
  inProcess.push(await localRun(8));
  const viaHttp = await swarm.complete(8);
  const viaFetch = await swarm.complete(8, 1, 'fetch');
  if (!viaHttp.ok || !viaFetch.ok) throw new Error('a completion through the swarm failed');
  throughSwarm.push(viaHttp.ms);
  throughSwarmWithFetch.push(viaFetch.ms);
}
await loaded.close();

/** A streamed completion; each token's arrival time and compute peer, and the kill hook. */
async function streamed(maxTokens: number, onToken: (count: number, peer: string | undefined) => void = () => undefined): Promise<{ arrivalsMs: number[]; firstTokenMs: number }> {
  const started = performance.now();
  const response = await fetch(`${swarm.gatewayUrl}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench-swarm', prompt: 'And God said', max_tokens: maxTokens, temperature: 0.8, seed: 3, stream: true, trace: true, trace_top_k: 1 }),
  });
  if (response.status !== 200) throw new Error(`the gateway answered ${response.status}: ${await response.text()}`);
  const arrivalsMs: number[] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const bytes of response.body!) {
    buffered += decoder.decode(bytes as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const data = buffered.slice(0, end).replace(/^data: /, '');
      buffered = buffered.slice(end + 2);
      if (data === '[DONE]') continue;
      const chunk = JSON.parse(data) as { error?: { message: string }; nines_trace?: Array<{ peer?: string }> };
      if (chunk.error !== undefined) throw new Error(`the stream failed: ${chunk.error.message}`);
      for (const entry of chunk.nines_trace ?? []) {
        arrivalsMs.push(performance.now() - started);
        onToken(arrivalsMs.length, entry.peer);
      }
    }
  }
  return { arrivalsMs, firstTokenMs: arrivalsMs[0] ?? Number.NaN };
}

const firstTokens: number[] = [];
for (let i = 0; i < Math.min(requests, 30); i++) firstTokens.push((await streamed(8)).firstTokenMs);

const stalls: number[] = [];
const normalGaps: number[] = [];
for (let round = 0; round < kills; round++) {
  let victim: ReturnType<SwarmProcesses['computeMember']>;
  const { arrivalsMs } = await streamed(200, (count, peer) => {
    if (count === 10 && victim === undefined) {
      victim = peer === undefined ? undefined : swarm.computeMember(peer);
      if (victim !== undefined) swarm.kill(victim);
    }
  });
  if (victim === undefined) throw new Error('the stream named no compute peer to kill');
  const gaps = arrivalsMs.slice(1).map((at, index) => at - arrivalsMs[index]);
  stalls.push(Math.max(...gaps.slice(8)));
  normalGaps.push(median(gaps));
  console.log(`kill ${round + 1}/${kills}: stall ${stalls.at(-1)!.toFixed(1)} ms (typical gap ${normalGaps.at(-1)!.toFixed(2)} ms, ${arrivalsMs.length} tokens)`);
  await swarm.restart(victim);
  // The restarted peer announces itself again; give the gateway's provider list time to see it.
  await new Promise((resolve) => setTimeout(resolve, 6_000));
}
await swarm.stop();
rmSync(directory, { recursive: true, force: true });

const local50 = percentile(inProcess.map((run) => run.totalMs), 0.5);
const local99 = percentile(inProcess.map((run) => run.totalMs), 0.99);
const swarm50 = percentile(throughSwarm, 0.5);
const swarm99 = percentile(throughSwarm, 0.99);
const fetch50 = percentile(throughSwarmWithFetch, 0.5);
const fetch99 = percentile(throughSwarmWithFetch, 0.99);
const results = {
  benchmark: 'swarm',
  warning: contentionWarning(machine, loadAverageNow()),
  machine,
  layout: { gateway: 1, computePeers: 2, network: 'loopback', model: 'random, dim 384, 6 layers, F32', completionTokens: 8, requests, kills },
  gatewayOverhead: {
    method: 'in-process and through the swarm in turn, request by request, while the swarm runs; client node:http with keep-alive (fetch alongside)',
    inProcessMs: { p50: local50, p99: local99 },
    inProcessBeforeTheSwarmStartedMs: { p50: percentile(inProcessAlone, 0.5), p99: percentile(inProcessAlone, 0.99) },
    throughSwarmMs: { p50: swarm50, p99: swarm99 },
    overheadMs: { p50: Number((swarm50 - local50).toFixed(2)), p99: Number((swarm99 - local99).toFixed(2)) },
    withFetchClient: { throughSwarmMs: { p50: fetch50, p99: fetch99 }, overheadMs: { p50: Number((fetch50 - local50).toFixed(2)), p99: Number((fetch99 - local99).toFixed(2)) } },
  },
  timeToFirstTokenMs: { inProcess: { p50: percentile(inProcess.map((run) => run.firstTokenMs), 0.5) }, throughSwarm: { p50: percentile(firstTokens, 0.5), p99: percentile(firstTokens, 0.99) } },
  failoverStallMs: { median: Number(median(stalls).toFixed(1)), max: Number(Math.max(...stalls).toFixed(1)), typicalTokenGapMs: Number(median(normalGaps).toFixed(2)), rounds: stalls.map((stall) => Number(stall.toFixed(1))) },
  mustReach: {
    overheadP50Ms: { target: '<= 5', measured: Number((swarm50 - local50).toFixed(2)), met: swarm50 - local50 <= 5 },
    failoverStallMedianMs: { target: '<= 1000', measured: Number(median(stalls).toFixed(1)), met: median(stalls) <= 1000 },
  },
};
console.log(`\n${formatTable(
  ['measure', 'in-process', 'through the swarm', 'difference'],
  [
    ['8-token completion p50 ms', String(local50), String(swarm50), String(results.gatewayOverhead.overheadMs.p50)],
    ['8-token completion p99 ms', String(local99), String(swarm99), String(results.gatewayOverhead.overheadMs.p99)],
    ['  in-process before the swarm started, p50 ms', String(results.gatewayOverhead.inProcessBeforeTheSwarmStartedMs.p50), '', ''],
    ['  the same with a fetch client, p50 / p99 ms', '', `${fetch50} / ${fetch99}`, `${results.gatewayOverhead.withFetchClient.overheadMs.p50} / ${results.gatewayOverhead.withFetchClient.overheadMs.p99}`],
    ['time to first token p50 ms', String(results.timeToFirstTokenMs.inProcess.p50), String(results.timeToFirstTokenMs.throughSwarm.p50), ''],
    [`failover stall (${kills} kills) median / max ms`, '', `${results.failoverStallMs.median} / ${results.failoverStallMs.max}`, ''],
  ],
)}`);
if (results.warning !== undefined) console.log(`warning: ${results.warning}`);
const out = `${resultsDirectory}swarm.json`;
writeResults(out, results);
console.log(`Written to ${out}`);
