import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../../src/model/load-file.js';
import { defaultSamplerSettings } from '../../../src/model/sampler.js';
import { ComputeEngine } from '../../../src/service/compute/compute-engine.js';
import type { ChunkRequest, ChunkResponse } from '../../../src/service/compute/protocol.js';
import { laterChunkTokens } from '../../../src/service/compute/failover-runner.js';

let model: LoadedModel;
beforeAll(() => {
  model = loadModel(undefined, { threads: 1 });
});
afterAll(async () => {
  await model.close();
});

function request(jobId: string, chunkTokens: number, maxTokens: number, resume?: ChunkRequest['resume']): ChunkRequest {
  return {
    jobId, model: model.name, prompt: model.tokenizer.encode('And God said'), sampler: { ...defaultSamplerSettings, seed: 11 }, maxTokens, stop: [], traceTopK: 0, chunkTokens,
    ...(resume !== undefined && { resume }),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

/** A whole job through one engine, chunk after chunk, as a gateway pulls it. */
async function pull(engine: ComputeEngine, jobId: string, maxTokens: number, pause: boolean): Promise<{ ids: number[]; states: unknown[]; end: ChunkResponse['end']; chunks: number }> {
  const ids: number[] = [];
  const states: unknown[] = [];
  let samplerState: ChunkRequest['sampler'] | undefined;
  for (let chunks = 1; ; chunks++) {
    const resume = ids.length === 0 ? undefined : { generatedTokens: [...ids], samplerState: samplerState as never };
    const response = await engine.chunk(request(jobId, ids.length === 0 ? 1 : 4, maxTokens, resume));
    for (const step of response.steps) {
      ids.push(step.id);
      samplerState = step.samplerState as never;
      states.push(step.samplerState);
    }
    if (response.end !== undefined) return { ids, states, end: response.end, chunks };
    if (pause) await settle();
  }
}

describe('the compute engine generating ahead', () => {
  it('has the next tokens ready when the next chunk is asked for, and the same tokens either way', async () => {
    const engine = new ComputeEngine(model);
    const first = await engine.chunk(request('ahead', 1, 40));
    expect(first.steps).toHaveLength(1);
    await settle();
    // One chunk answered, and the next chunk's tokens and one more generated while nobody asked.
    expect(engine.counters.tokens).toBe(1 + laterChunkTokens + 1);
    const paused = await pull(new ComputeEngine(model), 'paused', 9, true);
    const eager = await pull(new ComputeEngine(model), 'eager', 9, false);
    expect(paused.ids).toEqual(eager.ids);
    expect(paused.end).toEqual(eager.end);
    expect(paused.ids).toHaveLength(9);
  });

  it('returns the end with the last tokens, found ahead, rather than in one more chunk', async () => {
    // 1 + 4 + 4 tokens: without generating ahead the end would need a fourth chunk.
    const { chunks, end } = await pull(new ComputeEngine(model), 'ends', 9, true);
    expect(end?.reason).toBe('length');
    expect(chunks).toBe(3);
  });

  it('sends the end with a chunk that reaches the last token, so a whole answer can take one chunk', async () => {
    const engine = new ComputeEngine(model);
    const response = await engine.chunk(request('whole', 8, 8));
    expect(response.steps).toHaveLength(8);
    expect(response.end?.reason).toBe('length');
    expect(engine.hasJob('whole')).toBe(false);
  });

  it('stops working ahead after the token in progress when a chunk of another job arrives', async () => {
    const engine = new ComputeEngine(model);
    await engine.chunk(request('long', 1, 40));
    // The work ahead starts after this turn of the event loop; let it make its first token.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const other = await engine.chunk(request('other', 1, 1));
    expect(other.end).toBeDefined();
    const aheadOfLong = engine.counters.tokens - 2;
    expect(aheadOfLong).toBeGreaterThanOrEqual(1);
    expect(aheadOfLong).toBeLessThan(laterChunkTokens);
  });

  it('drops what it generated ahead when the gateway resumes from elsewhere in the job', async () => {
    const engine = new ComputeEngine(model);
    const reference = await pull(new ComputeEngine(model), 'reference', 6, false);
    await engine.chunk(request('moved', 1, 6));
    await settle();
    // The gateway got two tokens from another peer meanwhile, and now comes back here.
    const response = await engine.chunk(request('moved', 4, 6, { generatedTokens: reference.ids.slice(0, 2), samplerState: reference.states[1] as never }));
    expect(engine.counters.resumes).toBe(1);
    expect([...reference.ids.slice(0, 2), ...response.steps.map((step) => step.id)]).toEqual(reference.ids);
  });
});
