import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../../src/model/load-file.js';
import { defaultSamplerSettings } from '../../../src/model/sampler.js';
import { ComputeEngine } from '../../../src/service/compute/compute-engine.js';
import { chunkRequestProblem, type ChunkRequest, type ChunkResponse } from '../../../src/service/compute/protocol.js';
import { laterChunkTokens, NoComputePeerError, runAcrossPeers, type ComputeDirectory, type RunnerEvent } from '../../../src/service/compute/failover-runner.js';

let model: LoadedModel;
beforeAll(() => {
  model = loadModel(undefined, { threads: 1 });
});
afterAll(async () => {
  await model.close();
});

/** Compute peers in this process; `dieAfterChunks` makes a peer fail (as if killed) from its nth chunk on. */
function directoryOf(engines: Map<string, ComputeEngine>, dieAfterChunks: Map<string, number> = new Map()) {
  const served = new Map<string, number>();
  const reports: Array<{ peer: string; ok: boolean }> = [];
  const directory: ComputeDirectory = {
    candidates: async (_model, exclude) => [...engines.keys()].filter((peer) => !exclude.has(peer)),
    async call(peer, request) {
      const count = (served.get(peer) ?? 0) + 1;
      served.set(peer, count);
      if (count > (dieAfterChunks.get(peer) ?? Number.POSITIVE_INFINITY)) throw new Error(`connection to ${peer} closed`);
      expect(chunkRequestProblem(JSON.parse(JSON.stringify(request)))).toBeUndefined();
      // Through JSON, as over the wire.
      return JSON.parse(JSON.stringify(await engines.get(peer)!.chunk(request))) as ChunkResponse;
    },
    report: (peer, outcome) => void reports.push({ peer, ok: outcome.ok }),
  };
  return { directory, reports };
}

function job(seed: number, maxTokens = 40): Omit<ChunkRequest, 'resume' | 'chunkTokens'> {
  return {
    jobId: `job-${seed}-${Math.random()}`,
    model: model.name,
    prompt: model.tokenizer.encode('And God said'),
    sampler: { ...defaultSamplerSettings, seed },
    maxTokens,
    stop: [],
    traceTopK: 0,
  };
}

async function collect(events: AsyncIterable<RunnerEvent>): Promise<{ tokens: number[]; text: string; peers: string[]; failovers: number; end?: string }> {
  const result = { tokens: [] as number[], text: '', peers: [] as string[], failovers: 0, end: undefined as string | undefined };
  for await (const event of events) {
    if (event.kind === 'token') {
      result.tokens.push(event.step.id);
      result.text += event.step.text;
      result.peers.push(event.peer);
    } else if (event.kind === 'failover') result.failovers++;
    else {
      result.text += event.text;
      result.end = event.reason;
    }
  }
  return result;
}

describe('generation across compute peers', () => {
  it('gives the same tokens and text when the compute peer dies mid-answer, for several seeds', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const alone = directoryOf(new Map([['a', new ComputeEngine(model)]]));
      const uninterrupted = await collect(runAcrossPeers(job(seed), alone.directory, new AbortController().signal));
      expect(uninterrupted.tokens.length).toBeGreaterThan(10);
      // Peer a dies after its third chunk (1 + 8 + 8 tokens), b after two more, c finishes.
      const swarm = directoryOf(new Map([['a', new ComputeEngine(model)], ['b', new ComputeEngine(model)], ['c', new ComputeEngine(model)]]), new Map([['a', 3], ['b', 2]]));
      const interrupted = await collect(runAcrossPeers(job(seed), swarm.directory, new AbortController().signal));
      expect(interrupted.failovers).toBe(2);
      expect(new Set(interrupted.peers)).toEqual(new Set(['a', 'b', 'c']));
      expect(interrupted.tokens).toEqual(uninterrupted.tokens);
      expect(interrupted.text).toBe(uninterrupted.text);
      expect(interrupted.end).toBe(uninterrupted.end);
      expect(swarm.reports.filter((report) => !report.ok).map((report) => report.peer)).toEqual(['a', 'b']);
    }
  }, 60_000);

  it('keeps a job\'s session between chunks on one peer, and resumes on a peer that never saw it', async () => {
    const engine = new ComputeEngine(model);
    const { directory } = directoryOf(new Map([['a', engine]]));
    await collect(runAcrossPeers(job(7, 30), directory, new AbortController().signal));
    expect(engine.counters.resumes).toBe(0);
    const other = new ComputeEngine(model);
    const swarm = directoryOf(new Map([['a', new ComputeEngine(model)], ['b', other]]), new Map([['a', 2]]));
    await collect(runAcrossPeers(job(7, 30), swarm.directory, new AbortController().signal));
    expect(other.counters.resumes).toBe(1);
  }, 30_000);

  it('asks for a short answer in one chunk when the client waits for all of it, and for its first token alone when it streams', async () => {
    const whole = directoryOf(new Map([['a', new ComputeEngine(model)]]));
    const waited = await collect(runAcrossPeers(job(3, laterChunkTokens), whole.directory, new AbortController().signal, { firstChunkTokens: laterChunkTokens }));
    expect(waited.tokens).toHaveLength(laterChunkTokens);
    expect(whole.reports).toHaveLength(1);
    const streamed = directoryOf(new Map([['a', new ComputeEngine(model)]]));
    const stream = await collect(runAcrossPeers(job(3, laterChunkTokens), streamed.directory, new AbortController().signal));
    expect(stream.tokens).toEqual(waited.tokens);
    expect(streamed.reports).toHaveLength(2);
  });

  it('fails clearly when every peer fails, and when none serves the model', async () => {
    const { directory } = directoryOf(new Map([['a', new ComputeEngine(model)], ['b', new ComputeEngine(model)]]), new Map([['a', 0], ['b', 0]]));
    await expect(collect(runAcrossPeers(job(1), directory, new AbortController().signal))).rejects.toThrow(/2 tried/);
    const empty = directoryOf(new Map());
    await expect(collect(runAcrossPeers(job(1), empty.directory, new AbortController().signal))).rejects.toThrow(NoComputePeerError);
  });

  it('refuses malformed chunk requests with the reason', () => {
    const good = { ...job(1), chunkTokens: 1 };
    expect(chunkRequestProblem(good)).toBeUndefined();
    expect(chunkRequestProblem({ ...good, prompt: [] })).toMatch(/prompt must hold/);
    expect(chunkRequestProblem({ ...good, chunkTokens: 1000 })).toMatch(/chunkTokens/);
    expect(chunkRequestProblem({ ...good, resume: { generatedTokens: [1], samplerState: { settings: defaultSamplerSettings, rng: { s0: -1, s1: 0, s2: 0, s3: 0 } } } })).toMatch(/rng\.s0/);
    expect(chunkRequestProblem({ ...good, stop: ['a', 'b', 'c', 'd', 'e'] })).toMatch(/at most 4/);
    expect(chunkRequestProblem({ ...good, sampler: { ...good.sampler, temperature: 'hot' } })).toMatch(/temperature/);
  });

  it('refuses a model it does not serve and a prompt outside the vocabulary', async () => {
    const engine = new ComputeEngine(model);
    await expect(engine.chunk({ ...job(1), model: 'other', chunkTokens: 1 })).rejects.toThrow(/serves model/);
    await expect(engine.chunk({ ...job(1), prompt: [model.config.vocabSize + 5], chunkTokens: 1 })).rejects.toThrow(/token/i);
    expect(engine.load().liveJobs).toBe(0);
  });
});
