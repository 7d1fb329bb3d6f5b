/**
 * The quantized weight formats as the integer kernels (integer-kernel.ts) read them:
 * each block becomes int8x16 "groups" of 16 consecutive elements, with the block's
 * float32 scale and, for the K-quants, each sub-block's integer scale (and Q4_K's mins).
 * Layouts, little-endian (byte by byte in src/model/quant):
 *   Q8_0 — 34 bytes: half d, 32 int8 quants; value = d * q.
 *   Q4_0 — 18 bytes: half d, 16 bytes whose low nibbles are elements 0-15 and high
 *          nibbles 16-31; value = d * (nibble - 8).
 *   Q5_0 — 22 bytes: half d, a 32-bit word qh of fifth bits (bit j for element j), then
 *          nibbles as Q4_0; value = d * (q - 16).
 *   Q4_K — 144 bytes: half d, half dmin, 12 bytes packing eight 6-bit scales and mins,
 *          128 bytes of nibbles: bytes 32p..32p+31 hold sub-block 2p (32 elements) in
 *          their low nibbles and 2p + 1 in their high nibbles; value = d * scale_j * q - dmin * min_j.
 *   Q6_K — 210 bytes: 128 bytes of low nibbles, 64 bytes of high bit pairs, sixteen int8
 *          scales (one per 16 elements), half d; value = d * scale_s * (q - 32).
 */
import { type Code, type LocalAllocator, op } from '../../wasm/assembler.js';
import { bytesShiftedRight, constantBytes, halfAt, repeatedByte } from './format-types.js';

export interface IntegerRowDecoder {
  /** Loads whatever the whole block needs. */
  prepare(pointer: number): Code;
  /** Leaves group g of the block (elements 16g .. 16g + 15) on the stack as int8x16. Groups are asked for in order. */
  group(pointer: number, g: number): Code;
  /** The block's scale d as an f32. */
  blockScale(pointer: number): Code;
  /** Formats with sub-blocks: sub-block s's integer scale as an i32. */
  subBlockScale?(pointer: number, s: number): Code;
  /** Q4_K: sub-block s's integer min as an i32, and the block's dmin as an f32. */
  subBlockMin?(pointer: number, s: number): Code;
  blockMinScale?(pointer: number): Code;
}

export interface IntegerWeightFormat {
  /** The activation blocks it multiplies (../activations.ts). */
  readonly activation: 'Q8_0' | 'Q8_K';
  readonly blockElements: number;
  readonly blockBytes: number;
  /** Groups of 16 per sub-block: the unit an integer scale covers (the whole block for the Q8_0 family, which has none). */
  readonly subBlockGroups: number;
  /** True when sub-blocks carry integer scales. */
  readonly subBlockScaled: boolean;
  /** True for Q4_K, whose values subtract a min per sub-block. */
  readonly hasMins: boolean;
  rowDecoder(locals: LocalAllocator): IntegerRowDecoder;
}

export const q8_0IntegerFormat: IntegerWeightFormat = {
  activation: 'Q8_0',
  blockElements: 32,
  blockBytes: 34,
  subBlockGroups: 2,
  subBlockScaled: false,
  hasMins: false,
  rowDecoder: () => ({
    prepare: () => [],
    group: (pointer, g) => [op.get(pointer), op.v128Load(2 + 16 * g)],
    blockScale: (pointer) => halfAt(pointer, 0),
  }),
};

export const q4_0IntegerFormat: IntegerWeightFormat = {
  activation: 'Q8_0',
  blockElements: 32,
  blockBytes: 18,
  subBlockGroups: 2,
  subBlockScaled: false,
  hasMins: false,
  rowDecoder: (locals) => {
    const nibbles = locals.v128();
    return {
      prepare: (pointer) => [op.get(pointer), op.v128Load(2), op.set(nibbles)],
      group: (_pointer, g) => [g === 0 ? [op.get(nibbles), repeatedByte(locals, 0x0f), op.v128And] : bytesShiftedRight(locals, op.get(nibbles), 4), repeatedByte(locals, 8), op.i8x16Subtract],
      blockScale: (pointer) => halfAt(pointer, 0),
    };
  },
};

/** Byte b of the result has bit b % 8 of qh byte `first` (b < 8) or `first + 1`, as 16 or 0. */
function fifthBits(locals: LocalAllocator, pointer: number, first: number): Code {
  const spread = constantBytes(locals, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1].map((index) => index + first));
  const bit = constantBytes(locals, [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128]);
  return [op.get(pointer), op.v128Load32Splat(2), spread, op.i8x16Swizzle, bit, op.v128And, bit, op.i8x16Equal, repeatedByte(locals, 16), op.v128And];
}

export const q5_0IntegerFormat: IntegerWeightFormat = {
  activation: 'Q8_0',
  blockElements: 32,
  blockBytes: 22,
  subBlockGroups: 2,
  subBlockScaled: false,
  hasMins: false,
  rowDecoder: (locals) => {
    const nibbles = locals.v128();
    return {
      prepare: (pointer) => [op.get(pointer), op.v128Load(6), op.set(nibbles)],
      group: (pointer, g) => [
        g === 0 ? [op.get(nibbles), repeatedByte(locals, 0x0f), op.v128And] : bytesShiftedRight(locals, op.get(nibbles), 4),
        fifthBits(locals, pointer, 2 * g),
        op.v128Or,
        repeatedByte(locals, 16),
        op.i8x16Subtract,
      ],
      blockScale: (pointer) => halfAt(pointer, 0),
    };
  },
};

/** Offsets within a Q4_K super-block. */
const q4KScalesOffset = 4;
const q4KQuantsOffset = 16;

/** Sub-block j's 6-bit scale (`min` false) or min of a Q4_K super-block at `pointer`, as an i32 (ggml's get_scale_min_k4). */
function q4KSixBits(pointer: number, j: number, min: boolean): Code {
  const byte = (index: number): Code => [op.get(pointer), op.i32Load8Unsigned(q4KScalesOffset + index)];
  if (j < 4) return [byte(min ? j + 4 : j), op.i32(63), op.i32And];
  const low = min ? [byte(j + 4), op.i32(4), op.i32ShiftRightUnsigned] : [byte(j + 4), op.i32(0x0f), op.i32And];
  const high = [byte(min ? j : j - 4), op.i32(6), op.i32ShiftRightUnsigned, op.i32(4), op.i32ShiftLeft];
  return [low, high, op.i32Or];
}

export const q4KIntegerFormat: IntegerWeightFormat = {
  activation: 'Q8_K',
  blockElements: 256,
  blockBytes: 144,
  subBlockGroups: 2,
  subBlockScaled: true,
  hasMins: true,
  rowDecoder: (locals) => ({
    prepare: () => [],
    group: (pointer, g) => {
      // Group g is half g % 2 of sub-block j = g / 2, in the low (j even) or high nibbles of bytes 32 (j / 2) + 16 (g % 2) ...
      const j = g >> 1;
      const bytes = [op.get(pointer), op.v128Load(q4KQuantsOffset + 32 * (j >> 1) + 16 * (g & 1))];
      return j % 2 === 0 ? [bytes, repeatedByte(locals, 0x0f), op.v128And] : bytesShiftedRight(locals, bytes, 4);
    },
    blockScale: (pointer) => halfAt(pointer, 0),
    subBlockScale: (pointer, s) => q4KSixBits(pointer, s, false),
    subBlockMin: (pointer, s) => q4KSixBits(pointer, s, true),
    blockMinScale: (pointer) => halfAt(pointer, 2),
  }),
};

/** Offsets within a Q6_K super-block. */
const q6KHighBitsOffset = 128;
const q6KScalesOffset = 192;
const q6KScaleOffset = 208;

/**
 * Q6_K: sub-block s (16 elements, one group) sits in half h = s / 8, quarter q = (s % 8) / 2,
 * and the first or second 16 of that quarter's 32 positions l; its low nibbles are those of
 * ql[64h + 32(q % 2) + l] (low for q < 2, high otherwise) and its high bits bits 2q, 2q + 1
 * of qh[32h + l].
 */
export const q6KIntegerFormat: IntegerWeightFormat = {
  activation: 'Q8_K',
  blockElements: 256,
  blockBytes: 210,
  subBlockGroups: 1,
  subBlockScaled: true,
  hasMins: false,
  rowDecoder: (locals) => ({
    prepare: () => [],
    group: (pointer, s) => {
      const [half, quarter, second] = [s >> 3, (s & 7) >> 1, s & 1];
      const lowBytes = [op.get(pointer), op.v128Load(64 * half + 32 * (quarter & 1) + 16 * second)];
      const lowNibbles = quarter < 2 ? [lowBytes, repeatedByte(locals, 0x0f), op.v128And] : bytesShiftedRight(locals, lowBytes, 4);
      // Bits 2q and 2q + 1 of each qh byte, moved to bits 4 and 5: one 16-bit shift (left by 4 - 2q, or right by 2 for q = 3)
      // and a mask, which drops the bits the shift carried over from the neighbouring byte.
      const highBytes = [op.get(pointer), op.v128Load(q6KHighBitsOffset + 32 * half + 16 * second)];
      const highBits = [highBytes, quarter < 3 ? [op.i32(4 - 2 * quarter), op.i16x8ShiftLeft] : [op.i32(2), op.i16x8ShiftRightUnsigned], repeatedByte(locals, 0x30), op.v128And];
      return [lowNibbles, highBits, op.v128Or, repeatedByte(locals, 32), op.i8x16Subtract];
    },
    blockScale: (pointer) => halfAt(pointer, q6KScaleOffset),
    subBlockScale: (pointer, s) => [op.get(pointer), op.i32Load8Signed(q6KScalesOffset + s)],
  }),
};
