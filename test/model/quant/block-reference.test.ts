/**
 * nines' block formats against the C reference in testdata/block-reference.c, which
 * states ggml's layouts as C structs and computes in native float32, as llama.cpp does.
 *
 * Decoding must agree bit for bit: a reader of our files computes exactly our numbers.
 * Q4_0 and Q5_0 quantize in float32 arithmetic step by step, so their bytes must agree
 * too. Q4_K and Q6_K run their scale searches in doubles, so a near-tie between two
 * candidates can go the other way; most blocks must still come out byte for byte the same,
 * and the error must be the same.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dequantizeTensor, quantizeTensor, type BlockTensorType } from '../../../src/model/quant/index.js';

const reference = JSON.parse(readFileSync(new URL('./testdata/block-reference.json', import.meta.url), 'utf8')) as {
  input: number[];
  q4_0: number[];
  q4_0ValueSum: number;
  q5_0: number[];
  q5_0ValueSum: number;
  q4_K: number[];
  q4_KValues: number[];
  q6_K: number[];
  q6_KValues: number[];
};

const input = new Float32Array(new Uint32Array(reference.input).buffer);
const floatsOf = (bits: number[]) => new Float32Array(new Uint32Array(bits).buffer);

function squaredError(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i] - input[i]) ** 2;
  return sum;
}

describe('block formats against the C reference', () => {
  it('Q4_0 and Q5_0: the same bytes, and the same values', () => {
    for (const [type, bytes, valueSum] of [
      ['Q4_0', reference.q4_0, reference.q4_0ValueSum],
      ['Q5_0', reference.q5_0, reference.q5_0ValueSum],
    ] as const) {
      expect(Array.from(quantizeTensor(type, input)), type).toEqual(bytes);
      const values = dequantizeTensor(type, Uint8Array.from(bytes), input.length);
      expect(values.reduce((sum, value) => sum + value, 0), type).toBe(valueSum);
    }
  });

  it('Q4_K and Q6_K: decoding the reference’s bytes gives its floats bit for bit', () => {
    for (const [type, bytes, values] of [
      ['Q4_K', reference.q4_K, reference.q4_KValues],
      ['Q6_K', reference.q6_K, reference.q6_KValues],
    ] as const) {
      const decoded = dequantizeTensor(type, Uint8Array.from(bytes), input.length);
      expect(Array.from(new Uint32Array(decoded.buffer)), type).toEqual(values);
    }
  });

  it('Q4_K and Q6_K: nearly every super-block quantizes to the same bytes, and the error is the same', () => {
    const blockBytes: Record<BlockTensorType, number> = { Q4_0: 18, Q5_0: 22, Q8_0: 34, Q4_K: 144, Q6_K: 210 };
    for (const [type, bytes, values] of [
      ['Q4_K', reference.q4_K, reference.q4_KValues],
      ['Q6_K', reference.q6_K, reference.q6_KValues],
    ] as const) {
      const ours = quantizeTensor(type, input);
      const blocks = input.length / 256;
      let same = 0;
      for (let block = 0; block < blocks; block++) {
        const size = blockBytes[type];
        if (ours.subarray(block * size, (block + 1) * size).every((byte, i) => byte === bytes[block * size + i])) same++;
      }
      expect(same / blocks, `${type}: ${same} of ${blocks} super-blocks identical`).toBeGreaterThanOrEqual(0.9);
      const ourError = squaredError(dequantizeTensor(type, ours, input.length));
      const referenceError = squaredError(floatsOf(values));
      expect(Math.abs(ourError - referenceError) / referenceError, type).toBeLessThan(0.01);
    }
  });
});
