/**
 * The WebAssembly activation quantizers against the TypeScript ones
 * (src/model/kernels/activations.ts, checked against ggml's rules in activations.test.ts):
 * the same quants, scales and sums, bit for bit, on random rows and on the edge cases.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quantizeActivations, quantizedActivations } from '../../../../src/model/kernels/index.js';
import { KernelMemory, activationBlockBytes, activationRowBytes, activationScaleOffset, activationSumsOffset, instantiateKernels, kernelFunctions, quantizeKernelIndex } from '../../../../src/model/kernels/wasm/index.js';

const memory = KernelMemory.create(1 << 20);
const kernels = kernelFunctions(instantiateKernels(memory.memory));

/** Quantizes the rows of x (tokens, cols) in WebAssembly and reads the records back. */
function wasmQuantize(kind: 'Q8_0' | 'Q8_K', x: Float32Array, tokens: number, cols: number): Array<{ quants: number[]; scales: number[]; sums: number[] }> {
  const input = memory.floats(tokens * cols);
  input.set(x);
  const rowBytes = activationRowBytes(kind, cols);
  const out = memory.allocate(tokens * rowBytes);
  kernels[quantizeKernelIndex[kind]](out, 0, input.byteOffset, 0, tokens, cols, 0, 0, rowBytes, cols * 4);
  const blockSize = kind === 'Q8_0' ? 32 : 256;
  return Array.from({ length: tokens }, (_, t) => {
    const row = { quants: [] as number[], scales: [] as number[], sums: [] as number[] };
    for (let b = 0; b < cols / blockSize; b++) {
      const record = out + t * rowBytes + b * activationBlockBytes[kind];
      row.quants.push(...new Int16Array(memory.buffer, record, blockSize));
      row.scales.push(new Float32Array(memory.buffer, record + activationScaleOffset[kind], 1)[0]);
      if (kind === 'Q8_K') row.sums.push(...new Int32Array(memory.buffer, record + activationSumsOffset, 8));
    }
    return row;
  });
}

function typescriptQuantize(kind: 'Q8_0' | 'Q8_K', x: Float32Array, tokens: number, cols: number): Array<{ quants: number[]; scales: number[]; sums: number[] }> {
  return Array.from({ length: tokens }, (_, t) => {
    const out = quantizedActivations(kind, cols);
    quantizeActivations(out, x.subarray(t * cols, (t + 1) * cols), cols);
    return { quants: Array.from(out.quants), scales: Array.from(out.scales), sums: Array.from(out.sums) };
  });
}

const values = fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.float({ noNaN: true, min: Math.fround(-1e-3), max: Math.fround(1e-3) }), fc.constantFrom(0, 0.5, -0.5, 63.5, -1e-8, 3e-6));

describe('WebAssembly activation quantizers', () => {
  for (const kind of ['Q8_0', 'Q8_K'] as const) {
    const blockSize = kind === 'Q8_0' ? 32 : 256;
    it(`${kind}: the same quants, scales and sums as the TypeScript quantizer`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.array(values, { minLength: 3 * 3 * blockSize, maxLength: 3 * 3 * blockSize }), fc.integer({ min: -1, max: 5 }), (tokens, blocks, pool, zeroBlock) => {
          const cols = blocks * blockSize;
          const x = Float32Array.from(pool.slice(0, tokens * cols));
          if (zeroBlock >= 0 && zeroBlock * blockSize < x.length) x.fill(0, zeroBlock * blockSize, (zeroBlock + 1) * blockSize); // a block of zeros
          expect(wasmQuantize(kind, x, tokens, cols)).toEqual(typescriptQuantize(kind, x, tokens, cols));
        }),
        { numRuns: kind === 'Q8_0' ? 200 : 60 },
      );
    });
  }

  it('Q8_0: scales that round to subnormal halves, to the largest half and to infinity', () => {
    const x = new Float32Array(32 * 6);
    [1e-7, 3e-6, 7.7e-4, 65504 * 127, 65519 * 127, 65520 * 127].forEach((value, b) => x.fill(value / 3, 32 * b, 32 * b + 31).fill(value, 32 * b + 31, 32 * b + 32));
    const [row] = wasmQuantize('Q8_0', x, 1, x.length);
    expect(row).toEqual(typescriptQuantize('Q8_0', x, 1, x.length)[0]);
    expect(row.scales.at(-1)).toBe(Infinity);
    expect(row.scales.at(-2)).toBe(65504);
  });
});
