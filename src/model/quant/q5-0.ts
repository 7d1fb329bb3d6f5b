/**
 * Q5_0: blocks of 32 values, each an f16 scale d, then 4 bytes qh (a little-endian 32-bit
 * word whose bit j is the fifth bit of element j), then 16 bytes of low nibbles laid out as
 * in Q4_0 (byte j: element j low, element j + 16 high). q = low nibble | fifth bit << 4,
 * 0..31, and value = d * (q - 16). 22 bytes per 32 values, 5.5 bits a weight.
 *
 * Quantization follows llama.cpp's quantize_row_q5_0_ref step for step in float32
 * arithmetic: d = max / -16 for the value of largest magnitude (with its sign), and
 * q = min(31, trunc(x / d + 16.5)). It is the fallback of Q4_K for rows whose length is
 * not a multiple of 256 (llama.cpp's tensor_type_fallback).
 */
import { ggmlBlockLayout } from '../gguf/types.js';
import { checkBlockBytes, checkWholeBlocks, scaleBits } from './block-checks.js';
import { f16ToF32Table } from './f16.js';

export const q5_0BlockSize = ggmlBlockLayout.Q5_0.blockSize;
export const q5_0BlockBytes = ggmlBlockLayout.Q5_0.blockBytes;
const halfBlock = q5_0BlockSize / 2;
/** Offset of the low nibbles within a block: after the 2-byte scale and the 4 bytes of fifth bits. */
const nibblesOffset = 6;

/** Quantizes values (a whole number of 32-value blocks, all finite) to Q5_0 bytes. */
export function quantizeQ5_0(values: Float32Array): Uint8Array {
  const blockCount = checkWholeBlocks('Q5_0', q5_0BlockSize, values.length);
  const bytes = new Uint8Array(blockCount * q5_0BlockBytes);
  for (let block = 0; block < blockCount; block++) {
    const first = block * q5_0BlockSize;
    let magnitudeMax = 0;
    let extreme = 0;
    for (let index = first; index < first + q5_0BlockSize; index++) {
      if (Math.abs(values[index]) > magnitudeMax) {
        magnitudeMax = Math.abs(values[index]);
        extreme = values[index];
      }
    }
    const scale = Math.fround(extreme / -16);
    const inverseScale = scale !== 0 ? Math.fround(1 / scale) : 0;
    const bits = scaleBits('Q5_0', scale, block, q5_0BlockSize);
    const at = block * q5_0BlockBytes;
    bytes[at] = bits & 0xff;
    bytes[at + 1] = bits >>> 8;
    const level = (value: number) => Math.min(31, Math.trunc(Math.fround(Math.fround(value * inverseScale) + 16.5)));
    let fifthBits = 0;
    for (let j = 0; j < halfBlock; j++) {
      const low = level(values[first + j]);
      const high = level(values[first + halfBlock + j]);
      bytes[at + nibblesOffset + j] = (low & 0x0f) | ((high & 0x0f) << 4);
      fifthBits |= ((low >>> 4) << j) | ((high >>> 4) << (j + halfBlock));
    }
    for (let k = 0; k < 4; k++) bytes[at + 2 + k] = (fifthBits >>> (8 * k)) & 0xff;
  }
  return bytes;
}

/** Decodes the Q5_0 block at bytes[at] into out[outStart, outStart + 32), exactly as dequantize_row_q5_0 does. */
export function dequantizeQ5_0Block(bytes: Uint8Array, at: number, out: Float32Array, outStart: number): void {
  const scale = f16ToF32Table[bytes[at] | (bytes[at + 1] << 8)];
  const fifthBits = (bytes[at + 2] | (bytes[at + 3] << 8) | (bytes[at + 4] << 16) | (bytes[at + 5] << 24)) >>> 0;
  for (let j = 0; j < halfBlock; j++) {
    const byte = bytes[at + nibblesOffset + j];
    const low = (byte & 0x0f) | (((fifthBits >>> j) & 1) << 4);
    const high = (byte >>> 4) | (((fifthBits >>> (j + halfBlock)) & 1) << 4);
    out[outStart + j] = (low - 16) * scale;
    out[outStart + halfBlock + j] = (high - 16) * scale;
  }
}

/** Decodes `count` values (a whole number of blocks) from Q5_0 bytes of exactly the matching length. */
export function dequantizeQ5_0(bytes: Uint8Array, count: number): Float32Array {
  const blockCount = checkBlockBytes('Q5_0', q5_0BlockSize, q5_0BlockBytes, bytes.length, count);
  const values = new Float32Array(count);
  for (let block = 0; block < blockCount; block++) dequantizeQ5_0Block(bytes, block * q5_0BlockBytes, values, block * q5_0BlockSize);
  return values;
}
