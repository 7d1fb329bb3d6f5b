/**
 * Q6_K: super-blocks of 256 values in 16 sub-blocks of 16. Each super-block is 210 bytes:
 *
 *   bytes 0-127   ql      low 4 bits of the quants
 *   bytes 128-191 qh      high 2 bits of the quants
 *   bytes 192-207 scales  16 int8 sub-block scales
 *   bytes 208-209 f16 d   the scale of the sub-block scales
 *
 * value = d * scales[e / 16] * (q - 32) for element e, q in 0..63: 6.5625 bits a weight.
 *
 * Where element e's bits live (dequantize_row_q6_K in ggml): with half = e / 128 and
 * r = e % 128, group = r / 32 and l = r % 32, the low 4 bits are a nibble of
 * ql[64 half + 32 (group % 2) + l] (the low nibble for groups 0 and 1, the high one for 2
 * and 3), and the high 2 bits are bits 2 group and 2 group + 1 of qh[32 half + l].
 *
 * Quantization follows llama.cpp's quantize_row_q6_K_ref: each sub-block's scale comes
 * from the best-scale search in level-search.ts (19 candidates, weights x^2); the scale of
 * largest magnitude sets d = -maxScale / 128, so that it is stored as -128; the others are
 * rounded to int8 (at most 127); and the values are quantized again against the scales as
 * stored.
 */
import { ggmlBlockLayout } from '../gguf/types.js';
import { checkBlockBytes, checkWholeBlocks, scaleBits } from './block-checks.js';
import { f16ToF32Table } from './f16.js';
import { fitSymmetricLevels, groupMagnitudeEpsilon, nearestInt } from './level-search.js';

export const q6KBlockSize = ggmlBlockLayout.Q6_K.blockSize;
export const q6KBlockBytes = ggmlBlockLayout.Q6_K.blockBytes;
const subBlockSize = 16;
const subBlockCount = q6KBlockSize / subBlockSize;
/** Offsets within a super-block. */
export const q6KHighBitsOffset = 128;
export const q6KScalesOffset = 192;
export const q6KScaleOffset = 208;
/** Quants are stored offset by 32: stored 0..63 means -32..31. */
const quantOffset = 32;

/** Quantizes values (a whole number of 256-value super-blocks, all finite) to Q6_K bytes. */
export function quantizeQ6_K(values: Float32Array): Uint8Array {
  const blockCount = checkWholeBlocks('Q6_K', q6KBlockSize, values.length);
  const bytes = new Uint8Array(blockCount * q6KBlockBytes);
  const signedBytes = new Int8Array(bytes.buffer);
  const levels = new Uint8Array(q6KBlockSize); // (256) stored quants 0..63 of one super-block
  const fittedScales = new Float64Array(subBlockCount);
  for (let block = 0; block < blockCount; block++) {
    const first = block * q6KBlockSize;
    const at = block * q6KBlockBytes;
    // 1. Fit each sub-block on its own; find the scale of largest magnitude.
    let extremeScale = 0;
    let magnitudeMax = 0;
    for (let j = 0; j < subBlockCount; j++) {
      const scale = fitSymmetricLevels(values, first + j * subBlockSize, subBlockSize, quantOffset, levels, j * subBlockSize);
      fittedScales[j] = scale;
      if (Math.abs(scale) > magnitudeMax) {
        magnitudeMax = Math.abs(scale);
        extremeScale = scale;
      }
    }
    // An all-zero super-block is all zero bytes: d = 0.
    if (magnitudeMax < groupMagnitudeEpsilon) continue;
    // 2. Round the sub-block scales to int8 against d.
    const inverseScale = -128 / extremeScale;
    const dBits = scaleBits('Q6_K', 1 / inverseScale, block, q6KBlockSize, 'super-block scale d');
    bytes[at + q6KScaleOffset] = dBits & 0xff;
    bytes[at + q6KScaleOffset + 1] = dBits >>> 8;
    for (let j = 0; j < subBlockCount; j++) signedBytes[at + q6KScalesOffset + j] = nearestInt(Math.min(127, inverseScale * fittedScales[j]));
    // 3. Quantize again against the scales as a reader will decode them.
    const d = f16ToF32Table[dBits];
    for (let j = 0; j < subBlockCount; j++) {
      const subScale = d * signedBytes[at + q6KScalesOffset + j];
      if (subScale === 0) continue;
      for (let l = 0; l < subBlockSize; l++) {
        const index = j * subBlockSize + l;
        levels[index] = nearestInt(Math.max(-quantOffset, Math.min(quantOffset - 1, values[first + index] / subScale))) + quantOffset;
      }
    }
    packQuants(bytes, at, levels);
  }
  return bytes;
}

/** Writes 256 stored quants (0..63) into the ql and qh bytes of the super-block at bytes[at]. */
function packQuants(bytes: Uint8Array, at: number, levels: Uint8Array): void {
  for (let half = 0; half < 2; half++) {
    const lowBase = at + 64 * half;
    const highBase = at + q6KHighBitsOffset + 32 * half;
    const levelBase = 128 * half;
    for (let l = 0; l < 32; l++) {
      const q0 = levels[levelBase + l];
      const q1 = levels[levelBase + 32 + l];
      const q2 = levels[levelBase + 64 + l];
      const q3 = levels[levelBase + 96 + l];
      bytes[lowBase + l] = (q0 & 0x0f) | ((q2 & 0x0f) << 4);
      bytes[lowBase + 32 + l] = (q1 & 0x0f) | ((q3 & 0x0f) << 4);
      bytes[highBase + l] = (q0 >>> 4) | ((q1 >>> 4) << 2) | ((q2 >>> 4) << 4) | ((q3 >>> 4) << 6);
    }
  }
}

/**
 * Decodes the Q6_K super-block at bytes[at] into out[outStart, outStart + 256), exactly as
 * dequantize_row_q6_K does: d * scale is exact in float32, and d * scale * q exact in a
 * double, so the one rounding to float32 on the store is the one llama.cpp makes.
 */
export function dequantizeQ6_KBlock(bytes: Uint8Array, at: number, out: Float32Array, outStart: number): void {
  const d = f16ToF32Table[bytes[at + q6KScaleOffset] | (bytes[at + q6KScaleOffset + 1] << 8)];
  for (let half = 0; half < 2; half++) {
    const lowBase = at + 64 * half;
    const highBase = at + q6KHighBitsOffset + 32 * half;
    const outBase = outStart + 128 * half;
    for (let l = 0; l < 32; l++) {
      const scaleIndex = at + q6KScalesOffset + 8 * half + (l >>> 4);
      const low0 = bytes[lowBase + l];
      const low1 = bytes[lowBase + 32 + l];
      const high = bytes[highBase + l];
      out[outBase + l] = d * signedByte(bytes[scaleIndex]) * (((low0 & 0x0f) | ((high & 3) << 4)) - quantOffset);
      out[outBase + 32 + l] = d * signedByte(bytes[scaleIndex + 2]) * (((low1 & 0x0f) | (((high >>> 2) & 3) << 4)) - quantOffset);
      out[outBase + 64 + l] = d * signedByte(bytes[scaleIndex + 4]) * (((low0 >>> 4) | (((high >>> 4) & 3) << 4)) - quantOffset);
      out[outBase + 96 + l] = d * signedByte(bytes[scaleIndex + 6]) * (((low1 >>> 4) | (((high >>> 6) & 3) << 4)) - quantOffset);
    }
  }
}

/** The byte as int8. */
function signedByte(byte: number): number {
  return (byte << 24) >> 24;
}

/** Decodes `count` values (a whole number of super-blocks) from Q6_K bytes of exactly the matching length. */
export function dequantizeQ6_K(bytes: Uint8Array, count: number): Float32Array {
  const blockCount = checkBlockBytes('Q6_K', q6KBlockSize, q6KBlockBytes, bytes.length, count);
  const values = new Float32Array(count);
  for (let block = 0; block < blockCount; block++) dequantizeQ6_KBlock(bytes, block * q6KBlockBytes, values, block * q6KBlockSize);
  return values;
}
