/**
 * Q4_0: blocks of 32 values, each an f16 scale d followed by 16 bytes of 4-bit quants q
 * (0..15), with value = d * (q - 8). Byte j holds element j in its low nibble and element
 * j + 16 in its high nibble. 18 bytes per 32 values, 4.5 bits a weight.
 *
 * Quantization follows llama.cpp's quantize_row_q4_0_ref step for step in float32
 * arithmetic (Math.fround after each operation), so the bytes are the ones llama.cpp
 * writes for the same floats: the value of largest magnitude, max (with its sign), sets
 * d = max / -8, so that it lands exactly on q = 0, the end of the range with one more
 * step; q = min(15, trunc(x / d + 8.5)).
 */
import { ggmlBlockLayout } from '../gguf/types.js';
import { checkBlockBytes, checkWholeBlocks, scaleBits } from './block-checks.js';
import { f16ToF32Table } from './f16.js';

export const q4_0BlockSize = ggmlBlockLayout.Q4_0.blockSize;
export const q4_0BlockBytes = ggmlBlockLayout.Q4_0.blockBytes;
const halfBlock = q4_0BlockSize / 2;

/** Quantizes values (a whole number of 32-value blocks, all finite) to Q4_0 bytes. */
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  const blockCount = checkWholeBlocks('Q4_0', q4_0BlockSize, values.length);
  const bytes = new Uint8Array(blockCount * q4_0BlockBytes);
  for (let block = 0; block < blockCount; block++) {
    const first = block * q4_0BlockSize;
    let magnitudeMax = 0;
    let extreme = 0;
    for (let index = first; index < first + q4_0BlockSize; index++) {
      if (Math.abs(values[index]) > magnitudeMax) {
        magnitudeMax = Math.abs(values[index]);
        extreme = values[index];
      }
    }
    const scale = Math.fround(extreme / -8);
    const inverseScale = scale !== 0 ? Math.fround(1 / scale) : 0;
    const bits = scaleBits('Q4_0', scale, block, q4_0BlockSize);
    const at = block * q4_0BlockBytes;
    bytes[at] = bits & 0xff;
    bytes[at + 1] = bits >>> 8;
    const level = (value: number) => Math.min(15, Math.trunc(Math.fround(Math.fround(value * inverseScale) + 8.5)));
    for (let j = 0; j < halfBlock; j++) {
      bytes[at + 2 + j] = level(values[first + j]) | (level(values[first + halfBlock + j]) << 4);
    }
  }
  return bytes;
}

/** Decodes the Q4_0 block at bytes[at] into out[outStart, outStart + 32), exactly as dequantize_row_q4_0 does. */
export function dequantizeQ4_0Block(bytes: Uint8Array, at: number, out: Float32Array, outStart: number): void {
  const scale = f16ToF32Table[bytes[at] | (bytes[at + 1] << 8)];
  for (let j = 0; j < halfBlock; j++) {
    const byte = bytes[at + 2 + j];
    out[outStart + j] = ((byte & 0x0f) - 8) * scale;
    out[outStart + halfBlock + j] = ((byte >>> 4) - 8) * scale;
  }
}

/** Decodes `count` values (a whole number of blocks) from Q4_0 bytes of exactly the matching length. */
export function dequantizeQ4_0(bytes: Uint8Array, count: number): Float32Array {
  const blockCount = checkBlockBytes('Q4_0', q4_0BlockSize, q4_0BlockBytes, bytes.length, count);
  const values = new Float32Array(count);
  for (let block = 0; block < blockCount; block++) dequantizeQ4_0Block(bytes, block * q4_0BlockBytes, values, block * q4_0BlockSize);
  return values;
}
