/**
 * The product kernel of the quantized types, written as a generator of WebAssembly: out
 * (tokens, rows) = x (tokens, cols) · Wᵀ for the rows [rowBegin, rowEnd) of W, where x
 * is already quantized to 8 bits (quantize-kernel.ts) and W is read block by block in
 * integers (integer-formats.ts), as llama.cpp multiplies them.
 *
 * Per block and (row, token): the weights' int8 groups are widened to int16 once and
 * multiplied with the activation's int16 quants by i32x4.dot_i16x8_s, exact int32 lane
 * sums (lane l takes elements e with (e >> 1) & 3 = l); a K-quant multiplies each
 * sub-block's lane sums by its integer scale and adds them, still exactly. Then the
 * float32 step: acc += float32(lane sums) * (d_weight * d_x), lane by lane; Q4_K also
 * adds float32(sum_j min_j * x sum_j) * (dmin * d_x) to a scalar. The result is
 * ((acc_0 + acc_1) + (acc_2 + acc_3)) - that scalar: the order ../integer-mat-vec.ts
 * defines, so both give the same bits, whatever the tiling, row range or thread.
 *
 * Parameters as dot-kernel.ts (x and xStride point at quantized rows).
 */
import { type Code, LocalAllocator, op } from '../../wasm/assembler.js';
import { type DotKernel, dotKernelParameterCount, tokenTileLoops } from './dot-kernel.js';
import type { IntegerWeightFormat } from './integer-formats.js';
import { integerOp } from './integer-ops.js';
import { activationBlockBytes, activationScaleOffset, activationSumsOffset } from './quantize-kernel.js';

// The parameters, in the order of every dot kernel (TOKENS is read by tokenTileLoops).
const [OUT, WEIGHTS, X, ROW_BEGIN, ROW_END, COLS, ROW_BYTES, _TOKENS, OUT_STRIDE, X_STRIDE] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

interface Shared {
  format: IntegerWeightFormat;
  locals: LocalAllocator;
  row: number;
  token: number;
  column: number;
}

/** The sum of the four f32 lanes of `vector`, as (l0 + l1) + (l2 + l3). */
function laneSum(vector: number): Code {
  const lane = (index: number): Code => [op.get(vector), op.f32x4ExtractLane(index)];
  return [lane(0), lane(1), op.f32Add, lane(2), lane(3), op.f32Add, op.f32Add];
}

/** The code for one tile of `rows` x `tokens` at (row, token): all of cols, then the stores. */
function tileBody(shared: Shared, rows: number, tokens: number): Code {
  const { format, locals } = shared;
  const kind = format.activation;
  const groupCount = format.blockElements / 16;
  const subBlockCount = groupCount / format.subBlockGroups;
  const pointers = Array.from({ length: rows }, () => locals.i32());
  const xPointers = Array.from({ length: tokens }, () => locals.i32());
  const accumulators = Array.from({ length: rows }, () => Array.from({ length: tokens }, () => locals.v128()));
  const minAccumulators = format.hasMins ? Array.from({ length: rows }, () => Array.from({ length: tokens }, () => locals.f32())) : [];
  const blockSums = Array.from({ length: tokens }, () => locals.v128()); // i32x4: the block's integer lane sums
  const subBlockSums = format.subBlockScaled ? Array.from({ length: tokens }, () => locals.v128()) : blockSums;
  const minSums = format.hasMins ? Array.from({ length: tokens }, () => locals.i32()) : [];
  const decoders = Array.from({ length: rows }, () => format.rowDecoder(locals));
  const [weights, low, high, subScale] = [locals.v128(), locals.v128(), locals.v128(), locals.v128()];
  const [blockScale, minScale, subMin] = [locals.f32(), locals.f32(), locals.i32()];

  const start: Code[] = [];
  for (let i = 0; i < rows; i++) start.push([op.get(WEIGHTS), op.get(shared.row), op.i32(i), op.i32Add, op.get(ROW_BYTES), op.i32Mul, op.i32Add, op.set(pointers[i])]);
  for (let j = 0; j < tokens; j++) start.push([op.get(X), op.get(shared.token), op.i32(j), op.i32Add, op.get(X_STRIDE), op.i32Mul, op.i32Add, op.set(xPointers[j])]);
  for (const row of accumulators) for (const accumulator of row) start.push([op.v128Zero, op.set(accumulator)]);
  for (const row of minAccumulators) for (const accumulator of row) start.push([op.f32(0), op.set(accumulator)]);
  start.push([op.i32(0), op.set(shared.column)]);

  const quantsOf = (j: number, offset: number): Code => [op.get(xPointers[j]), op.v128Load(offset)];
  const block: Code[] = [];
  for (let i = 0; i < rows; i++) {
    const decoder = decoders[i];
    block.push(decoder.prepare(pointers[i]));
    for (let s = 0; s < subBlockCount; s++) {
      for (let g = s * format.subBlockGroups; g < (s + 1) * format.subBlockGroups; g++) {
        block.push([decoder.group(pointers[i], g), op.set(weights)]);
        block.push([op.get(weights), op.i16x8ExtendLowI8x16Signed, op.set(low), op.get(weights), op.i16x8ExtendHighI8x16Signed, op.set(high)]);
        for (let j = 0; j < tokens; j++) {
          const products = [op.get(low), quantsOf(j, 32 * g), integerOp.i32x4DotI16x8Signed, op.get(high), quantsOf(j, 32 * g + 16), integerOp.i32x4DotI16x8Signed, op.i32x4Add];
          const first = g === s * format.subBlockGroups;
          block.push(first ? [products, op.set(subBlockSums[j])] : [op.get(subBlockSums[j]), products, op.i32x4Add, op.set(subBlockSums[j])]);
        }
      }
      if (format.subBlockScaled) {
        block.push([decoder.subBlockScale!(pointers[i], s), op.i32x4Splat, op.set(subScale)]);
        for (let j = 0; j < tokens; j++) {
          const scaled = [op.get(subBlockSums[j]), op.get(subScale), integerOp.i32x4Mul];
          block.push(s === 0 ? [scaled, op.set(blockSums[j])] : [op.get(blockSums[j]), scaled, op.i32x4Add, op.set(blockSums[j])]);
        }
      }
      if (format.hasMins) {
        block.push([decoder.subBlockMin!(pointers[i], s), op.set(subMin)]);
        for (let j = 0; j < tokens; j++) {
          const scaled = [op.get(subMin), op.get(xPointers[j]), op.i32Load(activationSumsOffset + 4 * s), op.i32Mul];
          block.push(s === 0 ? [scaled, op.set(minSums[j])] : [op.get(minSums[j]), scaled, op.i32Add, op.set(minSums[j])]);
        }
      }
    }
    block.push([decoder.blockScale(pointers[i]), op.set(blockScale)]);
    if (format.hasMins) block.push([decoder.blockMinScale!(pointers[i]), op.set(minScale)]);
    for (let j = 0; j < tokens; j++) {
      const xScale = [op.get(xPointers[j]), op.f32Load(activationScaleOffset[kind])];
      block.push([op.get(accumulators[i][j]), op.get(blockSums[j]), op.f32x4ConvertI32x4Signed, op.get(blockScale), xScale, op.f32Mul, op.f32x4Splat, op.f32x4Mul, op.f32x4Add, op.set(accumulators[i][j])]);
      if (format.hasMins) {
        block.push([op.get(minAccumulators[i][j]), op.get(minSums[j]), op.f32ConvertI32Signed, op.get(minScale), xScale, op.f32Mul, op.f32Mul, op.f32Add, op.set(minAccumulators[i][j])]);
      }
    }
  }
  const advance: Code = [
    pointers.map((pointer) => [op.get(pointer), op.i32(format.blockBytes), op.i32Add, op.set(pointer)]),
    xPointers.map((pointer) => [op.get(pointer), op.i32(activationBlockBytes[kind]), op.i32Add, op.set(pointer)]),
    [op.get(shared.column), op.i32(format.blockElements), op.i32Add, op.set(shared.column)],
  ];
  const loop = op.whileLoop([op.get(shared.column), op.get(COLS), op.i32LessThanUnsigned], block, advance);

  const stores: Code[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < tokens; j++) {
      const address = [op.get(OUT), op.get(shared.token), op.i32(j), op.i32Add, op.get(OUT_STRIDE), op.i32Mul, op.i32Add, op.get(shared.row), op.i32(i), op.i32Add, op.i32(2), op.i32ShiftLeft, op.i32Add];
      const mins = format.hasMins ? [op.get(minAccumulators[i][j]), op.f32Subtract] : [];
      stores.push([address, laneSum(accumulators[i][j]), mins, op.f32Store(0)]);
    }
  }
  return [start, loop, stores];
}

/** All tokens for the rows of one row tile: tiles of `tokenTile`, then one at a time. */
function rowsBody(shared: Shared, rows: number, tokenTile: number): Code {
  return tokenTileLoops(shared.token, tokenTile, (tile) => tileBody(shared, rows, tile));
}

/** The integer kernel of one format, tiled `rowTile` rows by `tokenTile` tokens. */
export function integerKernel(format: IntegerWeightFormat, rowTile: number, tokenTile: number): DotKernel {
  const locals = new LocalAllocator(dotKernelParameterCount);
  const shared: Shared = { format, locals, row: locals.i32(), token: locals.i32(), column: locals.i32() };
  const { row } = shared;
  const body: Code[] = [[op.get(ROW_BEGIN), op.set(row)]];
  if (rowTile > 1) {
    body.push(op.whileLoop([op.get(row), op.i32(rowTile), op.i32Add, op.get(ROW_END), op.i32LessOrEqualUnsigned], rowsBody(shared, rowTile, tokenTile), [op.get(row), op.i32(rowTile), op.i32Add, op.set(row)]));
  }
  body.push(op.whileLoop([op.get(row), op.get(ROW_END), op.i32LessThanUnsigned], rowsBody(shared, 1, tokenTile), [op.get(row), op.i32(1), op.i32Add, op.set(row)]));
  return { parameterCount: dotKernelParameterCount, locals: locals.declarations(), body: [locals.constantInitializers(), body] };
}
