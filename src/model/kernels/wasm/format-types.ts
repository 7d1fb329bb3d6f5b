/**
 * What a float format (F32, F16) tells the float kernel generator (dot-kernel.ts): the
 * size of its blocks and sub-blocks, and the instructions that turn one block of one
 * weight row into float32 lanes, four elements (a "chunk") at a time. Every conversion a
 * format emits is exact (a half becomes the float32 it stands for), so only the order of
 * the sums differs from the TypeScript kernels. Also the byte helpers that the integer
 * formats (integer-formats.ts) share.
 */
import { type Code, type LocalAllocator, op } from '../../wasm/assembler.js';

/** Where the table of the 65536 halves' float32 values lives in kernel memory (256 KiB from address 0). */
export const halfTableAddress = 0;
export const halfTableBytes = 65536 * 4;

/** The per-row code a format emits for one kernel body; `pointer` is the local holding the row's block address. */
export interface RowDecoder {
  /** Loads whatever the whole block needs before its sub-blocks are read. */
  prepare(pointer: number): Code;
  /** Loads whatever sub-block s needs before its chunks are read. */
  prepareSubBlock?(pointer: number, subBlock: number): Code;
  /** Leaves chunk k of the block (elements 4k..4k+3) on the stack as an f32x4. */
  chunk(pointer: number, k: number): Code;
  /** Scaled formats: leaves sub-block s's scale on the stack as an f32; the sub-block's sum is multiplied by it. */
  scale?(pointer: number, subBlock: number): Code;
  /** Unblocked formats: leaves the 4 elements at `pointer` on the stack as an f32x4 (the loop after the last whole block). */
  tailChunk?(pointer: number): Code;
  /** Unblocked formats: leaves the one element at `pointer` on the stack as an f32 (the last cols % 4 elements). */
  tailElement?(pointer: number): Code;
}

export interface WeightFormat {
  readonly blockElements: number;
  readonly blockBytes: number;
  /** Chunks of 4 per sub-block (the unit a scale covers); the whole block when absent. */
  readonly subBlockChunks?: number;
  /** Unblocked formats (F32, F16): bytes per element; rows may end in a part block. */
  readonly elementBytes?: number;
  /** True when each sub-block is summed on its own and the sum multiplied by the sub-block's scale. */
  readonly scaled: boolean;
  /**
   * Unscaled formats whose chunks cost little (F32, F16): sum the even and the odd chunks
   * in two accumulators, so that two chains of dependent adds run at once; with one, the
   * adds' latency, not the loads, sets the pace. (Measured no faster for the quantized
   * formats, whose conversions set theirs.)
   */
  readonly pairedAccumulators?: boolean;
  rowDecoder(locals: LocalAllocator): RowDecoder;
}

/** The float32 value of the half at `pointer` + `offset`, by the table in kernel memory. */
export function halfAt(pointer: number, offset: number): Code {
  return [op.get(pointer), op.i32Load16Unsigned(offset), op.i32(2), op.i32ShiftLeft, op.f32Load(halfTableAddress)];
}

/** Sixteen lanes of `byte`, from a constant local. */
export function repeatedByte(locals: LocalAllocator, byte: number): Code {
  return op.get(locals.constant(new Array<number>(16).fill(byte & 0xff)));
}

/**
 * The sixteen bytes of `bytes` shifted right by `bits` within each byte. WebAssembly's
 * i8x16 shifts cost V8 several x86 instructions each (x86 has no byte shifts); a 16-bit
 * shift and a mask of the bits that stayed in their byte is two.
 */
export function bytesShiftedRight(locals: LocalAllocator, bytes: Code, bits: number): Code {
  return [bytes, op.i32(bits), op.i16x8ShiftRightUnsigned, repeatedByte(locals, 0xff >> bits), op.v128And];
}

/** Any 16 bytes, from a constant local. */
export function constantBytes(locals: LocalAllocator, bytes: readonly number[]): Code {
  return op.get(locals.constant(bytes));
}
