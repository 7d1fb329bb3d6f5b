import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { dequantizeQ8_0, f16ToF32, quantizeQ8_0, QuantizeInputError } from '../../../src/model/quant/index.js';

const reference = JSON.parse(readFileSync(new URL('./testdata/reference.json', import.meta.url), 'utf8')) as { q8_0Input: number[]; q8_0Output: number[] };

function scaleOf(bytes: Uint8Array, block: number): number {
  return f16ToF32(bytes[block * 34] | (bytes[block * 34 + 1] << 8));
}

describe('Q8_0', () => {
  it('produces byte for byte what llama.cpp’s quantize_row_q8_0_ref produces (testdata/reference.c)', () => {
    const input = new Float32Array(new Uint32Array(reference.q8_0Input).buffer);
    const bytes = quantizeQ8_0(input);
    expect(Array.from(bytes)).toEqual(reference.q8_0Output);
  });

  it('rounds halves away from zero, as C roundf does', () => {
    const values = new Float32Array(32);
    values.set([127, 2.5, -2.5, 0.5, -0.5, 1.5, -126.5]);
    const bytes = quantizeQ8_0(values);
    expect(scaleOf(bytes, 0)).toBe(1);
    expect(Array.from(new Int8Array(bytes.buffer, 2, 7))).toEqual([127, 3, -3, 1, -1, 2, -127]);
  });

  it('stores an all-zero block as scale 0 and zero quants', () => {
    const bytes = quantizeQ8_0(new Float32Array(64));
    expect(Array.from(bytes)).toEqual(new Array(68).fill(0));
    expect(Array.from(dequantizeQ8_0(bytes, 64))).toEqual(new Array(64).fill(0));
  });

  it('keeps every value within half a step of the original, and maps the largest to +-127', () => {
    const rng = new Rng(8);
    for (let trial = 0; trial < 200; trial++) {
      const magnitude = 10 ** (rng.nextInt(12) - 6);
      const values = Float32Array.from({ length: 96 }, () => rng.nextGaussian() * magnitude);
      const bytes = quantizeQ8_0(values);
      const restored = dequantizeQ8_0(bytes, values.length);
      for (let block = 0; block < 3; block++) {
        const scale = scaleOf(bytes, block);
        const quants = new Int8Array(bytes.buffer, block * 34 + 2, 32);
        expect(Math.max(...Array.from(quants, Math.abs))).toBe(127);
        // Half a step of the exact scale, plus what rounding the scale to f16 costs the largest q
        // (relatively 2^-11 for a normal scale, but more once tiny blocks push the scale into f16 subnormals).
        const blockValues = values.subarray(block * 32, block * 32 + 32);
        const exactScale = Math.fround(Math.max(...Array.from(blockValues, Math.abs)) / 127);
        const bound = 0.5 * exactScale + 127 * Math.abs(scale - exactScale);
        for (let index = block * 32; index < block * 32 + 32; index++) {
          expect(Math.abs(restored[index] - values[index])).toBeLessThanOrEqual(bound * (1 + 2 ** -20));
        }
      }
    }
  });

  it('refuses partial blocks, non-finite values and magnitudes whose scale overflows f16', () => {
    expect(() => quantizeQ8_0(new Float32Array(33))).toThrow(/33 values is not a whole number of 32-value blocks/);
    const withNaN = new Float32Array(32);
    withNaN[7] = NaN;
    expect(() => quantizeQ8_0(withNaN)).toThrow(/value NaN at index 7 is not finite/);
    const huge = new Float32Array(64);
    huge[40] = 1e10;
    expect(() => quantizeQ8_0(huge)).toThrow(/block 1 \(values 32 to 63\).*beyond f16's range/);
    const largestAllowed = new Float32Array(32).fill(65504 * 127);
    expect(scaleOf(quantizeQ8_0(largestAllowed), 0)).toBe(65504);
  });

  it('refuses to dequantize bytes that do not match the count', () => {
    expect(() => dequantizeQ8_0(new Uint8Array(34), 64)).toThrow(QuantizeInputError);
    expect(() => dequantizeQ8_0(new Uint8Array(34), 31)).toThrow(QuantizeInputError);
  });
});
