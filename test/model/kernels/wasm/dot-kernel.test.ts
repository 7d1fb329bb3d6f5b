/**
 * The WebAssembly product kernels against the TypeScript ones (the reference), on random
 * shapes with odd sizes, for every tensor type that has a WebAssembly kernel: within
 * float32 rounding for F32 and F16, bit for bit for the quantized types, whose products
 * are integer sums scaled in one defined float32 order (src/model/kernels/integer-mat-vec.ts),
 * their activations quantized by the WebAssembly quantizer first; and the determinism the
 * forward pass relies on: a row's result is the same bits whichever kernel (one token or
 * a batch) and whichever row range computed it.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../src/core/rng.js';
import { ggmlBlockLayout } from '../../../../src/model/gguf/types.js';
import { activationKinds, matVec, prepareMatrix, rowBytesOf } from '../../../../src/model/kernels/index.js';
import { KernelMemory, type WasmKernelType, activationRowBytes, instantiateKernels, kernelFunctions, kernelIndex, quantizeKernelIndex, wasmFormats, wasmKernelsAvailable } from '../../../../src/model/kernels/wasm/index.js';
import { dequantizeTensor, quantizeTensor } from '../../../../src/model/quant/index.js';

const types = Object.keys(wasmFormats) as WasmKernelType[];
const memory = KernelMemory.create(1 << 20);
const kernels = kernelFunctions(instantiateKernels(memory.memory));

interface Problem {
  type: WasmKernelType;
  rows: number;
  cols: number;
  tokens: number;
  bytes: Uint8Array; // the weights, in kernel memory
  x: Float32Array; // (tokens, cols), in kernel memory
  absolute: Float64Array; // (tokens, rows) sum |w x|, the scale of each result's rounding error
}

function randomProblem(rng: Rng, type: WasmKernelType): Problem {
  const blockSize = ggmlBlockLayout[type].blockSize;
  const rows = 1 + rng.nextInt(13);
  const cols = blockSize === 1 ? 1 + rng.nextInt(90) : blockSize * (1 + rng.nextInt(4));
  const tokens = 1 + rng.nextInt(6);
  const values = Float32Array.from({ length: rows * cols }, () => rng.nextGaussian());
  const bytes = memory.copyIn(quantizeTensor(type, values));
  const x = memory.floats(tokens * cols);
  for (let i = 0; i < x.length; i++) x[i] = rng.nextGaussian();
  const weights = dequantizeTensor(type, bytes, rows * cols);
  const absolute = new Float64Array(tokens * rows);
  for (let t = 0; t < tokens; t++) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) absolute[t * rows + r] += Math.abs(weights[r * cols + c] * x[t * cols + c]);
  return { type, rows, cols, tokens, bytes, x, absolute };
}

/** out (tokens, rows) by the WebAssembly kernel, for rows [begin, end); the quantized types' x quantized first, by the WebAssembly quantizer. */
function wasmProduct(problem: Problem, batch: boolean, out: Float32Array, begin = 0, end = problem.rows): void {
  const { type, rows, cols, tokens } = problem;
  const kind = activationKinds[type];
  let [x, xStride] = [problem.x.byteOffset, cols * 4];
  if (kind !== 'F32') {
    xStride = activationRowBytes(kind, cols);
    x = memory.allocate(tokens * xStride);
    kernels[quantizeKernelIndex[kind]](x, 0, problem.x.byteOffset, 0, tokens, cols, 0, 0, xStride, cols * 4);
  }
  kernels[kernelIndex(type, batch)](out.byteOffset, problem.bytes.byteOffset, x, begin, end, cols, rowBytesOf(type, cols), tokens, rows * 4, xStride);
}

/** The float32 bit patterns, so that -0 and 0 (and any NaN) count as different. */
function bitsOf(values: Float32Array): number[] {
  return [...new Uint32Array(values.buffer, values.byteOffset, values.length)];
}

describe('WebAssembly product kernels', () => {
  it('are available on this Node', () => {
    expect(wasmKernelsAvailable()).toBe(true);
  });

  for (const type of types) {
    const exact = activationKinds[type] !== 'F32';
    it(`${type}: match the TypeScript kernel ${exact ? 'bit for bit' : 'within 1e-5 of the sum of |w x|'}, one token or a batch`, () => {
      const rng = new Rng(40 + types.indexOf(type));
      for (let trial = 0; trial < 25; trial++) {
        const problem = randomProblem(rng, type);
        const { rows, cols, tokens } = problem;
        const matrix = prepareMatrix(type, rows, cols, problem.bytes);
        const expected = new Float32Array(tokens * rows);
        for (let t = 0; t < tokens; t++) matVec(expected.subarray(t * rows, (t + 1) * rows), matrix, problem.x.subarray(t * cols, (t + 1) * cols));
        for (const batch of [false, true]) {
          const out = memory.floats(tokens * rows);
          wasmProduct(problem, batch, out);
          if (exact) {
            expect(bitsOf(out), `${type} (${rows}, ${cols}) x ${tokens} tokens, batch ${batch}`).toEqual(bitsOf(expected));
            continue;
          }
          for (let i = 0; i < out.length; i++) {
            expect(Math.abs(out[i] - expected[i]), `${type} (${rows}, ${cols}) x ${tokens} tokens, batch ${batch}, element ${i}`).toBeLessThanOrEqual(1e-5 * problem.absolute[i] + 1e-30);
          }
        }
      }
    });

    it(`${type}: give the same bits for a row whichever kernel and row range compute it`, () => {
      const rng = new Rng(60 + types.indexOf(type));
      for (let trial = 0; trial < 15; trial++) {
        const problem = randomProblem(rng, type);
        const whole = memory.floats(problem.tokens * problem.rows);
        wasmProduct(problem, false, whole);
        const batched = memory.floats(problem.tokens * problem.rows);
        wasmProduct(problem, true, batched);
        const split = memory.floats(problem.tokens * problem.rows);
        const middle = rng.nextInt(problem.rows + 1);
        wasmProduct(problem, false, split, 0, middle);
        wasmProduct(problem, true, split, middle, problem.rows);
        expect(bitsOf(split)).toEqual(bitsOf(whole));
        expect(bitsOf(batched)).toEqual(bitsOf(whole));
      }
    });
  }
});
