import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { halfBitsToNumber, halfToFloatTable, matVec, prepareMatrix, quantizeActivations, quantizedActivations, rowToFloat32, matrixProblem } from '../../../src/model/kernels/index.js';
import { type TestTensorType, decodeTensor, encodeTensor, halfBits, halfValue, randomValues } from '../helpers.js';

const types: TestTensorType[] = ['F32', 'F16', 'Q8_0'];

/** x as a product with `type` weights sees it: Q8_0 weights multiply x quantized to Q8_0 blocks (activations.test.ts checks the quantizer). */
function activationSeenBy(type: TestTensorType, x: Float32Array): Float64Array {
  if (type !== 'Q8_0') return Float64Array.from(x);
  const quantized = quantizedActivations('Q8_0', x.length);
  quantizeActivations(quantized, x, x.length);
  return Float64Array.from(quantized.quants, (q, i) => q * quantized.scales[i >> 5]);
}

/** Dequantize the whole matrix, then multiply in float64. */
function referenceMatVec(type: TestTensorType, bytes: Uint8Array, rows: number, cols: number, input: Float32Array): Float64Array {
  const weights = decodeTensor(type, bytes, rows * cols);
  const x = activationSeenBy(type, input);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r] += weights[r * cols + c] * x[c];
  return out;
}

/** The same bytes at an odd offset inside a bigger buffer, as a slice of a file might be. */
function misaligned(bytes: Uint8Array): Uint8Array {
  const buffer = new Uint8Array(bytes.length + 1);
  buffer.set(bytes, 1);
  return buffer.subarray(1);
}

describe('half precision table', () => {
  it('matches an independent decoder for all 65536 bit patterns', () => {
    const mismatches: number[] = [];
    for (let bits = 0; bits < 65536; bits++) {
      const expected = halfValue(bits);
      const same = Number.isNaN(expected) ? Number.isNaN(halfToFloatTable[bits]) : Object.is(halfToFloatTable[bits], Math.fround(expected));
      if (!same) mismatches.push(bits);
    }
    expect(mismatches).toEqual([]);
  });

  it('knows the landmark values', () => {
    expect(halfBitsToNumber(0x3c00)).toBe(1);
    expect(halfBitsToNumber(0xc000)).toBe(-2);
    expect(halfBitsToNumber(0x7bff)).toBe(65504);
    expect(halfBitsToNumber(0x0001)).toBe(2 ** -24);
    expect(halfBitsToNumber(0x7c00)).toBe(Infinity);
    expect(halfBitsToNumber(0x8000)).toBe(-0);
    expect(halfBitsToNumber(0x3555)).toBeCloseTo(1 / 3, 3);
    expect(halfBits(1 / 3)).toBe(0x3555);
  });
});

describe('matVec', () => {
  const rng = new Rng(7);
  for (const type of types) {
    it(`${type}: equals dequantize-then-multiply (Q8_0: by the quantized activations) on random shapes, aligned or not`, () => {
      for (let trial = 0; trial < 12; trial++) {
        const rows = 1 + rng.nextInt(9);
        const cols = type === 'Q8_0' ? 32 * (1 + rng.nextInt(4)) : 1 + rng.nextInt(40);
        const bytes = encodeTensor(type, randomValues(rng, rows * cols, 1));
        const x = Float32Array.from(randomValues(rng, cols, 1));
        const expected = referenceMatVec(type, bytes, rows, cols, x);
        for (const data of [bytes, misaligned(bytes)]) {
          const out = new Float32Array(rows);
          matVec(out, prepareMatrix(type, rows, cols, data), x);
          for (let r = 0; r < rows; r++) expect(Math.abs(out[r] - expected[r])).toBeLessThan(1e-5 * (1 + Math.abs(expected[r])) * Math.sqrt(cols));
        }
      }
    });

    it(`${type}: rowToFloat32 gives the dequantized row`, () => {
      const rows = 5;
      const cols = 64;
      const bytes = encodeTensor(type, randomValues(rng, rows * cols, 2));
      const expected = decodeTensor(type, bytes, rows * cols);
      const matrix = prepareMatrix(type, rows, cols, misaligned(bytes));
      const out = new Float32Array(cols);
      for (let row = 0; row < rows; row++) {
        rowToFloat32(matrix, row, out);
        for (let c = 0; c < cols; c++) expect(out[c]).toBe(Math.fround(expected[row * cols + c]));
      }
    });
  }

  it('gives bit-identical results on repeated calls', () => {
    const bytes = encodeTensor('F32', randomValues(rng, 7 * 33, 1));
    const x = Float32Array.from(randomValues(rng, 33, 1));
    const matrix = prepareMatrix('F32', 7, 33, bytes);
    const first = new Float32Array(7);
    const second = new Float32Array(7);
    matVec(first, matrix, x);
    matVec(second, matrix, x);
    expect(Array.from(second)).toEqual(Array.from(first));
  });
});

describe('matrix checks', () => {
  it('explains unsupported types, ragged Q8_0 rows and wrong byte counts', () => {
    expect(matrixProblem('Q5_K', 1, 256, new Uint8Array(176))).toMatch(/Q5_K is not supported \(supported: F32, F16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K\)/);
    expect(matrixProblem('Q8_0', 2, 48, new Uint8Array(0))).toMatch(/whole number of 32-element blocks/);
    expect(matrixProblem('F16', 2, 3, new Uint8Array(10))).toMatch(/expected 12 bytes for F16 \(2, 3\), got 10/);
    expect(matrixProblem('F32', 2, 3, new Uint8Array(24))).toBeUndefined();
    expect(() => prepareMatrix('F32', 2, 3, new Uint8Array(20))).toThrow(/expected 24 bytes/);
  });
});
