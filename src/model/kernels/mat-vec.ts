/**
 * Matrix-vector products and row lookups over F32, F16 and Q8_0 weights, dequantizing
 * on the fly (Q4_0, Q5_0, Q4_K and Q6_K in ./block-mat-vec.ts). These are the inner loops of inference (nearly all of its time), kept
 * behind a narrow interface so that a WASM SIMD version can replace them.
 *
 * Determinism: every dot product accumulates in the same fixed order — four interleaved
 * partial sums over the row (Q8_0: per block, then block by block), added as
 * (s0 + s1) + (s2 + s3) — so a result depends only on the inputs, never on timing.
 */
import { assert } from '../../core/assert.js';
import { ggmlBlockLayout } from '../gguf/types.js';
import { dequantizeQ4_0Block, dequantizeQ4_KBlock, dequantizeQ5_0Block, dequantizeQ6_KBlock } from '../quant/index.js';
import { matVecQ4_0, matVecQ4_K, matVecQ5_0, matVecQ6_K } from './block-mat-vec.js';
import { halfToFloatTable } from './f16.js';
import { type ByteBlockType, type KernelMatrix, q8BlockBytes, q8BlockSize } from './matrix.js';

/** Decodes one block of a type at bytes[at] into out[outStart, ...), as llama.cpp's dequantize_row_* does. */
const blockDecoders: Record<ByteBlockType, (bytes: Uint8Array, at: number, out: Float32Array, outStart: number) => void> = {
  Q4_0: dequantizeQ4_0Block,
  Q5_0: dequantizeQ5_0Block,
  Q4_K: dequantizeQ4_KBlock,
  Q6_K: dequantizeQ6_KBlock,
};

/** out[r] = sum_c weight[r, c] * x[c], for every row r. */
export function matVec(out: Float32Array, weight: KernelMatrix, x: Float32Array): void {
  assert(out.length >= weight.rows && x.length >= weight.cols, `matVec: out has ${out.length} of ${weight.rows} rows, x has ${x.length} of ${weight.cols} columns`);
  switch (weight.type) {
    case 'F32':
      return matVecF32(out, weight.values, weight.rows, weight.cols, x);
    case 'F16':
      return matVecF16(out, weight.halves, weight.rows, weight.cols, x);
    case 'Q8_0':
      return matVecQ8(out, weight.halves, weight.quants, weight.rows, weight.cols, x);
    case 'Q4_0':
      return matVecQ4_0(out, weight.bytes, weight.rows, weight.cols, x);
    case 'Q5_0':
      return matVecQ5_0(out, weight.bytes, weight.rows, weight.cols, x);
    case 'Q4_K':
      return matVecQ4_K(out, weight.bytes, weight.rows, weight.cols, x);
    case 'Q6_K':
      return matVecQ6_K(out, weight.bytes, weight.rows, weight.cols, x);
  }
}

/** out[c] = weight[row, c]: one row as float32 (the embedding lookup). */
export function rowToFloat32(weight: KernelMatrix, row: number, out: Float32Array): void {
  assert(Number.isInteger(row) && row >= 0 && row < weight.rows, `rowToFloat32: row ${row} is outside 0..${weight.rows - 1}`);
  assert(out.length >= weight.cols, `rowToFloat32: out has ${out.length} of ${weight.cols} columns`);
  const cols = weight.cols;
  switch (weight.type) {
    case 'F32': {
      const values = weight.values;
      const base = row * cols;
      for (let c = 0; c < cols; c++) out[c] = values[base + c];
      return;
    }
    case 'F16': {
      const halves = weight.halves;
      const base = row * cols;
      for (let c = 0; c < cols; c++) out[c] = halfToFloatTable[halves[base + c]];
      return;
    }
    case 'Q8_0': {
      const blocksPerRow = cols / q8BlockSize;
      for (let b = 0; b < blocksPerRow; b++) {
        const block = row * blocksPerRow + b;
        const scale = halfToFloatTable[weight.halves[block * (q8BlockBytes / 2)]];
        const quantBase = block * q8BlockBytes + 2;
        for (let j = 0; j < q8BlockSize; j++) out[b * q8BlockSize + j] = scale * weight.quants[quantBase + j];
      }
      return;
    }
    default: {
      const { blockSize, blockBytes } = ggmlBlockLayout[weight.type];
      const decode = blockDecoders[weight.type];
      const blocksPerRow = cols / blockSize;
      for (let b = 0; b < blocksPerRow; b++) decode(weight.bytes, (row * blocksPerRow + b) * blockBytes, out, b * blockSize);
      return;
    }
  }
}

function matVecF32(out: Float32Array, values: Float32Array, rows: number, cols: number, x: Float32Array): void {
  const unrolledEnd = cols - (cols % 4);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let c = 0; c < unrolledEnd; c += 4) {
      s0 += values[base + c] * x[c];
      s1 += values[base + c + 1] * x[c + 1];
      s2 += values[base + c + 2] * x[c + 2];
      s3 += values[base + c + 3] * x[c + 3];
    }
    for (let c = unrolledEnd; c < cols; c++) s0 += values[base + c] * x[c];
    out[r] = s0 + s1 + (s2 + s3);
  }
}

function matVecF16(out: Float32Array, halves: Uint16Array, rows: number, cols: number, x: Float32Array): void {
  const table = halfToFloatTable;
  const unrolledEnd = cols - (cols % 4);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let c = 0; c < unrolledEnd; c += 4) {
      s0 += table[halves[base + c]] * x[c];
      s1 += table[halves[base + c + 1]] * x[c + 1];
      s2 += table[halves[base + c + 2]] * x[c + 2];
      s3 += table[halves[base + c + 3]] * x[c + 3];
    }
    for (let c = unrolledEnd; c < cols; c++) s0 += table[halves[base + c]] * x[c];
    out[r] = s0 + s1 + (s2 + s3);
  }
}

function matVecQ8(out: Float32Array, halves: Uint16Array, quants: Int8Array, rows: number, cols: number, x: Float32Array): void {
  const table = halfToFloatTable;
  const blocksPerRow = cols / q8BlockSize;
  const halvesPerBlock = q8BlockBytes / 2;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let b = 0; b < blocksPerRow; b++) {
      const block = r * blocksPerRow + b;
      const quantBase = block * q8BlockBytes + 2;
      const xBase = b * q8BlockSize;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < q8BlockSize; j += 4) {
        s0 += quants[quantBase + j] * x[xBase + j];
        s1 += quants[quantBase + j + 1] * x[xBase + j + 1];
        s2 += quants[quantBase + j + 2] * x[xBase + j + 2];
        s3 += quants[quantBase + j + 3] * x[xBase + j + 3];
      }
      sum += table[halves[block * halvesPerBlock]] * (s0 + s1 + (s2 + s3));
    }
    out[r] = sum;
  }
}
