/**
 * Data-parallel training on two threads: the same gradient as one thread (up to float32
 * rounding of the per-shard sums), and the same losses bit for bit on every run.
 * The worker runs the TypeScript sources through a small loader (support/), as vitest
 * does for the test itself; the built CLI runs the compiled JavaScript instead.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../src/model/config.js';
import { LocalGradientEngine } from '../../../src/model/train/engine.js';
import type { TrainingOptions } from '../../../src/model/train/options.js';
import { initializeParameters, layoutOf } from '../../../src/model/train/parameters.js';
import { Trainer } from '../../../src/model/train/trainer.js';
import { WorkerPoolEngine, type WorkerPoolOptions } from '../../../src/model/train/worker-pool-shell.js';
import { Rng } from '../../../src/core/rng.js';

const config: ModelConfig = {
  architecture: 'llama', vocabSize: 32, dim: 32, hiddenDim: 64, layerCount: 2, headCount: 4, kvHeadCount: 2,
  contextLength: 16, ropeFreqBase: 10000, normEpsilon: 1e-5, tiedEmbeddings: true,
};
const pool: WorkerPoolOptions = { threadCount: 2, execArgv: ['--import', new URL('../../../scripts/typescript-loader.mjs', import.meta.url).href] };
const layout = layoutOf(config);
const batch = 5; // shards of 3 and 2 sequences
const seqLen = 16;
// Starting a worker from the TypeScript sources takes seconds, so the tests share one engine.
const parallel = WorkerPoolEngine.create(layout, batch, seqLen, pool);
afterAll(async () => (await parallel).close());

describe('worker pool engine', () => {
  it('computes the one-thread gradient on two threads', async () => {
    const local = new LocalGradientEngine(layout, batch, seqLen);
    const engine = await parallel;
    expect(engine.threadCount).toBe(2);
    initializeParameters(layout, local.parameters, new Rng(1));
    engine.parameters.set(local.parameters);
    const rng = new Rng(2);
    const inputs = Int32Array.from({ length: batch * seqLen }, () => rng.nextInt(config.vocabSize));
    const targets = Int32Array.from({ length: batch * seqLen }, () => rng.nextInt(config.vocabSize));
    const localGradients = new Float32Array(layout.parameterCount);
    const parallelGradients = new Float32Array(layout.parameterCount);
    const localNats = await local.computeGradients(inputs, targets, batch, seqLen, localGradients);
    const parallelNats = await engine.computeGradients(inputs, targets, batch, seqLen, parallelGradients);
    expect(parallelNats).toBeCloseTo(localNats, 3);
    let worst = 0;
    let largest = 0;
    for (let i = 0; i < localGradients.length; i++) {
      worst = Math.max(worst, Math.abs(parallelGradients[i] - localGradients[i]));
      largest = Math.max(largest, Math.abs(localGradients[i]));
    }
    expect(largest).toBeGreaterThan(0);
    expect(worst / largest).toBeLessThan(1e-5);
  });

  it('repeats a two-thread run bit for bit', async () => {
    const options: TrainingOptions = {
      steps: 6, batchSize: batch, sequenceLength: 16, learningRate: 1e-2, warmupSteps: 2, minLearningRateRatio: 0.1,
      beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, gradientClipNorm: 1, seed: 9, evalFraction: 0.05,
    };
    const corpus = { tokens: Array.from({ length: 2000 }, (_, i) => (i * 7) % 31), vocabSize: 32, tokenByteLengths: new Array<number>(32).fill(2) };
    const runs: number[][] = [];
    for (let run = 0; run < 2; run++) {
      // Each run initialises the shared engine's weights afresh from the seed.
      const trainer = await Trainer.create(config, options, corpus, () => parallel);
      const losses: number[] = [];
      while (!trainer.isFinished) losses.push((await trainer.trainStep()).loss);
      runs.push(losses);
      expect(trainer.evaluate().tokenCount).toBe(99);
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[0][5]).toBeLessThan(runs[0][0]);
  });

  it('fails at start-up, with the reason, when a worker cannot load', async () => {
    await expect(WorkerPoolEngine.create(layout, 4, 16, { threadCount: 2, workerUrl: new URL('./support/no-such-worker.mjs', import.meta.url) })).rejects.toThrow(/training worker/);
    await expect(WorkerPoolEngine.create(layout, 1, 16, pool)).rejects.toThrow(/2 threads need a batch of at least 2 sequences/);
  });
});
