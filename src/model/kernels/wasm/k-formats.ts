/**
 * Q4_K and Q6_K (ggml's k-quants: super-blocks of 256) in the kernels. Layouts,
 * little-endian (byte by byte in src/model/quant/q4-k.ts and q6-k.ts):
 *   Q4_K — 144 bytes: half d, half dmin, 12 bytes packing eight 6-bit scales and mins,
 *          then 128 bytes of nibbles: bytes 32p..32p+31 hold sub-block 2p (32 elements)
 *          in their low nibbles and sub-block 2p + 1 in their high nibbles;
 *          value = d * scale_j * q - dmin * min_j.
 *   Q6_K — 210 bytes: 128 bytes of low nibbles ql, 64 bytes of high bit pairs qh, sixteen
 *          int8 scales (one per 16 elements), half d; value = d * scale_s * (q - 32).
 */
import { type Code, op } from '../../wasm/assembler.js';
import { type WeightFormat, bytesShiftedRight, chunkOfBytes, halfAt, repeatedByte, topByteScale } from './format-types.js';

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

/**
 * Q4_K: each weight is formed in full, q * (d * scale_j) - dmin * min_j, with the two
 * factors of sub-block j made once per sub-block (exact products of a half, a 6-bit
 * integer and, for the scale, the chunks' 2^-24), and summed into the row's accumulator
 * like float32 weights.
 */
export const q4KFormat: WeightFormat = {
  blockElements: 256,
  blockBytes: 144,
  subBlockChunks: 8,
  scaled: false,
  rowDecoder: (locals) => {
    const quants = [locals.v128(), locals.v128()]; // int8x16 each: the sub-block's elements 0-15, 16-31
    const [scale, min, d, dmin] = [locals.v128(), locals.v128(), locals.f32(), locals.f32()];
    return {
      prepare: (pointer) => [halfAt(pointer, 0), op.f32(topByteScale), op.f32Mul, op.set(d), halfAt(pointer, 2), op.set(dmin)],
      prepareSubBlock: (pointer, j) => {
        const nibbles = (offset: number): Code => {
          const bytes = [op.get(pointer), op.v128Load(q4KQuantsOffset + 32 * (j >> 1) + offset)];
          return j % 2 === 0 ? [bytes, repeatedByte(locals, 0x0f), op.v128And] : bytesShiftedRight(locals, bytes, 4);
        };
        return [
          [op.get(d), q4KSixBits(pointer, j, false), op.f32ConvertI32Signed, op.f32Mul, op.f32x4Splat, op.set(scale)],
          [op.get(dmin), q4KSixBits(pointer, j, true), op.f32ConvertI32Signed, op.f32Mul, op.f32x4Splat, op.set(min)],
          [nibbles(0), op.set(quants[0])],
          [nibbles(16), op.set(quants[1])],
        ];
      },
      chunk: (_pointer, k) => [chunkOfBytes(locals, quants[(k % 8) >> 2], k % 4), op.get(scale), op.f32x4Mul, op.get(min), op.f32x4Subtract],
    };
  },
};

/** Offsets within a Q6_K super-block. */
const q6KHighBitsOffset = 128;
const q6KScalesOffset = 192;
const q6KScaleOffset = 208;

/**
 * Q6_K: sub-block s (16 elements) sits in half h = s / 8, quarter q = (s % 8) / 2, and
 * the first or second 16 of that quarter's 32 positions l; its low nibbles are those of
 * ql[64h + 32(q % 2) + l] (low for q < 2, high otherwise) and its high bits bits 2q, 2q + 1
 * of qh[32h + l]. Each weight is formed in full, (q - 32) * (d * scale_s), as in Q4_K:
 * summing each 16-element sub-block on its own and scaling the sum measured half as fast.
 */
export const q6KFormat: WeightFormat = {
  blockElements: 256,
  blockBytes: 210,
  subBlockChunks: 4,
  scaled: false,
  rowDecoder: (locals) => {
    const [quants, scale, d] = [locals.v128(), locals.v128(), locals.f32()];
    return {
      prepare: (pointer) => [halfAt(pointer, q6KScaleOffset), op.f32(topByteScale), op.f32Mul, op.set(d)],
      prepareSubBlock: (pointer, s) => {
        const [half, quarter, second] = [s >> 3, (s & 7) >> 1, s & 1];
        const lowBytes = [op.get(pointer), op.v128Load(64 * half + 32 * (quarter & 1) + 16 * second)];
        const lowNibbles = quarter < 2 ? [lowBytes, repeatedByte(locals, 0x0f), op.v128And] : bytesShiftedRight(locals, lowBytes, 4);
        // Bits 2q and 2q + 1 of each qh byte, moved to bits 4 and 5: one 16-bit shift (left by 4 - 2q, or right by 2 for q = 3)
        // and a mask, which drops the bits the shift carried over from the neighbouring byte.
        const highBytes = [op.get(pointer), op.v128Load(q6KHighBitsOffset + 32 * half + 16 * second)];
        const highBits = [highBytes, quarter < 3 ? [op.i32(4 - 2 * quarter), op.i16x8ShiftLeft] : [op.i32(2), op.i16x8ShiftRightUnsigned], repeatedByte(locals, 0x30), op.v128And];
        return [
          [lowNibbles, highBits, op.v128Or, repeatedByte(locals, 32), op.i8x16Subtract, op.set(quants)],
          [op.get(pointer), op.i32Load8Signed(q6KScalesOffset + s), op.f32ConvertI32Signed, op.get(d), op.f32Mul, op.f32x4Splat, op.set(scale)],
        ];
      },
      chunk: (_pointer, k) => [chunkOfBytes(locals, quants, k % 4), op.get(scale), op.f32x4Mul],
    };
  },
};
