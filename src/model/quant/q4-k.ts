/**
 * Q4_K: super-blocks of 256 values in 8 sub-blocks of 32. Each super-block is 144 bytes:
 *
 *   bytes 0-1    f16 d      the scale of the sub-block scales
 *   bytes 2-3    f16 dmin   the scale of the sub-block mins
 *   bytes 4-15   12 bytes   eight 6-bit scales and eight 6-bit mins, packed (below)
 *   bytes 16-143 128 bytes  4-bit quants: each 32 bytes hold two sub-blocks, the first in
 *                           the low nibbles, the second in the high nibbles
 *
 * value = d * scale_j * q - dmin * min_j for an element of sub-block j, q in 0..15. That is
 * 4.5 bits a weight.
 *
 * Packing of the scales s[0..11] (get_scale_min_k4 in ggml): for j < 4, scale_j is the low
 * 6 bits of s[j] and min_j the low 6 bits of s[j + 4]; for j >= 4, scale_j is the low
 * nibble of s[j + 4] with the top 2 bits of s[j - 4] above it, and min_j the high nibble
 * of s[j + 4] with the top 2 bits of s[j] above it.
 *
 * Quantization follows llama.cpp's quantize_row_q4_K_ref (what llama-quantize runs without
 * an importance matrix): each sub-block gets its own scale and min from the weighted
 * search in level-search.ts (weights: the sub-block's RMS plus |x|); the largest scale and
 * the largest min set d = maxScale / 63 and dmin = maxMin / 63; the sub-block scales and
 * mins are rounded to 6 bits; and the values are quantized again against the scales as
 * stored, so the quants fit the numbers a reader will actually use.
 */
import { ggmlBlockLayout } from '../gguf/types.js';
import { checkBlockBytes, checkWholeBlocks, scaleBits } from './block-checks.js';
import { f16ToF32Table } from './f16.js';
import { AffineFitter, nearestInt, q4KAffineSearch } from './level-search.js';

export const q4KBlockSize = ggmlBlockLayout.Q4_K.blockSize;
export const q4KBlockBytes = ggmlBlockLayout.Q4_K.blockBytes;
const subBlockSize = 32;
const subBlockCount = q4KBlockSize / subBlockSize;
/** Offsets within a super-block. */
const scalesOffset = 4;
const quantsOffset = 16;
/** The largest 6-bit sub-block scale or min, and the largest 4-bit quant. */
const sixBitMax = 63;
const quantMax = 15;

/** Sub-block j's 6-bit scale, from the 12 packed bytes starting at bytes[at]. */
export function q4KSubScale(bytes: Uint8Array, at: number, j: number): number {
  return j < 4 ? bytes[at + j] & 63 : (bytes[at + j + 4] & 0x0f) | ((bytes[at + j - 4] >>> 6) << 4);
}

/** Sub-block j's 6-bit min, from the 12 packed bytes starting at bytes[at]. */
export function q4KSubMin(bytes: Uint8Array, at: number, j: number): number {
  return j < 4 ? bytes[at + j + 4] & 63 : (bytes[at + j + 4] >>> 4) | ((bytes[at + j] >>> 6) << 4);
}

/** Packs eight 6-bit scales and mins into the 12 bytes starting at bytes[at] (which must be zero). */
function packScalesAndMins(bytes: Uint8Array, at: number, scales: Uint8Array, mins: Uint8Array): void {
  for (let j = 0; j < subBlockCount; j++) {
    if (j < 4) {
      bytes[at + j] = scales[j];
      bytes[at + j + 4] = mins[j];
    } else {
      bytes[at + j + 4] = (scales[j] & 0x0f) | ((mins[j] & 0x0f) << 4);
      bytes[at + j - 4] |= (scales[j] >>> 4) << 6;
      bytes[at + j] |= (mins[j] >>> 4) << 6;
    }
  }
}

/** Quantizes values (a whole number of 256-value super-blocks, all finite) to Q4_K bytes. */
export function quantizeQ4_K(values: Float32Array): Uint8Array {
  const blockCount = checkWholeBlocks('Q4_K', q4KBlockSize, values.length);
  const bytes = new Uint8Array(blockCount * q4KBlockBytes);
  const levels = new Uint8Array(q4KBlockSize); // (256) the quants of one super-block
  const fitter = new AffineFitter(subBlockSize, quantMax, q4KAffineSearch);
  const fittedScales = new Float64Array(subBlockCount);
  const fittedMins = new Float64Array(subBlockCount);
  const storedScales = new Uint8Array(subBlockCount);
  const storedMins = new Uint8Array(subBlockCount);
  for (let block = 0; block < blockCount; block++) {
    const first = block * q4KBlockSize;
    const at = block * q4KBlockBytes;
    // 1. Fit each sub-block on its own.
    fitSubBlocks(values, first, fitter, levels, fittedScales, fittedMins);
    let scaleMax = 0;
    let minMax = 0;
    for (let j = 0; j < subBlockCount; j++) {
      scaleMax = Math.max(scaleMax, fittedScales[j]);
      minMax = Math.max(minMax, fittedMins[j]);
    }
    // 2. Round the sub-block scales and mins to 6 bits against the super-block's d and dmin.
    const inverseScale = scaleMax > 0 ? sixBitMax / scaleMax : 0;
    const inverseMin = minMax > 0 ? sixBitMax / minMax : 0;
    for (let j = 0; j < subBlockCount; j++) {
      storedScales[j] = nearestInt(Math.max(0, Math.min(sixBitMax, inverseScale * fittedScales[j])));
      storedMins[j] = nearestInt(Math.max(0, Math.min(sixBitMax, inverseMin * fittedMins[j])));
    }
    const dBits = scaleBits('Q4_K', scaleMax / sixBitMax, block, q4KBlockSize, 'super-block scale d');
    const dminBits = scaleBits('Q4_K', minMax / sixBitMax, block, q4KBlockSize, 'super-block min scale dmin');
    bytes[at] = dBits & 0xff;
    bytes[at + 1] = dBits >>> 8;
    bytes[at + 2] = dminBits & 0xff;
    bytes[at + 3] = dminBits >>> 8;
    packScalesAndMins(bytes, at + scalesOffset, storedScales, storedMins);
    // 3. Quantize again against the scales and mins as a reader will decode them.
    const d = f16ToF32Table[dBits];
    const dmin = f16ToF32Table[dminBits];
    for (let j = 0; j < subBlockCount; j++) {
      const subScale = d * storedScales[j];
      if (subScale === 0) continue;
      const subMin = dmin * storedMins[j];
      for (let l = 0; l < subBlockSize; l++) {
        const index = j * subBlockSize + l;
        levels[index] = nearestInt(Math.max(0, Math.min(quantMax, (values[first + index] + subMin) / subScale)));
      }
    }
    // 4. Pack the quants: each 32 bytes hold sub-block 2k in the low nibbles and 2k + 1 in the high ones.
    for (let pair = 0; pair < subBlockCount / 2; pair++) {
      const levelBase = pair * 2 * subBlockSize;
      const byteBase = at + quantsOffset + pair * subBlockSize;
      for (let l = 0; l < subBlockSize; l++) bytes[byteBase + l] = levels[levelBase + l] | (levels[levelBase + subBlockSize + l] << 4);
    }
  }
  return bytes;
}

/**
 * The affine fit of each sub-block of the super-block at values[first], weighting each
 * value by the sub-block's root mean square plus its own magnitude (so that large values
 * count more, but small ones still count): levels into `levels`, scales and mins into
 * the two arrays.
 */
function fitSubBlocks(values: Float32Array, first: number, fitter: AffineFitter, levels: Uint8Array, fittedScales: Float64Array, fittedMins: Float64Array): void {
  for (let j = 0; j < subBlockCount; j++) {
    const start = first + j * subBlockSize;
    let sumOfSquares = 0;
    for (let l = 0; l < subBlockSize; l++) {
      fitter.values[l] = values[start + l];
      sumOfSquares += values[start + l] * values[start + l];
    }
    const rootMeanSquare = Math.sqrt(sumOfSquares / subBlockSize);
    for (let l = 0; l < subBlockSize; l++) fitter.weights[l] = rootMeanSquare + Math.abs(values[start + l]);
    fitter.fit(levels, j * subBlockSize);
    fittedScales[j] = fitter.scale;
    fittedMins[j] = fitter.min;
  }
}

/**
 * Decodes the Q4_K super-block at bytes[at] into out[outStart, outStart + 256), exactly as
 * dequantize_row_q4_K does: d * scale and dmin * min are exact in float32, and so (f16
 * exponents being small) is d * scale * q - dmin * min in a double, so the one rounding
 * to float32 on the store gives llama.cpp's float bit for bit.
 */
export function dequantizeQ4_KBlock(bytes: Uint8Array, at: number, out: Float32Array, outStart: number): void {
  const d = f16ToF32Table[bytes[at] | (bytes[at + 1] << 8)];
  const dmin = f16ToF32Table[bytes[at + 2] | (bytes[at + 3] << 8)];
  for (let pair = 0; pair < subBlockCount / 2; pair++) {
    const lowScale = d * q4KSubScale(bytes, at + scalesOffset, 2 * pair);
    const lowMin = dmin * q4KSubMin(bytes, at + scalesOffset, 2 * pair);
    const highScale = d * q4KSubScale(bytes, at + scalesOffset, 2 * pair + 1);
    const highMin = dmin * q4KSubMin(bytes, at + scalesOffset, 2 * pair + 1);
    const byteBase = at + quantsOffset + pair * subBlockSize;
    const outBase = outStart + pair * 2 * subBlockSize;
    for (let l = 0; l < subBlockSize; l++) {
      const byte = bytes[byteBase + l];
      out[outBase + l] = lowScale * (byte & 0x0f) - lowMin;
      out[outBase + subBlockSize + l] = highScale * (byte >>> 4) - highMin;
    }
  }
}

/** Decodes `count` values (a whole number of super-blocks) from Q4_K bytes of exactly the matching length. */
export function dequantizeQ4_K(bytes: Uint8Array, count: number): Float32Array {
  const blockCount = checkBlockBytes('Q4_K', q4KBlockSize, q4KBlockBytes, bytes.length, count);
  const values = new Float32Array(count);
  for (let block = 0; block < blockCount; block++) dequantizeQ4_KBlock(bytes, block * q4KBlockBytes, values, block * q4KBlockSize);
  return values;
}
