import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../src/model/config.js';
import { adamwStep, clipScale, createMoments, gradientNorm, learningRateAt, type OptimizerSettings } from '../../../src/model/train/optimizer.js';
import { layoutOf } from '../../../src/model/train/parameters.js';

const settings: OptimizerSettings = {
  learningRate: 0.01,
  warmupSteps: 10,
  steps: 110,
  minLearningRateRatio: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  epsilon: 1e-8,
  weightDecay: 0.1,
  gradientClipNorm: 1,
};

const config: ModelConfig = {
  architecture: 'llama', vocabSize: 3, dim: 2, hiddenDim: 2, layerCount: 1, headCount: 1, kvHeadCount: 1,
  contextLength: 4, ropeFreqBase: 10000, normEpsilon: 1e-5, tiedEmbeddings: true,
};

describe('AdamW', () => {
  it('takes the step computed by hand, decaying matrices but not norm weights', () => {
    const layout = layoutOf(config);
    const matrix = layout.byName.get('token_embd.weight')!;
    const norm = layout.byName.get('output_norm.weight')!;
    const parameters = new Float32Array(layout.parameterCount).fill(0.5);
    const gradients = new Float32Array(layout.parameterCount).fill(0.2);
    const moments = createMoments(layout.parameterCount);
    // Step 1, gradient scale 0.5 (clipping), learning rate 0.01:
    // g = 0.1; m = 0.1 * 0.1 = 0.01; v = 0.05 * 0.01 = 0.0005;
    // m^ = 0.01 / 0.1 = 0.1; v^ = 0.0005 / 0.05 = 0.01; m^ / (sqrt(v^) + eps) = 0.1 / (0.1 + 1e-8).
    adamwStep(layout, parameters, gradients, moments, 1, 0.01, 0.5, settings);
    const adamTerm = 0.01 * (0.1 / (0.1 + 1e-8));
    expect(parameters[matrix.offset]).toBeCloseTo(0.5 * (1 - 0.01 * 0.1) - adamTerm, 7);
    expect(parameters[norm.offset]).toBeCloseTo(0.5 - adamTerm, 7);
    expect(moments.first[0]).toBeCloseTo(0.01, 9);
    expect(moments.second[0]).toBeCloseTo(0.0005, 9);
    // Step 2 with gradient 0.2 unscaled: m = 0.9 * 0.01 + 0.1 * 0.2 = 0.029; v = 0.95 * 0.0005 + 0.05 * 0.04 = 0.002475;
    // m^ = 0.029 / 0.19; v^ = 0.002475 / 0.0975.
    const before = parameters[norm.offset];
    adamwStep(layout, parameters, gradients, moments, 2, 0.01, 1, settings);
    expect(parameters[norm.offset]).toBeCloseTo(before - (0.01 * (0.029 / 0.19)) / (Math.sqrt(0.002475 / 0.0975) + 1e-8), 6);
  });
});

describe('learning-rate schedule', () => {
  it('warms up linearly, then decays along a cosine to 10% of the peak at the last step', () => {
    expect(learningRateAt(0, settings)).toBeCloseTo(0.001, 12);
    expect(learningRateAt(4, settings)).toBeCloseTo(0.005, 12);
    expect(learningRateAt(9, settings)).toBeCloseTo(0.01, 12);
    expect(learningRateAt(10, settings)).toBeCloseTo(0.01, 12);
    // Halfway through the decay the cosine is at its middle: floor + (peak - floor) / 2.
    const middle = 10 + (110 - 1 - 10) / 2;
    expect(learningRateAt(middle, settings)).toBeCloseTo(0.001 + 0.009 / 2, 12);
    expect(learningRateAt(109, settings)).toBeCloseTo(0.001, 12);
    // Monotonic: up during the warm-up, down after.
    for (let step = 1; step < 110; step++) {
      const change = learningRateAt(step, settings) - learningRateAt(step - 1, settings);
      if (step < 10) expect(change).toBeGreaterThan(0);
      else expect(change).toBeLessThanOrEqual(1e-15); // the peak is reached twice, up to rounding
    }
  });

  it('starts at the peak without a warm-up', () => {
    expect(learningRateAt(0, { ...settings, warmupSteps: 0 })).toBeCloseTo(0.01, 12);
  });
});

describe('gradient clipping', () => {
  it('scales a gradient whose global norm exceeds the limit down to the limit, and leaves a smaller one alone', () => {
    const gradients = new Float32Array([3, 4, 0, 0]);
    expect(gradientNorm(gradients)).toBe(5);
    expect(clipScale(5, 1)).toBeCloseTo(0.2, 12);
    expect(clipScale(0.5, 1)).toBe(1);
    expect(clipScale(1, 1)).toBe(1);
  });
});
