import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../src/model/config.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../../src/model/train/checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from '../../../src/model/train/checkpoint-file.js';
import type { TokenCorpus } from '../../../src/model/train/data.js';
import { CheckpointCorruptError, CheckpointMismatchError, TrainingConfigError, TrainingDataError } from '../../../src/model/train/errors.js';
import { runTraining } from '../../../src/model/train/loop.js';
import type { TrainingOptions } from '../../../src/model/train/options.js';
import { Trainer } from '../../../src/model/train/trainer.js';

const config: ModelConfig = {
  architecture: 'llama', vocabSize: 24, dim: 16, hiddenDim: 32, layerCount: 2, headCount: 2, kvHeadCount: 1,
  contextLength: 16, ropeFreqBase: 10000, normEpsilon: 1e-5, tiedEmbeddings: false,
};

const options: TrainingOptions = {
  steps: 12, batchSize: 4, sequenceLength: 16, learningRate: 1e-2, warmupSteps: 3, minLearningRateRatio: 0.1,
  beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, gradientClipNorm: 1, seed: 5, evalFraction: 0.1,
};

/** A corpus with structure to learn: a counting pattern with a twist every 7 tokens; token i is i % 5 + 1 bytes long. */
function repetitiveCorpus(length = 3000): TokenCorpus {
  const tokens = Array.from({ length }, (_, i) => (i % 7 === 6 ? 20 + (Math.floor(i / 7) % 4) : i % 12));
  return { tokens, vocabSize: 24, tokenByteLengths: Array.from({ length: 24 }, (_, id) => (id % 5) + 1) };
}

const clock = { now: () => 0 };
const directory = mkdtempSync(join(tmpdir(), 'nines-train-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function losses(trainer: Trainer, steps: number): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < steps; i++) result.push((await trainer.trainStep()).loss);
  return result;
}

describe('Trainer', () => {
  it('repeats a run bit for bit from the same seed and data', async () => {
    const first = await Trainer.create(config, options, repetitiveCorpus());
    const second = await Trainer.create(config, options, repetitiveCorpus());
    expect(await losses(second, 12)).toEqual(await losses(first, 12));
    expect(Array.from(second.parameters)).toEqual(Array.from(first.parameters));
    const third = await Trainer.create(config, { ...options, seed: 6 }, repetitiveCorpus());
    expect((await losses(third, 1))[0]).not.toBe((await losses(await Trainer.create(config, options, repetitiveCorpus()), 1))[0]);
  });

  it('resumed from a checkpoint file, continues exactly as the uninterrupted run', async () => {
    const uninterrupted = await Trainer.create(config, options, repetitiveCorpus());
    const expected = await losses(uninterrupted, 12);
    const interrupted = await Trainer.create(config, options, repetitiveCorpus());
    expect(await losses(interrupted, 5)).toEqual(expected.slice(0, 5));
    const path = join(directory, 'resume', 'checkpoint.nckpt');
    saveCheckpoint(path, interrupted.checkpoint());
    const resumed = await Trainer.resume(loadCheckpoint(path), config, options, repetitiveCorpus(), path);
    expect(resumed.step).toBe(5);
    expect(await losses(resumed, 7)).toEqual(expected.slice(5));
    expect(Array.from(resumed.parameters)).toEqual(Array.from(uninterrupted.parameters));
    expect(resumed.isFinished).toBe(true);
  });

  it('refuses a checkpoint of another run, naming what differs', async () => {
    const trainer = await Trainer.create(config, options, repetitiveCorpus());
    await trainer.trainStep();
    const checkpoint = trainer.checkpoint();
    await expect(Trainer.resume(checkpoint, config, { ...options, learningRate: 2e-2 }, repetitiveCorpus(), 'x.nckpt')).rejects.toThrow(/option learningRate: checkpoint 0.01, now 0.02/);
    await expect(Trainer.resume(checkpoint, { ...config, dim: 32 }, options, repetitiveCorpus(), 'x.nckpt')).rejects.toBeInstanceOf(CheckpointMismatchError);
    await expect(Trainer.resume(checkpoint, config, options, repetitiveCorpus(2999), 'x.nckpt')).rejects.toThrow(/corpus/);
  });

  it('refuses a damaged, truncated, foreign or future checkpoint with a clear error', async () => {
    const trainer = await Trainer.create(config, options, repetitiveCorpus());
    const bytes = encodeCheckpoint(trainer.checkpoint());
    expect(decodeCheckpoint(bytes, 'good').step).toBe(0);
    const flipped = bytes.slice();
    flipped[bytes.length >> 1] ^= 0x10;
    expect(() => decodeCheckpoint(flipped, 'flipped')).toThrow(/checksum does not match/);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 100), 'short')).toThrow(CheckpointCorruptError);
    const foreign = bytes.slice();
    foreign[0] = 0x47;
    expect(() => decodeCheckpoint(foreign, 'foreign')).toThrow(/not a nines checkpoint/);
    const future = bytes.slice();
    future[8] = 99;
    expect(() => decodeCheckpoint(future, 'future')).toThrow(/version 99 is not supported/);
    const path = join(directory, 'damaged.nckpt');
    writeFileSync(path, flipped);
    expect(() => loadCheckpoint(path)).toThrow(`${path}: the checksum does not match`);
    expect(() => loadCheckpoint(join(directory, 'missing.nckpt'))).toThrow(/no checkpoint here/);
  });

  it('learns a repetitive corpus: the loss falls and the held-out text beats the unigram baseline', async () => {
    const trainer = await Trainer.create(config, { ...options, steps: 80, warmupSteps: 5 }, repetitiveCorpus());
    const progress: number[] = [];
    const report = await runTraining(trainer, { ...clock, onProgress: (p) => progress.push(p.step) });
    expect(progress).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(report.losses[0]).toBeGreaterThan(Math.log(24) - 0.3);
    expect(report.finalSmoothedLoss).toBeLessThan(report.losses[0] / 3);
    const evaluation = report.evaluation!;
    expect(evaluation.tokenCount).toBe(299);
    expect(evaluation.bitsPerByte).toBeLessThan(evaluation.unigramBitsPerByte / 3);
    expect(evaluation.bitsPerByte).toBeCloseTo((evaluation.natsPerToken * evaluation.tokenCount) / Math.LN2 / evaluation.byteCount, 10);
  });

  it('hands out checkpoints on schedule and reports tokens per second from the injected clock', async () => {
    let nowMs = 0;
    const trainer = await Trainer.create(config, { ...options, steps: 5 }, repetitiveCorpus());
    const saved: number[] = [];
    const rates: number[] = [];
    const report = await runTraining(trainer, {
      now: () => (nowMs += 250),
      checkpointEvery: 2,
      onCheckpoint: (checkpoint) => void saved.push(checkpoint.step),
      onProgress: (p) => rates.push(p.tokensPerSecond),
    });
    expect(saved).toEqual([2, 4, 5]);
    // Each step costs 250 ms of the fake clock (one reading per step after the first): 64 tokens / 0.25 s.
    expect(rates[1]).toBeCloseTo(256, 6);
    expect(report.stepsThisRun).toBe(5);
  });

  it('stops early when asked, handing out a checkpoint of the last step and skipping the evaluation', async () => {
    const trainer = await Trainer.create(config, options, repetitiveCorpus());
    const saved: number[] = [];
    const report = await runTraining(trainer, { ...clock, checkpointEvery: 100, onCheckpoint: (c) => void saved.push(c.step), shouldStop: () => trainer.step >= 3 });
    expect(report.stopped).toBe(true);
    expect(report.steps).toBe(3);
    expect(saved).toEqual([3]);
    expect(report.evaluation).toBeUndefined();
  });

  it('rejects unusable options and data with errors that say what to change', async () => {
    await expect(Trainer.create(config, { ...options, sequenceLength: 17 }, repetitiveCorpus())).rejects.toThrow(/sequenceLength must be an integer from 1 to 16/);
    await expect(Trainer.create(config, { ...options, learningRate: 0 }, repetitiveCorpus())).rejects.toBeInstanceOf(TrainingConfigError);
    await expect(Trainer.create(config, options, { ...repetitiveCorpus(), tokens: [1, 2, 99] })).rejects.toThrow(/token 2 of the corpus is 99/);
    await expect(Trainer.create(config, options, repetitiveCorpus(17))).rejects.toBeInstanceOf(TrainingDataError);
    await expect(Trainer.create({ ...config, architecture: 'qwen2' }, options, repetitiveCorpus())).rejects.toThrow(/architecture must be 'llama'/);
  });
});
