/**
 * Matrix-vector products of quantized weights with quantized activations (activations.ts),
 * in integers, as llama.cpp computes them: each block's (or sub-block's) integer quants
 * are multiplied with the activation's and summed exactly, and only then scaled, once per
 * block, in float32. These are the reference for the WebAssembly kernels
 * (wasm/integer-kernel.ts), which must give the same bits, so the float32 steps are
 * spelled out one by one (Math.fround after each; a float32 sum or product rounded from
 * a double is the float32 operation's result, since a double holds more than twice
 * float32's precision).
 *
 * The order, for one weight row and one activation row:
 *   - within a block, four integer lane sums: element e of the block goes to lane
 *     (e >> 1) & 3 (the lanes of WebAssembly's i32x4.dot_i16x8_s over elements in
 *     order); a K-quant multiplies each sub-block's lane sums by its integer scale and
 *     adds them up, still in integers;
 *   - lane l of a float32 accumulator: acc_l += float32(laneSum_l) * (d_weight * d_x);
 *   - the result: (acc_0 + acc_1) + (acc_2 + acc_3); Q4_K then subtracts its mins'
 *     accumulator: minAcc += float32(sum_j min_j * activationSum_j) * (dmin * d_x).
 * Integer sums are exact, so only this float32 order matters, and it is the same in both.
 */
import { ggmlBlockLayout } from '../gguf/types.js';
import type { QuantizedActivations } from './activations.js';
import { halfToFloatTable } from './f16.js';

const f32 = Math.fround;

/** The little-endian half at bytes[at], as a number. */
function halfAt(bytes: Uint8Array, at: number): number {
  return halfToFloatTable[bytes[at] | (bytes[at + 1] << 8)];
}

/** The four lane accumulators of one row, reused (rows are computed one after another). */
const lanes = new Float64Array(4);

/** lanes[l] += float32(sum_l) * scale, in float32. */
function accumulate(scale: number, sum0: number, sum1: number, sum2: number, sum3: number): void {
  lanes[0] = f32(lanes[0] + f32(f32(sum0) * scale));
  lanes[1] = f32(lanes[1] + f32(f32(sum1) * scale));
  lanes[2] = f32(lanes[2] + f32(f32(sum2) * scale));
  lanes[3] = f32(lanes[3] + f32(f32(sum3) * scale));
}

function laneTotal(): number {
  return f32(f32(lanes[0] + lanes[1]) + f32(lanes[2] + lanes[3]));
}

/** out[r] = weight row r . x for Q8_0 weights (halves and quants: two views of the same bytes, as in matrix.ts). */
export function matVecQ8_0Integer(out: Float32Array, halves: Uint16Array, quants: Int8Array, rows: number, cols: number, x: QuantizedActivations): void {
  const blocksPerRow = cols / 32;
  const { quants: xq, scales } = x;
  for (let r = 0; r < rows; r++) {
    lanes.fill(0);
    for (let b = 0; b < blocksPerRow; b++) {
      const block = r * blocksPerRow + b;
      const w = block * 34 + 2;
      const xb = b * 32;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let e = 0; e < 32; e += 8) {
        s0 += quants[w + e] * xq[xb + e] + quants[w + e + 1] * xq[xb + e + 1];
        s1 += quants[w + e + 2] * xq[xb + e + 2] + quants[w + e + 3] * xq[xb + e + 3];
        s2 += quants[w + e + 4] * xq[xb + e + 4] + quants[w + e + 5] * xq[xb + e + 5];
        s3 += quants[w + e + 6] * xq[xb + e + 6] + quants[w + e + 7] * xq[xb + e + 7];
      }
      accumulate(f32(halfToFloatTable[halves[block * 17]] * scales[b]), s0, s1, s2, s3);
    }
    out[r] = laneTotal();
  }
}

/** A 32-element block's weight quants (Q4_0, Q5_0), its lane sums, and a K-quant super-block's lane totals: scratch, reused. */
const blockValues = new Int32Array(32);
const blockSums = new Float64Array(4);
const blockTotals = new Float64Array(4);

/** blockSums = the lane sums of blockValues times x's quants from xb (element e to lane (e >> 1) & 3). */
function blockLaneSums(xq: Int16Array, xb: number): void {
  blockSums.fill(0);
  for (let e = 0; e < 32; e++) blockSums[(e >> 1) & 3] += blockValues[e] * xq[xb + e];
}

/** out[r] = weight row r . x for Q4_0 weights: per block, d * (nibble - 8). */
export function matVecQ4_0Integer(out: Float32Array, bytes: Uint8Array, rows: number, cols: number, x: QuantizedActivations): void {
  const blocksPerRow = cols / 32;
  const blockBytes = ggmlBlockLayout.Q4_0.blockBytes;
  for (let r = 0; r < rows; r++) {
    lanes.fill(0);
    for (let b = 0; b < blocksPerRow; b++) {
      const at = (r * blocksPerRow + b) * blockBytes;
      for (let j = 0; j < 16; j++) {
        const byte = bytes[at + 2 + j];
        blockValues[j] = (byte & 0x0f) - 8;
        blockValues[j + 16] = (byte >>> 4) - 8;
      }
      blockLaneSums(x.quants, b * 32);
      accumulate(f32(halfAt(bytes, at) * x.scales[b]), blockSums[0], blockSums[1], blockSums[2], blockSums[3]);
    }
    out[r] = laneTotal();
  }
}

/** out[r] = weight row r . x for Q5_0 weights: per block, d * (q - 16), the fifth bits from qh. */
export function matVecQ5_0Integer(out: Float32Array, bytes: Uint8Array, rows: number, cols: number, x: QuantizedActivations): void {
  const blocksPerRow = cols / 32;
  const blockBytes = ggmlBlockLayout.Q5_0.blockBytes;
  for (let r = 0; r < rows; r++) {
    lanes.fill(0);
    for (let b = 0; b < blocksPerRow; b++) {
      const at = (r * blocksPerRow + b) * blockBytes;
      const fifthBits = (bytes[at + 2] | (bytes[at + 3] << 8) | (bytes[at + 4] << 16) | (bytes[at + 5] << 24)) >>> 0;
      for (let j = 0; j < 16; j++) {
        const byte = bytes[at + 6 + j];
        blockValues[j] = ((byte & 0x0f) | (((fifthBits >>> j) & 1) << 4)) - 16;
        blockValues[j + 16] = ((byte >>> 4) | (((fifthBits >>> (j + 16)) & 1) << 4)) - 16;
      }
      blockLaneSums(x.quants, b * 32);
      accumulate(f32(halfAt(bytes, at) * x.scales[b]), blockSums[0], blockSums[1], blockSums[2], blockSums[3]);
    }
    out[r] = laneTotal();
  }
}

/** Sub-block j's 6-bit scale and min of the Q4_K super-block at bytes[at] (ggml's get_scale_min_k4; q4-k.ts describes the packing). */
function q4KScaleAndMin(bytes: Uint8Array, at: number, j: number): [number, number] {
  const packed = at + 4;
  if (j < 4) return [bytes[packed + j] & 63, bytes[packed + j + 4] & 63];
  return [(bytes[packed + j + 4] & 0x0f) | ((bytes[packed + j - 4] >> 6) << 4), (bytes[packed + j + 4] >> 4) | ((bytes[packed + j] >> 6) << 4)];
}

/**
 * out[r] = weight row r . x for Q4_K weights: per super-block, d * sum_j scale_j (q . x_q)
 * - dmin * sum_j min_j (sum of x_q over sub-block j), both times d_x.
 */
export function matVecQ4_KInteger(out: Float32Array, bytes: Uint8Array, rows: number, cols: number, x: QuantizedActivations): void {
  const blocksPerRow = cols / 256;
  const blockBytes = ggmlBlockLayout.Q4_K.blockBytes;
  const { quants: xq, scales, sums } = x;
  for (let r = 0; r < rows; r++) {
    lanes.fill(0);
    let minTotal = 0;
    for (let b = 0; b < blocksPerRow; b++) {
      const at = (r * blocksPerRow + b) * blockBytes;
      blockTotals.fill(0);
      let minSum = 0;
      for (let j = 0; j < 8; j++) {
        const [scale, min] = q4KScaleAndMin(bytes, at, j);
        blockSums.fill(0);
        const quantsAt = at + 16 + 32 * (j >> 1);
        const shift = 4 * (j & 1);
        const xb = 256 * b + 32 * j;
        for (let l = 0; l < 32; l++) blockSums[(l >> 1) & 3] += ((bytes[quantsAt + l] >> shift) & 0x0f) * xq[xb + l];
        for (let lane = 0; lane < 4; lane++) blockTotals[lane] += scale * blockSums[lane];
        minSum += min * sums[8 * b + j];
      }
      const dx = scales[b];
      accumulate(f32(halfAt(bytes, at) * dx), blockTotals[0], blockTotals[1], blockTotals[2], blockTotals[3]);
      minTotal = f32(minTotal + f32(f32(minSum) * f32(halfAt(bytes, at + 2) * dx)));
    }
    out[r] = f32(laneTotal() - minTotal);
  }
}

/** The byte as int8. */
function signedByte(byte: number): number {
  return (byte << 24) >> 24;
}

/**
 * out[r] = weight row r . x for Q6_K weights: per super-block, d * d_x * sum_s scale_s
 * ((q - 32) . x_q) over sub-blocks s of 16. Sub-block s lies in half h = s >> 3, quarter
 * q = (s & 7) >> 1 at positions l = 16 (s & 1) .. + 15 of that quarter (k-formats.ts).
 */
export function matVecQ6_KInteger(out: Float32Array, bytes: Uint8Array, rows: number, cols: number, x: QuantizedActivations): void {
  const blocksPerRow = cols / 256;
  const blockBytes = ggmlBlockLayout.Q6_K.blockBytes;
  const { quants: xq, scales } = x;
  for (let r = 0; r < rows; r++) {
    lanes.fill(0);
    for (let b = 0; b < blocksPerRow; b++) {
      const at = (r * blocksPerRow + b) * blockBytes;
      blockTotals.fill(0);
      for (let s = 0; s < 16; s++) {
        const [half, quarter, second] = [s >> 3, (s & 7) >> 1, s & 1];
        const lowAt = at + 64 * half + 32 * (quarter & 1) + 16 * second;
        const lowShift = quarter < 2 ? 0 : 4;
        const highAt = at + 128 + 32 * half + 16 * second;
        blockSums.fill(0);
        const xb = 256 * b + 16 * s;
        for (let i = 0; i < 16; i++) {
          const value = (((bytes[lowAt + i] >> lowShift) & 0x0f) | (((bytes[highAt + i] >> (2 * quarter)) & 3) << 4)) - 32;
          blockSums[(i >> 1) & 3] += value * xq[xb + i];
        }
        const scale = signedByte(bytes[at + 192 + s]);
        for (let lane = 0; lane < 4; lane++) blockTotals[lane] += scale * blockSums[lane];
      }
      accumulate(f32(halfAt(bytes, at + 208) * scales[b]), blockTotals[0], blockTotals[1], blockTotals[2], blockTotals[3]);
    }
    out[r] = laneTotal();
  }
}
