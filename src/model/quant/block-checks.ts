/**
 * Checks shared by the block formats: that values fill whole blocks, that bytes match a
 * count, that a block's scale fits in f16, and finding a block whose stored scale is
 * infinite or NaN.
 */
import { QuantizeInputError } from './errors.js';
import { f16IsNonFinite, f32ToF16 } from './f16.js';

/** Checks that `count` values of `type` fill exactly `byteLength` bytes, or says what does not fit. */
export function checkBlockBytes(type: string, blockSize: number, blockBytes: number, byteLength: number, count: number): number {
  const blockCount = count / blockSize;
  if (!Number.isSafeInteger(blockCount) || blockCount < 0 || byteLength !== blockCount * blockBytes) {
    throw new QuantizeInputError(`${type}: ${count} values in ${byteLength} bytes; ${blockSize}-value blocks of ${blockBytes} bytes each were expected`);
  }
  return blockCount;
}

/** Checks that `count` values are a whole number of blocks, or says what does not fit. */
export function checkWholeBlocks(type: string, blockSize: number, count: number): number {
  if (count % blockSize !== 0) throw new QuantizeInputError(`${type}: ${count} values is not a whole number of ${blockSize}-value blocks`);
  return count / blockSize;
}

/** The f16 bits of `scale`, refusing a scale f16 cannot hold (the block's values are too large for the format). */
export function scaleBits(type: string, scale: number, block: number, blockSize: number, what = 'scale'): number {
  const bits = f32ToF16(scale);
  if (f16IsNonFinite(bits)) {
    throw new QuantizeInputError(`${type}: block ${block} (values ${block * blockSize} to ${(block + 1) * blockSize - 1}) needs a ${what} of ${scale}, beyond f16's range; values that large cannot be stored as ${type}`);
  }
  return bits;
}

/**
 * The first block (and which of its halves, by byte offset within the block) whose f16 at
 * one of `halfOffsets` is infinite or NaN, or undefined when all are finite.
 */
export function firstNonFiniteBlockHalf(bytes: Uint8Array, blockBytes: number, halfOffsets: readonly number[]): { block: number; offset: number; bits: number } | undefined {
  const blockCount = Math.floor(bytes.length / blockBytes);
  for (let block = 0; block < blockCount; block++) {
    for (const offset of halfOffsets) {
      const at = block * blockBytes + offset;
      const bits = bytes[at] | (bytes[at + 1] << 8);
      if (f16IsNonFinite(bits)) return { block, offset, bits };
    }
  }
  return undefined;
}
