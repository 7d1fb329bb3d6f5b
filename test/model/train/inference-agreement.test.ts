/**
 * The trainer's forward pass against the inference engine's, written independently
 * (src/model/transformer.ts): the weights the trainer exports must give, token by token,
 * the loss the trainer computed. This is what pins down the conventions the gradient
 * check cannot see: RoPE's adjacent pairs and frequencies, the grouped-query mapping,
 * RMSNorm's epsilon, SwiGLU's order, and the tied output projection.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import type { ModelConfig } from '../../../src/model/config.js';
import { exportTensors } from '../../../src/model/train/export.js';
import { allocateFlat, layoutOf } from '../../../src/model/train/parameters.js';
import { TrainingWorkspace } from '../../../src/model/train/training-pass.js';
import { InferenceSession, Transformer, type WeightTensor } from '../../../src/model/transformer.js';

function crossEntropyOfLogits(logits: Float32Array, target: number): number {
  let max = -Infinity;
  for (const value of logits) max = Math.max(max, value);
  let sum = 0;
  for (const value of logits) sum += Math.exp(value - max);
  return Math.log(sum) + max - logits[target];
}

describe('the trainer and the inference engine', () => {
  for (const tiedEmbeddings of [false, true]) {
    it(`compute the same loss from the same weights (${tiedEmbeddings ? 'tied' : 'untied'})`, () => {
      const config: ModelConfig = {
        architecture: 'llama', vocabSize: 29, dim: 24, hiddenDim: 40, layerCount: 2, headCount: 4, kvHeadCount: 2,
        contextLength: 40, ropeFreqBase: 500, normEpsilon: 1e-5, tiedEmbeddings,
      };
      const layout = layoutOf(config);
      const rng = new Rng(11);
      const parameters = new Float32Array(layout.parameterCount);
      for (const tensor of layout.tensors) {
        for (let i = 0; i < tensor.size; i++) parameters[tensor.offset + i] = (tensor.isMatrix ? 0 : 1) + 0.3 * rng.nextGaussian();
      }
      const seqLen = 40; // more than one causal block of the trainer's attention
      const tokens = Array.from({ length: seqLen + 1 }, () => rng.nextInt(config.vocabSize));

      const workspace = new TrainingWorkspace(layout, allocateFlat(layout, 'float64').fill(0).map((_, i) => parameters[i]), allocateFlat(layout, 'float64'), 1, seqLen);
      workspace.inputs.set(tokens.slice(0, seqLen));
      workspace.targets.set(tokens.slice(1));
      const trainerNats = workspace.forward(1, seqLen, 1, false);

      const tensors = new Map<string, WeightTensor>(exportTensors(layout, parameters, 'F32').map((tensor) => [tensor.name, tensor]));
      const session = new InferenceSession(Transformer.fromTensors(config, tensors, 'trained in the test'));
      let inferenceNats = 0;
      for (let position = 0; position < seqLen; position++) inferenceNats += crossEntropyOfLogits(session.forward(tokens[position], position), tokens[position + 1]);

      expect(trainerNats).toBeGreaterThan(seqLen * 0.5);
      expect(Math.abs(trainerNats - inferenceNats) / trainerNats).toBeLessThan(1e-5);
    });
  }
});
