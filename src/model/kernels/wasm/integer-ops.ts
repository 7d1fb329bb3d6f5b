/**
 * The WebAssembly instructions the integer kernels and the activation quantizer use
 * beyond those of ../../wasm/assembler.ts, by their opcodes in the core specification
 * (scalar) and the SIMD proposal's table (after the 0xfd prefix).
 */
import { type Bytes, unsignedLeb } from '../../wasm/assembler.js';

function simd(opcode: number): Bytes {
  return [0xfd, ...unsignedLeb(opcode)];
}

export const integerOp = {

  /** i32x4.dot_i16x8_s: lane i = a[2i] * b[2i] + a[2i + 1] * b[2i + 1], exactly. */
  i32x4DotI16x8Signed: simd(0xba),
  i32x4Mul: simd(0xb5),
  i32x4MinSigned: simd(0xb6),
  i32x4ExtractLane: (lane: number): Bytes => [...simd(0x1b), lane],
  /** i32x4.extadd_pairwise_i16x8_s: lane i = a[2i] + a[2i + 1]. */
  i32x4ExtendAddPairwiseI16x8Signed: simd(0x7e),
  /** i16x8.narrow_i32x4_s: eight int32 lanes (the first operand's, then the second's) to int16, saturating. */
  i16x8NarrowI32x4Signed: simd(0x85),
  /** f32x4.nearest: to the nearest integer, ties to even. */
  f32x4Nearest: simd(0x6a),
  f32x4Abs: simd(0xe0),
  f32x4Max: simd(0xe9),
  /** i32x4.trunc_sat_f32x4_s: to int32 toward zero, saturating (the kernels only pass integers). */
  i32x4TruncSaturateF32x4Signed: simd(0xf8),
  f32Abs: [0x8b],
  f32Max: [0x97],
  f32Divide: [0x95],
  f32Equal: [0x5b],
  f32NotEqual: [0x5c],
  i32GreaterThanUnsigned: [0x4b],
  i32ReinterpretF32: [0xbc],
  f32ReinterpretI32: [0xbe],
  /** select: the first operand when the i32 on top is not zero, else the second. */
  select: [0x1b],
  i32Store: (offset: number): Bytes => [0x36, 2, ...unsignedLeb(offset)],
};
