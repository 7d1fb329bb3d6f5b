/**
 * Matrix-vector products over Q4_0, Q5_0, Q4_K and Q6_K weights, read straight from their
 * GGUF bytes and dequantized on the fly, block by block: each block's integer quants are
 * multiplied with x first and its scales applied once to the sums, so that no block is
 * ever decoded to memory. The layouts are described in src/model/quant (q4-0.ts, q5-0.ts,
 * q4-k.ts, q6-k.ts).
 *
 * Determinism: sums accumulate in a fixed order (within a block, then block by block
 * along the row), so a result depends only on the inputs.
 */
import { ggmlBlockLayout } from '../gguf/types.js';
import { halfToFloatTable } from './f16.js';

const q4_0BlockBytes = ggmlBlockLayout.Q4_0.blockBytes;
const q5_0BlockBytes = ggmlBlockLayout.Q5_0.blockBytes;
const q4KBlockBytes = ggmlBlockLayout.Q4_K.blockBytes;
const q6KBlockBytes = ggmlBlockLayout.Q6_K.blockBytes;

/** The little-endian half at bytes[at], as a number. */
function halfAt(bytes: Uint8Array, at: number): number {
  return halfToFloatTable[bytes[at] | (bytes[at + 1] << 8)];
}

/** out[r] = sum_c weight[r, c] * x[c] for Q4_0: per block of 32, d * sum (q - 8) x. */
export function matVecQ4_0(out: Float32Array, bytes: Uint8Array, rows: number, cols: number, x: Float32Array): void {
  const blocksPerRow = cols / 32;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let b = 0; b < blocksPerRow; b++) {
      const at = (r * blocksPerRow + b) * q4_0BlockBytes;
      const xBase = b * 32;
      let low = 0;
      let high = 0;
      for (let j = 0; j < 16; j++) {
        const byte = bytes[at + 2 + j];
        low += ((byte & 0x0f) - 8) * x[xBase + j];
        high += ((byte >>> 4) - 8) * x[xBase + 16 + j];
      }
      sum += halfAt(bytes, at) * (low + high);
    }
    out[r] = sum;
  }
}

/** out[r] = sum_c weight[r, c] * x[c] for Q5_0: per block of 32, d * sum (q - 16) x, the fifth bits from qh. */
export function matVecQ5_0(out: Float32Array, bytes: Uint8Array, rows: number, cols: number, x: Float32Array): void {
  const blocksPerRow = cols / 32;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let b = 0; b < blocksPerRow; b++) {
      const at = (r * blocksPerRow + b) * q5_0BlockBytes;
      const fifthBits = (bytes[at + 2] | (bytes[at + 3] << 8) | (bytes[at + 4] << 16) | (bytes[at + 5] << 24)) >>> 0;
      const xBase = b * 32;
      let low = 0;
      let high = 0;
      for (let j = 0; j < 16; j++) {
        const byte = bytes[at + 6 + j];
        low += (((byte & 0x0f) | (((fifthBits >>> j) & 1) << 4)) - 16) * x[xBase + j];
        high += (((byte >>> 4) | (((fifthBits >>> (j + 16)) & 1) << 4)) - 16) * x[xBase + 16 + j];
      }
      sum += halfAt(bytes, at) * (low + high);
    }
    out[r] = sum;
  }
}

/**
 * Sums of x over each sub-block of 32, shared by every row of a Q4_K product. Grown when a
 * wider matrix comes along, so that the steady state allocates nothing.
 */
let subBlockSums = new Float64Array(0);

/**
 * out[r] = sum_c weight[r, c] * x[c] for Q4_K. Per sub-block j of 32:
 * sum (d scale_j q - dmin min_j) x = d scale_j sum q x - dmin min_j sum x, where sum x is
 * the same for every row and so computed once. The 6-bit scales and mins are unpacked
 * here rather than through q4KSubScale, which keeps the loop about twice as fast.
 */
export function matVecQ4_K(out: Float32Array, bytes: Uint8Array, rows: number, cols: number, x: Float32Array): void {
  const subBlockCount = cols / 32;
  if (subBlockSums.length < subBlockCount) subBlockSums = new Float64Array(subBlockCount);
  const sums = subBlockSums;
  for (let s = 0; s < subBlockCount; s++) {
    let sum = 0;
    for (let l = 0; l < 32; l++) sum += x[32 * s + l];
    sums[s] = sum;
  }
  const blocksPerRow = cols / 256;
  let at = 0; // the super-block being read: rows are consecutive, so this just advances
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let b = 0; b < blocksPerRow; b++, at += q4KBlockBytes) {
      let scaled = 0; // sum over sub-blocks of scale_j * sum q x
      let shifted = 0; // sum over sub-blocks of min_j * sum x
      for (let pair = 0; pair < 4; pair++) {
        // Sub-block 2 pair sits in the low nibbles of these 32 bytes, sub-block 2 pair + 1 in the high ones.
        let quant = at + 16 + 32 * pair;
        const end = quant + 32;
        let column = 256 * b + 64 * pair;
        let low = 0;
        let high = 0;
        for (; quant < end; quant += 2, column += 2) {
          const byte0 = bytes[quant];
          const byte1 = bytes[quant + 1];
          low += (byte0 & 0x0f) * x[column] + (byte1 & 0x0f) * x[column + 1];
          high += (byte0 >> 4) * x[column + 32] + (byte1 >> 4) * x[column + 33];
        }
        // The packed 6-bit scales and mins of sub-blocks j = 2 pair and j + 1 (q4-k.ts describes the packing).
        const packed = at + 4;
        const j = 2 * pair;
        let lowScale: number;
        let lowMin: number;
        let highScale: number;
        let highMin: number;
        if (pair < 2) {
          lowScale = bytes[packed + j] & 63;
          lowMin = bytes[packed + j + 4] & 63;
          highScale = bytes[packed + j + 1] & 63;
          highMin = bytes[packed + j + 5] & 63;
        } else {
          lowScale = (bytes[packed + j + 4] & 0x0f) | ((bytes[packed + j - 4] >> 6) << 4);
          lowMin = (bytes[packed + j + 4] >> 4) | ((bytes[packed + j] >> 6) << 4);
          highScale = (bytes[packed + j + 5] & 0x0f) | ((bytes[packed + j - 3] >> 6) << 4);
          highMin = (bytes[packed + j + 5] >> 4) | ((bytes[packed + j + 1] >> 6) << 4);
        }
        scaled += lowScale * low + highScale * high;
        shifted += lowMin * sums[8 * b + j] + highMin * sums[8 * b + j + 1];
      }
      sum += halfAt(bytes, at) * scaled - halfAt(bytes, at + 2) * shifted;
    }
    out[r] = sum;
  }
}

/** The byte as int8. */
function signedByte(byte: number): number {
  return (byte << 24) >> 24;
}

/**
 * out[r] = sum_c weight[r, c] * x[c] for Q6_K: per super-block, d * sum over sub-blocks of
 * 16 of scale * sum (q - 32) x. Each pass over l = 0..15 of one half reads the four groups
 * (elements l, l + 32, l + 64, l + 96 of the half) that share its ql and qh bytes.
 */
export function matVecQ6_K(out: Float32Array, bytes: Uint8Array, rows: number, cols: number, x: Float32Array): void {
  const blocksPerRow = cols / 256;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let b = 0; b < blocksPerRow; b++) {
      const at = (r * blocksPerRow + b) * q6KBlockBytes;
      let blockSum = 0;
      for (let half = 0; half < 2; half++) {
        const lowBase = at + 64 * half;
        const highBase = at + 128 + 32 * half;
        const xBase = b * 256 + 128 * half;
        for (let lStart = 0; lStart < 32; lStart += 16) {
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          for (let l = lStart; l < lStart + 16; l++) {
            const low0 = bytes[lowBase + l];
            const low1 = bytes[lowBase + 32 + l];
            const high = bytes[highBase + l];
            s0 += (((low0 & 0x0f) | ((high & 3) << 4)) - 32) * x[xBase + l];
            s1 += (((low1 & 0x0f) | (((high >>> 2) & 3) << 4)) - 32) * x[xBase + 32 + l];
            s2 += (((low0 >>> 4) | (((high >>> 4) & 3) << 4)) - 32) * x[xBase + 64 + l];
            s3 += (((low1 >>> 4) | (((high >>> 6) & 3) << 4)) - 32) * x[xBase + 96 + l];
          }
          const scaleAt = at + 192 + 8 * half + (lStart >>> 4);
          blockSum += signedByte(bytes[scaleAt]) * s0 + signedByte(bytes[scaleAt + 2]) * s1 + signedByte(bytes[scaleAt + 4]) * s2 + signedByte(bytes[scaleAt + 6]) * s3;
        }
      }
      sum += halfAt(bytes, at + 208) * blockSum;
    }
    out[r] = sum;
  }
}
