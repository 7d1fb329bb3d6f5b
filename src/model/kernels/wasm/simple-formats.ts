/**
 * F32 and F16 in the float kernel (layouts, little-endian):
 *   F32  — plain float32; the kernel's block is 16 elements (64 bytes).
 *   F16  — IEEE halves; the kernel's block is 16 elements (32 bytes).
 */
import { type Code, type LocalAllocator, op } from '../../wasm/assembler.js';
import { type WeightFormat, constantBytes, halfTableAddress } from './format-types.js';

export const f32Format: WeightFormat = {
  blockElements: 16,
  blockBytes: 64,
  elementBytes: 4,
  scaled: false,
  pairedAccumulators: true,
  rowDecoder: () => ({
    prepare: () => [],
    chunk: (pointer, k) => [op.get(pointer), op.v128Load(16 * k)],
    tailChunk: (pointer) => [op.get(pointer), op.v128Load(0)],
    tailElement: (pointer) => [op.get(pointer), op.f32Load(0)],
  }),
};

/**
 * A half becomes a float32 by bit moves and one multiplication: sign-extend it to 32
 * bits, shift left by 13 (exponent and mantissa land in float32's places, 112 too low in
 * exponent), clear the three copies of the sign that the shift left above it, and
 * multiply by 2^112. Subnormal halves come out right too (they become subnormal
 * float32s, which the multiplication scales exactly). Infinities and NaNs would not, but
 * the loader refuses weights that are not finite.
 */
function halvesToFloats(locals: LocalAllocator, extendedHalves: Code): Code {
  const signAndBelow = constantBytes(locals, [...new Uint8Array(Int32Array.of(0x8fffffff, 0x8fffffff, 0x8fffffff, 0x8fffffff).buffer)]);
  const exponentShift = constantBytes(locals, [...new Uint8Array(Float32Array.of(2 ** 112, 2 ** 112, 2 ** 112, 2 ** 112).buffer)]);
  return [extendedHalves, op.i32(13), op.i32x4ShiftLeft, signAndBelow, op.v128And, exponentShift, op.f32x4Mul];
}

export const f16Format: WeightFormat = {
  blockElements: 16,
  blockBytes: 32,
  elementBytes: 2,
  scaled: false,
  pairedAccumulators: true,
  rowDecoder: (locals) => {
    const low = locals.v128();
    const high = locals.v128();
    return {
      prepare: (pointer) => [op.get(pointer), op.v128Load(0), op.set(low), op.get(pointer), op.v128Load(16), op.set(high)],
      chunk: (_pointer, k) => halvesToFloats(locals, [op.get(k < 2 ? low : high), k % 2 === 0 ? op.i32x4ExtendLowI16x8Signed : op.i32x4ExtendHighI16x8Signed]),
      tailChunk: (pointer) => halvesToFloats(locals, [op.get(pointer), op.v128Load64Zero(0), op.i32x4ExtendLowI16x8Signed]),
      tailElement: (pointer) => [op.get(pointer), op.i32Load16Unsigned(0), op.i32(2), op.i32ShiftLeft, op.f32Load(halfTableAddress)],
    };
  },
};
