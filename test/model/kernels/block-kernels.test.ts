/**
 * The kernels over Q4_0, Q5_0, Q4_K and Q6_K bytes against the formats' dequantizers
 * (src/model/quant, themselves checked against hand-built blocks): a row lookup must give
 * the dequantized row bit for bit, and a matrix-vector product must equal
 * dequantize-then-multiply, by the activations quantized as llama.cpp does (Q8_0 blocks
 * for Q4_0 and Q5_0, Q8_K for the K-quants; activations.test.ts checks the quantizer),
 * to float32 rounding; and stay within the quantization's error of the float32 product.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { activationBlockSize, activationKinds, matrixProblem, matVec, prepareMatrix, quantizeActivations, quantizedActivations, rowToFloat32 } from '../../../src/model/kernels/index.js';
import { dequantizeTensor, quantizeTensor } from '../../../src/model/quant/index.js';

const types = [
  { type: 'Q4_0', blockSize: 32, blockBytes: 18 },
  { type: 'Q5_0', blockSize: 32, blockBytes: 22 },
  { type: 'Q4_K', blockSize: 256, blockBytes: 144 },
  { type: 'Q6_K', blockSize: 256, blockBytes: 210 },
] as const;

const rng = new Rng(21);

/** Random weights with a random offset, so that Q4_K's mins are exercised too. */
function randomMatrix(rows: number, cols: number): Float32Array {
  const offset = rng.nextGaussian() * 0.5;
  return Float32Array.from({ length: rows * cols }, () => offset + rng.nextGaussian());
}

/** The same bytes at an odd offset inside a bigger buffer, as a slice of a file might be. */
function misaligned(bytes: Uint8Array): Uint8Array {
  const buffer = new Uint8Array(bytes.length + 1);
  buffer.set(bytes, 1);
  return buffer.subarray(1);
}

/** x as the product sees it: quantized to the weight type's activation blocks, then d * q. */
function activationSeenBy(type: (typeof types)[number]['type'], x: Float32Array): Float64Array {
  const kind = activationKinds[type] as 'Q8_0' | 'Q8_K';
  const quantized = quantizedActivations(kind, x.length);
  quantizeActivations(quantized, x, x.length);
  return Float64Array.from(quantized.quants, (q, i) => q * quantized.scales[Math.floor(i / activationBlockSize[kind])]);
}

describe('kernels over the block types', () => {
  for (const { type, blockSize } of types) {
    it(`${type}: matVec equals dequantize-then-multiply by the quantized activations within 1e-5 relative`, () => {
      for (let trial = 0; trial < 6; trial++) {
        const rows = 1 + rng.nextInt(7);
        const cols = blockSize * (1 + rng.nextInt(blockSize === 32 ? 12 : 3));
        const bytes = quantizeTensor(type, randomMatrix(rows, cols));
        const weights = dequantizeTensor(type, bytes, rows * cols);
        const x = Float32Array.from({ length: cols }, () => rng.nextGaussian());
        const seen = activationSeenBy(type, x);
        for (const data of [bytes, misaligned(bytes)]) {
          const out = new Float32Array(rows);
          matVec(out, prepareMatrix(type, rows, cols, data), x);
          for (let r = 0; r < rows; r++) {
            let expected = 0;
            let magnitude = 0; // sum |w x|: the scale of the rounding errors of any summation order
            let unquantized = 0;
            let stepBound = 0; // sum |w| * (x's quantization step): what 8-bit activations may cost at most
            for (let c = 0; c < cols; c++) {
              const w = weights[r * cols + c];
              expected += w * seen[c];
              magnitude += Math.abs(w * seen[c]);
              unquantized += w * x[c];
              stepBound += Math.abs(w) * Math.abs(seen[c] - x[c]);
            }
            expect(Math.abs(out[r] - expected), `${type} row ${r} of (${rows}, ${cols})`).toBeLessThanOrEqual(1e-5 * magnitude);
            expect(Math.abs(out[r] - unquantized), `${type} row ${r} against float32 activations`).toBeLessThanOrEqual(stepBound + 1e-5 * magnitude);
          }
        }
      }
    });

    it(`${type}: rowToFloat32 gives the dequantized row bit for bit`, () => {
      const rows = 3;
      const cols = blockSize * 2;
      const bytes = quantizeTensor(type, randomMatrix(rows, cols));
      const expected = dequantizeTensor(type, bytes, rows * cols);
      const matrix = prepareMatrix(type, rows, cols, misaligned(bytes));
      const out = new Float32Array(cols);
      for (let row = 0; row < rows; row++) {
        rowToFloat32(matrix, row, out);
        expect(Array.from(out)).toEqual(Array.from(expected.subarray(row * cols, (row + 1) * cols)));
      }
    });
  }

  it('gives bit-identical results on repeated calls', () => {
    for (const { type } of types) {
      const bytes = quantizeTensor(type, randomMatrix(4, 512));
      const matrix = prepareMatrix(type, 4, 512, bytes);
      const x = Float32Array.from({ length: 512 }, () => rng.nextGaussian());
      const first = new Float32Array(4);
      const second = new Float32Array(4);
      matVec(first, matrix, x);
      matVec(second, matrix, x);
      expect(Array.from(second)).toEqual(Array.from(first));
    }
  });

  it('refuses rows that are not whole blocks, and byte counts that do not match (a truncated tensor)', () => {
    expect(matrixProblem('Q4_K', 2, 128, new Uint8Array(144))).toBe('a Q4_K row must be a whole number of 256-element blocks, but rows have 128 elements');
    expect(matrixProblem('Q5_0', 2, 48, new Uint8Array(0))).toMatch(/whole number of 32-element blocks/);
    expect(matrixProblem('Q6_K', 2, 256, new Uint8Array(419))).toBe('expected 420 bytes for Q6_K (2, 256), got 419');
    expect(() => prepareMatrix('Q4_0', 3, 64, new Uint8Array(107))).toThrow(/expected 108 bytes for Q4_0 \(3, 64\), got 107/);
    for (const { type, blockSize, blockBytes } of types) expect(matrixProblem(type, 2, blockSize, new Uint8Array(2 * blockBytes)), type).toBeUndefined();
  });
});
