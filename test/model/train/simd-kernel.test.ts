/**
 * The WebAssembly SIMD kernel against the plain TypeScript product (the optimised
 * function checked against the dumb one over many random cases), and a whole training
 * pass on the kernel in float32 against the same pass in float64 on the plain product.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import type { ModelConfig } from '../../../src/model/config.js';
import { planKernelMemory, Shard } from '../../../src/model/train/engine.js';
import { byRows, multiplyPlain, transposed, type MatrixOperand } from '../../../src/model/train/multiply.js';
import { allocateFlat, layoutOf } from '../../../src/model/train/parameters.js';
import { createKernelMemory, Float32Arena, SimdMultiplier, simdAvailable } from '../../../src/model/train/simd-kernel.js';
import { TrainingWorkspace } from '../../../src/model/train/training-pass.js';

describe('SIMD matrix kernel', () => {
  it('is available on this Node', () => {
    expect(simdAvailable()).toBe(true);
  });

  it('matches the plain product for any shape, strides, transposed operands and accumulation', () => {
    const memory = createKernelMemory(1 << 20);
    fc.assert(
      fc.property(
        fc.record({
          rows: fc.integer({ min: 1, max: 13 }),
          cols: fc.integer({ min: 1, max: 37 }),
          inner: fc.integer({ min: 1, max: 19 }),
          aTransposed: fc.boolean(),
          bTransposed: fc.boolean(),
          padding: fc.integer({ min: 0, max: 5 }),
          accumulate: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        ({ rows, cols, inner, aTransposed, bTransposed, padding, accumulate, seed }) => {
          const rng = new Rng(seed);
          const arena = new Float32Arena(memory.buffer, 0, 1 << 20);
          const multiplier = new SimdMultiplier(memory, arena, inner);
          // Each matrix is stored with `padding` spare elements per stored row, and at offset `padding`.
          const make = (storedRows: number, storedCols: number, isTransposed: boolean): [MatrixOperand, MatrixOperand] => {
            const stride = storedCols + padding;
            const kernelArray = arena.allocate(padding + storedRows * stride);
            for (let i = 0; i < kernelArray.length; i++) kernelArray[i] = rng.nextGaussian();
            const plainArray = Float64Array.from(kernelArray);
            const view = isTransposed ? transposed : byRows;
            return [view(kernelArray, padding, stride), view(plainArray, padding, stride)];
          };
          const [aKernel, aPlain] = aTransposed ? make(inner, rows, true) : make(rows, inner, false);
          const [bKernel, bPlain] = bTransposed ? make(cols, inner, true) : make(inner, cols, false);
          const [cKernel, cPlain] = make(rows, cols, false);
          multiplier.multiply(cKernel, aKernel, bKernel, rows, cols, inner, accumulate);
          multiplyPlain(cPlain, aPlain, bPlain, rows, cols, inner, accumulate);
          for (let i = 0; i < cKernel.array.length; i++) {
            expect(Math.abs(cKernel.array[i] - cPlain.array[i])).toBeLessThan(1e-5 * (1 + Math.abs(cPlain.array[i])));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('a training pass on the kernel', () => {
  it('gives the float64 loss and gradients to float32 precision', () => {
    const config: ModelConfig = {
      architecture: 'llama', vocabSize: 40, dim: 32, hiddenDim: 48, layerCount: 2, headCount: 4, kvHeadCount: 2,
      contextLength: 16, ropeFreqBase: 10000, normEpsilon: 1e-5, tiedEmbeddings: false,
    };
    const layout = layoutOf(config);
    const batch = 3;
    const seqLen = 16;
    const plan = planKernelMemory(layout, [batch], seqLen);
    const memory = createKernelMemory(plan.totalFloats);
    const shard = Shard.inKernelMemory(layout, memory, plan.shards[0], seqLen);
    const parameters = new Float32Array(memory.buffer, 0, layout.parameterCount);
    const rng = new Rng(3);
    for (const tensor of layout.tensors) {
      for (let i = 0; i < tensor.size; i++) parameters[tensor.offset + i] = (tensor.isMatrix ? 0 : 1) + 0.2 * rng.nextGaussian();
    }
    const inputs = Int32Array.from({ length: batch * seqLen }, () => rng.nextInt(config.vocabSize));
    const targets = Int32Array.from({ length: batch * seqLen }, () => rng.nextInt(config.vocabSize));
    const nats = shard.compute(inputs, targets, batch, seqLen, 1 / (batch * seqLen));

    const reference = allocateFlat(layout, 'float64');
    reference.set(parameters);
    const referenceGradients = allocateFlat(layout, 'float64');
    const workspace = new TrainingWorkspace(layout, reference, referenceGradients, batch, seqLen);
    workspace.inputs.set(inputs);
    workspace.targets.set(targets);
    const referenceNats = workspace.forward(batch, seqLen, 1 / (batch * seqLen), true);
    workspace.backward();

    expect(Math.abs(nats - referenceNats) / referenceNats).toBeLessThan(1e-5);
    for (const tensor of layout.tensors) {
      let worst = 0;
      let largest = 0;
      for (let i = tensor.offset; i < tensor.offset + tensor.size; i++) {
        worst = Math.max(worst, Math.abs(shard.gradients[i] - referenceGradients[i]));
        largest = Math.max(largest, Math.abs(referenceGradients[i]));
      }
      expect({ name: tensor.name, relativeError: worst / largest < 1e-4 }).toEqual({ name: tensor.name, relativeError: true });
    }
  });
});
