/**
 * The activation quantizers as kernels: rows of float32 activations become the Q8_0 or
 * Q8_K blocks the integer kernels read (integer-kernel.ts), with the rounding rules of
 * ../activations.ts, bit for bit. They run on the calling thread, once per product input
 * (the products sharing an input share its quantization), before the products.
 *
 * Layout of one quantized row in kernel memory: cols / blockSize records of
 * activationBlockBytes, each the block's quants as int16 (2 * blockSize bytes), then its
 * float32 scale, then (Q8_K) the int32 sums of each 32 quants, padded to 16 bytes.
 *
 * A kernel takes the product kernels' ten parameters (dot-kernel.ts) so that every
 * export has one signature: (out, unused, x, tokenBegin, tokenEnd, cols, unused, unused,
 * outStride, xStride) quantizes the x rows tokenBegin .. tokenEnd - 1.
 */
import { type Code, LocalAllocator, op } from '../../wasm/assembler.js';
import { activationBlockSize } from '../activations.js';
import type { DotKernel } from './dot-kernel.js';
import { halfTableAddress } from './format-types.js';
import { integerOp } from './integer-ops.js';

const [OUT, X, TOKEN_BEGIN, TOKEN_END, COLS, OUT_STRIDE, X_STRIDE] = [0, 2, 3, 4, 5, 8, 9];
const parameterCount = 10;

/** Bytes of one quantized activation block: quants, scale, sums (Q8_K), padded to 16. */
export const activationBlockBytes = { Q8_0: 80, Q8_K: 560 } as const;
/** Where a block's float32 scale and (Q8_K) its eight int32 sums sit. */
export const activationScaleOffset = { Q8_0: 64, Q8_K: 512 } as const;
export const activationSumsOffset = 516;

/** Bytes of one quantized row of `cols` activations. */
export function activationRowBytes(kind: 'Q8_0' | 'Q8_K', cols: number): number {
  return (cols / activationBlockSize[kind]) * activationBlockBytes[kind];
}

/**
 * The half nearest the non-negative float32 in local `value` (ties to even), as an i32 in
 * local `half`: infinity from 65520 up, the quiet NaN for NaN, subnormal halves by adding
 * 0.5 (whose float32 ulp is the smallest subnormal half, so the addition does the rounding),
 * normal ones by adding the rounding bias to the bits (F. Giesen's float_to_half_fast3_rtne).
 */
function halfOf(locals: LocalAllocator, value: number, half: number): Code {
  const bits = locals.i32();
  return [
    [op.get(value), integerOp.i32ReinterpretF32, op.set(bits)],
    [op.get(bits), op.i32(0x47800000), op.i32GreaterOrEqualUnsigned],
    op.ifElse(
      [[op.i32(0x7e00), op.i32(0x7c00), op.get(bits), op.i32(0x7f800000), integerOp.i32GreaterThanUnsigned, integerOp.select, op.set(half)]],
      [
        [op.get(bits), op.i32(0x38800000), op.i32LessThanUnsigned],
        op.ifElse(
          [[op.get(value), op.f32(0.5), op.f32Add, integerOp.i32ReinterpretF32, op.i32(0x3f000000), op.i32Subtract, op.set(half)]],
          [[op.get(bits), op.i32(-0x38000000 + 0xfff), op.i32Add, op.get(bits), op.i32(13), op.i32ShiftRightUnsigned, op.i32(1), op.i32And, op.i32Add, op.i32(13), op.i32ShiftRightUnsigned, op.set(half)]],
        ),
      ],
    ),
  ];
}

/** The largest of the four lanes of f32x4 local `vector`, as an f32. */
function laneMax(vector: number): Code {
  const lane = (index: number): Code => [op.get(vector), op.f32x4ExtractLane(index)];
  return [lane(0), lane(1), integerOp.f32Max, lane(2), lane(3), integerOp.f32Max, integerOp.f32Max];
}

/** Rounds f32x4 lanes to the nearest integer (ties to even) as int32 lanes. */
const nearestInt32: Code = [integerOp.f32x4Nearest, integerOp.i32x4TruncSaturateF32x4Signed];

/** One Q8_0 block: 32 floats at `source` into the record at `target`. */
function q8_0Block(locals: LocalAllocator, source: number, target: number): Code {
  const values = Array.from({ length: 8 }, () => locals.v128());
  const [maxAbs, multiplier] = [locals.v128(), locals.v128()];
  const [amax, d, half] = [locals.f32(), locals.f32(), locals.i32()];
  const code: Code[] = values.map((value, k) => [op.get(source), op.v128Load(16 * k), op.set(value)]);
  code.push([op.get(values[0]), integerOp.f32x4Abs, op.set(maxAbs)]);
  for (const value of values.slice(1)) code.push([op.get(maxAbs), op.get(value), integerOp.f32x4Abs, integerOp.f32x4Max, op.set(maxAbs)]);
  code.push([laneMax(maxAbs), op.set(amax)]);
  // d = amax / 127, stored rounded to a half (its float32 value, from the half table).
  code.push([op.get(amax), op.f32(127), integerOp.f32Divide, op.set(d)], halfOf(locals, d, half));
  code.push([op.get(target), op.get(half), op.i32(2), op.i32ShiftLeft, op.f32Load(halfTableAddress), op.f32Store(activationScaleOffset.Q8_0)]);
  // The multiplier is 127 / amax (0 for a block of zeros), as ggml's x86 quantize_row_q8_0.
  code.push([op.f32(127), op.get(amax), integerOp.f32Divide, op.f32(0), op.get(amax), op.f32(0), integerOp.f32NotEqual, integerOp.select, op.f32x4Splat, op.set(multiplier)]);
  for (let pair = 0; pair < 4; pair++) {
    const quantized = (value: number): Code => [op.get(value), op.get(multiplier), op.f32x4Mul, nearestInt32];
    code.push([op.get(target), quantized(values[2 * pair]), quantized(values[2 * pair + 1]), integerOp.i16x8NarrowI32x4Signed, op.v128Store(16 * pair)]);
  }
  return code;
}

/** One Q8_K block: 256 floats at `source` into the record at `target`. */
function q8KBlock(locals: LocalAllocator, source: number, target: number): Code {
  const [maxAbs, multiplier, sum, cap] = [locals.v128(), locals.v128(), locals.v128(), locals.v128()];
  const [amax, max] = [locals.f32(), locals.f32()];
  const [index, offset] = [locals.i32(), locals.i32()];
  const loop = (count: number, body: Code): Code => [[op.i32(0), op.set(index)], op.whileLoop([op.get(index), op.i32(count), op.i32LessThanUnsigned], body, [op.get(index), op.i32(1), op.i32Add, op.set(index)])];
  const floatAt = (bytes: number, k: number): Code => [op.get(source), op.get(index), op.i32(bytes), op.i32Mul, op.i32Add, op.v128Load(16 * k)];
  const zeroFill = loop(35, [op.get(target), op.get(index), op.i32(4), op.i32ShiftLeft, op.i32Add, op.v128Zero, op.v128Store(0)]);
  const quantize = loop(32, [
    [op.get(target), op.get(index), op.i32(4), op.i32ShiftLeft, op.i32Add],
    [floatAt(32, 0), op.get(multiplier), op.f32x4Mul, nearestInt32, op.get(cap), integerOp.i32x4MinSigned],
    [floatAt(32, 1), op.get(multiplier), op.f32x4Mul, nearestInt32, op.get(cap), integerOp.i32x4MinSigned],
    [integerOp.i16x8NarrowI32x4Signed, op.v128Store(0)],
  ]);
  const sumOfQuants = (k: number): Code => [op.get(target), op.get(index), op.i32(6), op.i32ShiftLeft, op.i32Add, op.v128Load(16 * k), integerOp.i32x4ExtendAddPairwiseI16x8Signed];
  const lane = (l: number): Code => [op.get(sum), integerOp.i32x4ExtractLane(l)];
  const sums = loop(8, [
    [sumOfQuants(0), sumOfQuants(1), op.i32x4Add, sumOfQuants(2), sumOfQuants(3), op.i32x4Add, op.i32x4Add, op.set(sum)],
    [op.get(target), op.get(index), op.i32(2), op.i32ShiftLeft, op.i32Add, lane(0), lane(1), op.i32Add, lane(2), lane(3), op.i32Add, op.i32Add, integerOp.i32Store(activationSumsOffset)],
  ]);
  return [
    [op.v128Zero, op.set(maxAbs)],
    loop(16, [0, 1, 2, 3].map((k) => [op.get(maxAbs), floatAt(64, k), integerOp.f32x4Abs, integerOp.f32x4Max, op.set(maxAbs)])),
    [laneMax(maxAbs), op.set(amax)],
    [op.get(amax), op.f32(0), integerOp.f32Equal],
    op.ifElse(
      [zeroFill],
      [
        // max: the first element of largest magnitude, with its sign (ggml's quantize_row_q8_K_ref).
        // The search stops at the last element, should none match (a NaN among the activations).
        [op.i32(0), op.set(offset)],
        op.whileLoop(
          [op.get(offset), op.i32(1020), op.i32LessThanUnsigned, op.get(source), op.get(offset), op.i32Add, op.f32Load(0), integerOp.f32Abs, op.get(amax), integerOp.f32NotEqual, op.i32And],
          [op.get(offset), op.i32(4), op.i32Add, op.set(offset)],
        ),
        [op.get(source), op.get(offset), op.i32Add, op.f32Load(0), op.set(max)],
        // iscale = -127 / max; d = 1 / iscale.
        [op.f32(-127), op.get(max), integerOp.f32Divide, op.set(max)],
        [op.get(target), op.f32(1), op.get(max), integerOp.f32Divide, op.f32Store(activationScaleOffset.Q8_K)],
        [op.get(max), op.f32x4Splat, op.set(multiplier), op.i32(127), op.i32x4Splat, op.set(cap)],
        quantize,
        sums,
      ],
    ),
  ];
}

/** The quantizer of `kind` as a kernel function (see the file comment for its parameters). */
export function quantizeKernel(kind: 'Q8_0' | 'Q8_K'): DotKernel {
  const locals = new LocalAllocator(parameterCount);
  const [token, source, target, column] = [locals.i32(), locals.i32(), locals.i32(), locals.i32()];
  const blockSize = activationBlockSize[kind];
  const block = kind === 'Q8_0' ? q8_0Block(locals, source, target) : q8KBlock(locals, source, target);
  const row: Code = [
    [op.get(X), op.get(token), op.get(X_STRIDE), op.i32Mul, op.i32Add, op.set(source)],
    [op.get(OUT), op.get(token), op.get(OUT_STRIDE), op.i32Mul, op.i32Add, op.set(target)],
    [op.i32(0), op.set(column)],
    op.whileLoop([op.get(column), op.get(COLS), op.i32LessThanUnsigned], block, [
      [op.get(source), op.i32(4 * blockSize), op.i32Add, op.set(source)],
      [op.get(target), op.i32(activationBlockBytes[kind]), op.i32Add, op.set(target)],
      [op.get(column), op.i32(blockSize), op.i32Add, op.set(column)],
    ]),
  ];
  const body: Code = [[op.get(TOKEN_BEGIN), op.set(token)], op.whileLoop([op.get(token), op.get(TOKEN_END), op.i32LessThanUnsigned], row, [op.get(token), op.i32(1), op.i32Add, op.set(token)])];
  return { parameterCount, locals: locals.declarations(), body: [locals.constantInitializers(), body] };
}
