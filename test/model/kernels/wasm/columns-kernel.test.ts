/**
 * The columns kernel (attention's values pass) against a plain loop, and its determinism:
 * any split of the outputs gives the same bits. Also the kernel memory's release and reuse.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../src/core/rng.js';
import { KernelMemory, columnsKernelIndex, instantiateKernels, kernelFunctions } from '../../../../src/model/kernels/wasm/index.js';

const memory = KernelMemory.create(1 << 20);
const kernels = kernelFunctions(instantiateKernels(memory.memory));

function bitsOf(values: Float32Array): number[] {
  return [...new Uint32Array(values.buffer, values.byteOffset, values.length)];
}

describe('columns kernel', () => {
  it('computes out[i] = sum_t x[t] W[t][i] over a strided slice of rows, for any split of the outputs', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 30; trial++) {
      const outputs = 1 + rng.nextInt(70);
      const rows = 1 + rng.nextInt(40);
      const stride = outputs + rng.nextInt(9); // W's rows may be wider than the slice read
      const weights = memory.floats(rows * stride);
      for (let i = 0; i < weights.length; i++) weights[i] = rng.nextGaussian();
      const x = memory.floats(rows);
      for (let t = 0; t < rows; t++) x[t] = rng.nextGaussian();
      const run = (out: Float32Array, begin: number, end: number) => kernels[columnsKernelIndex](out.byteOffset, weights.byteOffset, x.byteOffset, begin, end, rows, stride * 4, 1, 0, 0);
      const whole = memory.floats(outputs);
      run(whole, 0, outputs);
      for (let i = 0; i < outputs; i++) {
        let expected = 0;
        let scale = 0;
        for (let t = 0; t < rows; t++) {
          expected += x[t] * weights[t * stride + i];
          scale += Math.abs(x[t] * weights[t * stride + i]);
        }
        expect(Math.abs(whole[i] - expected)).toBeLessThanOrEqual(1e-6 * scale);
      }
      const split = memory.floats(outputs);
      const middle = rng.nextInt(outputs + 1);
      run(split, 0, middle);
      run(split, middle, outputs);
      expect(bitsOf(split)).toEqual(bitsOf(whole));
    }
  });
});

describe('kernel memory', () => {
  it('reuses released ranges, merges neighbours, and hands them back zeroed', () => {
    const own = KernelMemory.create();
    own.floats(100); // permanent
    const top = own.usedBytes;
    const a = own.floats(1000, true);
    const b = own.floats(1000, true);
    const c = own.floats(1000, true);
    a.fill(7);
    own.release(a.byteOffset);
    const reused = own.floats(500, true);
    expect(reused.byteOffset).toBe(a.byteOffset);
    expect([...reused].every((value) => value === 0)).toBe(true);
    own.release(reused.byteOffset);
    own.release(b.byteOffset);
    // a's and b's ranges merged: 2000 floats fit where they were (leaving a 64-byte sliver before c).
    const merged = own.floats(2000, true);
    expect(merged.byteOffset).toBe(a.byteOffset);
    own.release(c.byteOffset);
    // c's range, merged with the sliver, was at the top: it went back to the bump pointer.
    expect(own.usedBytes).toBe(merged.byteOffset + 8000);
    expect(own.usedBytes).toBeGreaterThan(top);
    expect(() => own.release(12345)).toThrow(/no releasable allocation/);
  });
});
