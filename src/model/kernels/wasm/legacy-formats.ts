/**
 * Q4_0 and Q5_0 (ggml's "legacy" quants) in the kernels. Layouts, little-endian:
 *   Q4_0 — 32 elements in 18 bytes: half scale d, then 16 bytes whose low nibbles are
 *          elements 0-15 and high nibbles elements 16-31; value = d * (nibble - 8).
 *   Q5_0 — 32 elements in 22 bytes: half scale d, a 32-bit word qh of fifth bits (bit j
 *          for element j), then 16 bytes of nibbles as in Q4_0; value = d * (q - 16).
 * Each block becomes sixteen int8 lanes twice (elements 0-15, 16-31) with a few byte-wise
 * operations, then takes the Q8_0 path: to float32 four at a time, sum, times d.
 */
import { type Code, type LocalAllocator, op } from '../../wasm/assembler.js';
import { type RowDecoder, type WeightFormat, bytesShiftedRight, chunkOfBytes, constantBytes, halfAt, repeatedByte, topByteScale } from './format-types.js';

/** Two int8x16 locals holding a block's 32 values, and the chunks read from them. */
function byteBlock(locals: LocalAllocator): { values: number[]; chunk: RowDecoder['chunk'] } {
  const values = [locals.v128(), locals.v128()];
  return { values, chunk: (_pointer, k) => chunkOfBytes(locals, values[k >> 2], k % 4) };
}

const blockScale = (pointer: number): Code => [halfAt(pointer, 0), op.f32(topByteScale), op.f32Mul];

export const q4_0Format: WeightFormat = {
  blockElements: 32,
  blockBytes: 18,
  scaled: true,
  rowDecoder: (locals) => {
    const { values, chunk } = byteBlock(locals);
    const nibbles = locals.v128();
    return {
      prepare: (pointer) => [
        [op.get(pointer), op.v128Load(2), op.set(nibbles)],
        [op.get(nibbles), repeatedByte(locals, 0x0f), op.v128And, repeatedByte(locals, 8), op.i8x16Subtract, op.set(values[0])],
        [bytesShiftedRight(locals, op.get(nibbles), 4), repeatedByte(locals, 8), op.i8x16Subtract, op.set(values[1])],
      ],
      chunk,
      scale: blockScale,
    };
  },
};

/** Byte b of the result has bit b % 8 of qh byte `first` (b < 8) or `first + 1`, as 16 or 0. */
function fifthBits(locals: LocalAllocator, pointer: number, first: number): Code {
  const spread = constantBytes(locals, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1].map((index) => index + first));
  const bit = constantBytes(locals, [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128]);
  return [op.get(pointer), op.v128Load32Splat(2), spread, op.i8x16Swizzle, bit, op.v128And, bit, op.i8x16Equal, repeatedByte(locals, 16), op.v128And];
}

export const q5_0Format: WeightFormat = {
  blockElements: 32,
  blockBytes: 22,
  scaled: true,
  rowDecoder: (locals) => {
    const { values, chunk } = byteBlock(locals);
    const nibbles = locals.v128();
    return {
      prepare: (pointer) => [
        [op.get(pointer), op.v128Load(6), op.set(nibbles)],
        [op.get(nibbles), repeatedByte(locals, 0x0f), op.v128And, fifthBits(locals, pointer, 0), op.v128Or, repeatedByte(locals, 16), op.i8x16Subtract, op.set(values[0])],
        [bytesShiftedRight(locals, op.get(nibbles), 4), fifthBits(locals, pointer, 2), op.v128Or, repeatedByte(locals, 16), op.i8x16Subtract, op.set(values[1])],
      ],
      chunk,
      scale: blockScale,
    };
  },
};
