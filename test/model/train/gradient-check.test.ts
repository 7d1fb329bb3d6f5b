/**
 * Every analytic gradient of the hand-written backward pass against central finite
 * differences of the loss, element by element, on a tiny model, tied and untied.
 *
 * The check runs the very same training code in Float64Array (the pass is generic over
 * the float array type; training itself uses Float32Array). In float32 the loss carries
 * about 7 significant digits, so a central difference with a step small enough to make
 * the Taylor error negligible is mostly rounding noise, and the tolerance it needs would
 * let a wrong but small gradient through. In float64 with a step of 1e-5, truncation
 * (~h^2) and rounding (~1e-16 / h) leave at most about 1e-6 relative error (measured),
 * so we demand 1e-5; a broken backward step gives errors near 1.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import type { ModelConfig } from '../../../src/model/config.js';
import { causalBlockRows } from '../../../src/model/train/attention.js';
import { allocateFlat, layoutOf } from '../../../src/model/train/parameters.js';
import { TrainingWorkspace } from '../../../src/model/train/training-pass.js';

function tinyConfig(tiedEmbeddings: boolean, contextLength = 8): ModelConfig {
  return {
    architecture: 'llama',
    vocabSize: 11,
    dim: 8,
    hiddenDim: 12,
    layerCount: 2,
    headCount: 2,
    kvHeadCount: 1,
    contextLength,
    ropeFreqBase: 10000,
    normEpsilon: 1e-5,
    tiedEmbeddings,
  };
}

const step = 1e-5;

function checkGradients(config: ModelConfig, batch: number, seqLen: number): { worst: number; perTensor: Map<string, number> } {
  const layout = layoutOf(config);
  const parameters = allocateFlat(layout, 'float64');
  const gradients = allocateFlat(layout, 'float64');
  const rng = new Rng(7);
  // Larger weights than training's initialisation, and norm weights away from 1, so that every gradient is far from zero.
  for (const tensor of layout.tensors) {
    for (let i = 0; i < tensor.size; i++) parameters[tensor.offset + i] = (tensor.isMatrix ? 0 : 1) + 0.4 * rng.nextGaussian();
  }
  const workspace = new TrainingWorkspace(layout, parameters, gradients, batch, seqLen);
  for (let i = 0; i < batch * seqLen; i++) {
    workspace.inputs[i] = rng.nextInt(config.vocabSize);
    workspace.targets[i] = rng.nextInt(config.vocabSize);
  }
  const lossScale = 1 / (batch * seqLen);
  const loss = (): number => workspace.forward(batch, seqLen, lossScale, false) * lossScale;
  workspace.forward(batch, seqLen, lossScale, true);
  workspace.backward();
  const analytic = Float64Array.from(gradients);
  const perTensor = new Map<string, number>();
  let worst = 0;
  for (const tensor of layout.tensors) {
    let tensorWorst = 0;
    for (let i = tensor.offset; i < tensor.offset + tensor.size; i++) {
      const saved = parameters[i];
      parameters[i] = saved + step;
      const plus = loss();
      parameters[i] = saved - step;
      const minus = loss();
      parameters[i] = saved;
      const numeric = (plus - minus) / (2 * step);
      const error = Math.abs(numeric - analytic[i]) / Math.max(1e-4, Math.abs(numeric) + Math.abs(analytic[i]));
      tensorWorst = Math.max(tensorWorst, error);
    }
    perTensor.set(tensor.name, tensorWorst);
    worst = Math.max(worst, tensorWorst);
  }
  return { worst, perTensor };
}

describe('backward pass', () => {
  for (const tied of [false, true]) {
    it(`matches finite differences for every parameter (${tied ? 'tied' : 'untied'} embeddings)`, () => {
      const { perTensor } = checkGradients(tinyConfig(tied), 2, 5);
      expect(perTensor.size).toBe(tied ? 2 + 2 * 9 : 3 + 2 * 9);
      for (const [name, error] of perTensor) expect({ name, error: error < 1e-5 }).toEqual({ name, error: true });
    });
  }

  it(`matches finite differences across several causal blocks of attention (seqLen > ${causalBlockRows})`, () => {
    const seqLen = causalBlockRows + 5;
    const { perTensor } = checkGradients(tinyConfig(false, seqLen), 1, seqLen);
    for (const [name, error] of perTensor) expect({ name, error: error < 1e-5 }).toEqual({ name, error: true });
  });
});
