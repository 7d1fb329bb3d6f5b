/**
 * Q8_0: blocks of 32 values, each stored as an f16 scale d followed by 32 int8 q, with
 * value = d * q. 34 bytes per 32 values, 8.5 bits a weight.
 *
 * Quantization follows llama.cpp's reference, quantize_row_q8_0_ref, step for step in
 * float32 arithmetic (Math.fround after each operation), so the bytes are the ones
 * llama.cpp writes for the same floats:
 *   amax = max |x|;  d = amax / 127;  id = d ? 1 / d : 0;  q = roundf(x * id)
 * roundf rounds halves away from zero (2.5 -> 3), unlike Math.round (-2.5 -> -2). The
 * scale stored is d rounded to f16, while q was computed with the unrounded d, again as
 * the reference does.
 */
import { ggmlBlockLayout } from '../gguf/types.js';
import { QuantizeInputError } from './errors.js';
import { f16IsNonFinite, f16ToF32Table, f32ToF16 } from './f16.js';

export const q8_0BlockSize = ggmlBlockLayout.Q8_0.blockSize;
export const q8_0BlockBytes = ggmlBlockLayout.Q8_0.blockBytes;
/** The largest q: int8 is symmetric here, -127..127, so that the scale maps max |x| to 127. */
const quantMax = 127;

/** C's roundf: to nearest, halves away from zero. Exact for any float32 input (x + 0.5 is exact in a double). */
function roundHalfAwayFromZero(value: number): number {
  return value < 0 ? -Math.floor(-value + 0.5) : Math.floor(value + 0.5);
}

/** Quantizes values (a whole number of 32-value blocks, all finite) to Q8_0 bytes. */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % q8_0BlockSize !== 0) {
    throw new QuantizeInputError(`Q8_0: ${values.length} values is not a whole number of ${q8_0BlockSize}-value blocks`);
  }
  const blockCount = values.length / q8_0BlockSize;
  const bytes = new Uint8Array(blockCount * q8_0BlockBytes);
  const quants = new Int8Array(bytes.buffer);
  for (let block = 0; block < blockCount; block++) {
    const first = block * q8_0BlockSize;
    let amax = 0;
    for (let index = first; index < first + q8_0BlockSize; index++) {
      const magnitude = Math.abs(values[index]);
      if (!Number.isFinite(magnitude)) throw new QuantizeInputError(`Q8_0: value ${values[index]} at index ${index} is not finite`);
      if (magnitude > amax) amax = magnitude;
    }
    const scale = Math.fround(amax / quantMax);
    const inverseScale = scale !== 0 ? Math.fround(1 / scale) : 0;
    const scaleBits = f32ToF16(scale);
    if (f16IsNonFinite(scaleBits)) {
      throw new QuantizeInputError(`Q8_0: block ${block} (values ${first} to ${first + q8_0BlockSize - 1}) holds ${amax}, whose scale ${scale} is beyond f16's range (|x| must stay below 65520 * 127)`);
    }
    const at = block * q8_0BlockBytes;
    bytes[at] = scaleBits & 0xff;
    bytes[at + 1] = scaleBits >>> 8;
    for (let index = 0; index < q8_0BlockSize; index++) {
      quants[at + 2 + index] = roundHalfAwayFromZero(Math.fround(values[first + index] * inverseScale));
    }
  }
  return bytes;
}

/** Decodes `count` values (a whole number of blocks) from Q8_0 bytes of exactly the matching length. */
export function dequantizeQ8_0(bytes: Uint8Array, count: number): Float32Array {
  const blockCount = count / q8_0BlockSize;
  if (!Number.isSafeInteger(blockCount) || blockCount < 0 || bytes.length !== blockCount * q8_0BlockBytes) {
    throw new QuantizeInputError(`Q8_0: ${count} values in ${bytes.length} bytes; ${q8_0BlockSize}-value blocks of ${q8_0BlockBytes} bytes each were expected`);
  }
  const values = new Float32Array(count);
  const quants = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let block = 0; block < blockCount; block++) {
    const at = block * q8_0BlockBytes;
    const scale = f16ToF32Table[bytes[at] | (bytes[at + 1] << 8)];
    const first = block * q8_0BlockSize;
    for (let index = 0; index < q8_0BlockSize; index++) values[first + index] = scale * quants[at + 2 + index];
  }
  return values;
}
