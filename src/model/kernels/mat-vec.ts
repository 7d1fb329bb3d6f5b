/**
 * Matrix-vector products and row lookups over every kernel type, dequantizing on the
 * fly. These are the inner loops of inference (nearly all of its time) on the TypeScript
 * kernels, and the reference the WebAssembly kernels are held to.
 *
 * F32 and F16 weights multiply float32 activations: four interleaved partial sums over
 * the row, added as (s0 + s1) + (s2 + s3). Quantized weights multiply activations
 * quantized to 8 bits, in integers (integer-mat-vec.ts says in which order), exactly as
 * the WebAssembly kernels do. Either way a result depends only on the inputs.
 */
import { assert } from '../../core/assert.js';
import { ggmlBlockLayout } from '../gguf/types.js';
import { dequantizeQ4_0Block, dequantizeQ4_KBlock, dequantizeQ5_0Block, dequantizeQ6_KBlock } from '../quant/index.js';
import { type QuantizedActivations, quantizeActivations, quantizedActivations } from './activations.js';
import { halfToFloatTable } from './f16.js';
import { matVecQ4_0Integer, matVecQ4_KInteger, matVecQ5_0Integer, matVecQ6_KInteger, matVecQ8_0Integer } from './integer-mat-vec.js';
import { type ByteBlockType, type KernelMatrix, q8BlockBytes, q8BlockSize } from './matrix.js';

/** Decodes one block of a type at bytes[at] into out[outStart, ...), as llama.cpp's dequantize_row_* does. */
const blockDecoders: Record<ByteBlockType, (bytes: Uint8Array, at: number, out: Float32Array, outStart: number) => void> = {
  Q4_0: dequantizeQ4_0Block,
  Q5_0: dequantizeQ5_0Block,
  Q4_K: dequantizeQ4_KBlock,
  Q6_K: dequantizeQ6_KBlock,
};

/** Quantized activations by kind, grown when a wider matrix comes along, so that the steady state allocates nothing. */
const scratch = { Q8_0: quantizedActivations('Q8_0', 0), Q8_K: quantizedActivations('Q8_K', 0) };

function quantizedScratch(kind: 'Q8_0' | 'Q8_K', x: Float32Array, cols: number): QuantizedActivations {
  if (scratch[kind].quants.length < cols) scratch[kind] = quantizedActivations(kind, cols);
  quantizeActivations(scratch[kind], x, cols);
  return scratch[kind];
}

/**
 * out[r] = sum_c weight[r, c] * x[c], for every row r. Quantized weights multiply x
 * quantized to 8 bits first, as llama.cpp does (activations.ts, integer-mat-vec.ts).
 */
export function matVec(out: Float32Array, weight: KernelMatrix, x: Float32Array): void {
  assert(out.length >= weight.rows && x.length >= weight.cols, `matVec: out has ${out.length} of ${weight.rows} rows, x has ${x.length} of ${weight.cols} columns`);
  const { rows, cols } = weight;
  switch (weight.type) {
    case 'F32':
      return matVecF32(out, weight.values, rows, cols, x);
    case 'F16':
      return matVecF16(out, weight.halves, rows, cols, x);
    case 'Q8_0':
      return matVecQ8_0Integer(out, weight.halves, weight.quants, rows, cols, quantizedScratch('Q8_0', x, cols));
    case 'Q4_0':
      return matVecQ4_0Integer(out, weight.bytes, rows, cols, quantizedScratch('Q8_0', x, cols));
    case 'Q5_0':
      return matVecQ5_0Integer(out, weight.bytes, rows, cols, quantizedScratch('Q8_0', x, cols));
    case 'Q4_K':
      return matVecQ4_KInteger(out, weight.bytes, rows, cols, quantizedScratch('Q8_K', x, cols));
    case 'Q6_K':
      return matVecQ6_KInteger(out, weight.bytes, rows, cols, quantizedScratch('Q8_K', x, cols));
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
