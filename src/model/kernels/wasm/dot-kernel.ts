/**
 * The one kernel behind every matrix-vector and matrix-matrix product of inference,
 * written as a generator of WebAssembly: out (tokens, rows) = x (tokens, cols) · Wᵀ for
 * the rows [rowBegin, rowEnd) of a weight matrix W (rows, cols) stored in any format of
 * formats.ts, dequantized block by block into registers.
 *
 * The main loop takes `rowTile` rows and `tokenTile` tokens at a time, so that each
 * loaded x chunk can serve several rows and each dequantized weight chunk serves several
 * tokens (matrix-matrix, the prompt). Rows and tokens left over go through the same code
 * with tiles of 1.
 *
 * Determinism: every (row, token) result is computed by the same sequence of float32
 * operations whatever the tiling, the row range or the thread that runs it: one f32x4
 * accumulator takes chunk after chunk of the row in order (lane l sums elements 4i + l;
 * formats with pairedAccumulators sum the odd chunks in a second one, added to the first
 * at the end; a scaled format sums each sub-block into its own accumulator first and adds
 * it times the sub-block's scale), the last cols % 4 elements go into a scalar, and the
 * result is ((l0 + l1) + (l2 + l3)) + scalar. No fused multiply-add, so every machine
 * gives the same bits. A token's logits are therefore the same bits whether it was
 * computed alone (forward) or among others (forwardBatch), on one thread or many.
 */
import { assert } from '../../../core/assert.js';
import { type Code, LocalAllocator, op } from '../../wasm/assembler.js';
import type { WeightFormat } from './formats.js';

// Parameters (all i32; addresses and strides in bytes).
const [OUT, WEIGHTS, X, ROW_BEGIN, ROW_END, COLS, ROW_BYTES, TOKENS, OUT_STRIDE, X_STRIDE] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
export const dotKernelParameterCount = 10;

interface Shared {
  format: WeightFormat;
  locals: LocalAllocator;
  row: number;
  token: number;
  blockEnd: number;
  chunkEnd: number;
  column: number;
}

/** The sum of the four lanes of `vector`, as (l0 + l1) + (l2 + l3). */
function laneSum(vector: number): Code {
  return [
    [op.get(vector), op.f32x4ExtractLane(0), op.get(vector), op.f32x4ExtractLane(1), op.f32Add],
    [op.get(vector), op.f32x4ExtractLane(2), op.get(vector), op.f32x4ExtractLane(3), op.f32Add],
    op.f32Add,
  ];
}

/** acc += a * b, all f32x4 locals or stack code. */
function multiplyAdd(accumulator: number, a: Code, b: Code): Code {
  return [op.get(accumulator), a, b, op.f32x4Mul, op.f32x4Add, op.set(accumulator)];
}

/** The code for one tile of `rows` x `tokens` at (row, token): all of cols, then the stores. */
function tileBody(shared: Shared, rows: number, tokens: number): Code {
  const { format, locals } = shared;
  const pointers = Array.from({ length: rows }, () => locals.i32());
  const xPointers = Array.from({ length: tokens }, () => locals.i32());
  const accumulators = Array.from({ length: rows }, () => Array.from({ length: tokens }, () => locals.v128()));
  const blockAccumulators = format.scaled ? Array.from({ length: rows }, () => Array.from({ length: tokens }, () => locals.v128())) : accumulators;
  // A second accumulator for the odd chunks of a block halves the chain of dependent adds (see WeightFormat.pairedAccumulators).
  assert(!(format.scaled && format.pairedAccumulators === true), 'paired accumulators are for unscaled formats');
  const oddAccumulators = format.pairedAccumulators === true ? Array.from({ length: rows }, () => Array.from({ length: tokens }, () => locals.v128())) : blockAccumulators;
  const tails = format.elementBytes !== undefined ? Array.from({ length: rows }, () => Array.from({ length: tokens }, () => locals.f32())) : [];
  const decoders = Array.from({ length: rows }, () => format.rowDecoder(locals));
  const weight = locals.v128();
  const scale = locals.v128();
  const start: Code[] = [];
  for (let i = 0; i < rows; i++) start.push([op.get(WEIGHTS), op.get(shared.row), op.i32(i), op.i32Add, op.get(ROW_BYTES), op.i32Mul, op.i32Add, op.set(pointers[i])]);
  for (let j = 0; j < tokens; j++) start.push([op.get(X), op.get(shared.token), op.i32(j), op.i32Add, op.get(X_STRIDE), op.i32Mul, op.i32Add, op.set(xPointers[j])]);
  for (const row of accumulators) for (const accumulator of row) start.push([op.v128Zero, op.set(accumulator)]);
  if (oddAccumulators !== blockAccumulators) for (const row of oddAccumulators) for (const accumulator of row) start.push([op.v128Zero, op.set(accumulator)]);
  for (const row of tails) for (const tail of row) start.push([op.f32(0), op.set(tail)]);
  start.push([op.i32(0), op.set(shared.column)]);

  const block: Code[] = [];
  const subBlockChunks = format.subBlockChunks ?? format.blockElements / 4;
  for (let i = 0; i < rows; i++) {
    const decoder = decoders[i];
    block.push(decoder.prepare(pointers[i]));
    for (let subBlock = 0; subBlock < format.blockElements / 4 / subBlockChunks; subBlock++) {
      block.push(decoder.prepareSubBlock?.(pointers[i], subBlock) ?? []);
      if (format.scaled) for (const accumulator of blockAccumulators[i]) block.push([op.v128Zero, op.set(accumulator)]);
      for (let k = subBlock * subBlockChunks; k < (subBlock + 1) * subBlockChunks; k++) {
        block.push([decoder.chunk(pointers[i], k), op.set(weight)]);
        const target = k % 2 === 0 ? blockAccumulators : oddAccumulators;
        for (let j = 0; j < tokens; j++) block.push(multiplyAdd(target[i][j], op.get(weight), [op.get(xPointers[j]), op.v128Load(16 * k)]));
      }
      if (format.scaled) {
        block.push([decoder.scale!(pointers[i], subBlock), op.f32x4Splat, op.set(scale)]);
        for (let j = 0; j < tokens; j++) block.push(multiplyAdd(accumulators[i][j], op.get(blockAccumulators[i][j]), op.get(scale)));
      }
    }
  }
  const advance = (weightBytes: number, elements: number): Code => [
    pointers.map((pointer) => [op.get(pointer), op.i32(weightBytes), op.i32Add, op.set(pointer)]),
    xPointers.map((pointer) => [op.get(pointer), op.i32(4 * elements), op.i32Add, op.set(pointer)]),
    [op.get(shared.column), op.i32(elements), op.i32Add, op.set(shared.column)],
  ];
  const loops: Code[] = [op.whileLoop([op.get(shared.column), op.get(shared.blockEnd), op.i32LessThanUnsigned], block, advance(format.blockBytes, format.blockElements))];

  if (format.elementBytes !== undefined) {
    const chunkStep: Code[] = [];
    const elementStep: Code[] = [];
    for (let i = 0; i < rows; i++) {
      chunkStep.push([decoders[i].tailChunk!(pointers[i]), op.set(weight)]);
      for (let j = 0; j < tokens; j++) chunkStep.push(multiplyAdd(accumulators[i][j], op.get(weight), [op.get(xPointers[j]), op.v128Load(0)]));
      for (let j = 0; j < tokens; j++) {
        elementStep.push([op.get(tails[i][j]), decoders[i].tailElement!(pointers[i]), op.get(xPointers[j]), op.f32Load(0), op.f32Mul, op.f32Add, op.set(tails[i][j])]);
      }
    }
    loops.push(op.whileLoop([op.get(shared.column), op.get(shared.chunkEnd), op.i32LessThanUnsigned], chunkStep, advance(4 * format.elementBytes, 4)));
    loops.push(op.whileLoop([op.get(shared.column), op.get(COLS), op.i32LessThanUnsigned], elementStep, advance(format.elementBytes, 1)));
  }

  const stores: Code[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < tokens; j++) {
      const address = [op.get(OUT), op.get(shared.token), op.i32(j), op.i32Add, op.get(OUT_STRIDE), op.i32Mul, op.i32Add, op.get(shared.row), op.i32(i), op.i32Add, op.i32(2), op.i32ShiftLeft, op.i32Add];
      const tail = format.elementBytes !== undefined ? [op.get(tails[i][j]), op.f32Add] : [];
      const pair = oddAccumulators !== blockAccumulators ? [op.get(accumulators[i][j]), op.get(oddAccumulators[i][j]), op.f32x4Add, op.set(accumulators[i][j])] : [];
      stores.push([pair, address, laneSum(accumulators[i][j]), tail, op.f32Store(0)]);
    }
  }
  return [start, loops, stores];
}

/** All tokens for the rows of one row tile: tiles of `tokenTile`, then one at a time. */
function rowsBody(shared: Shared, rows: number, tokenTile: number): Code {
  return tokenTileLoops(shared.token, tokenTile, (tile) => tileBody(shared, rows, tile));
}

/**
 * Loops the `token` local over the product's TOKENS parameter: whole tiles of `tokenTile`
 * tokens through `body(tokenTile)`, then the rest one at a time through `body(1)`. Every
 * dot kernel (float and integer) walks its tokens this way.
 */
export function tokenTileLoops(token: number, tokenTile: number, body: (tile: number) => Code): Code {
  const tokenLoops: Code[] = [[op.i32(0), op.set(token)]];
  if (tokenTile > 1) {
    tokenLoops.push(op.whileLoop([op.get(token), op.i32(tokenTile), op.i32Add, op.get(TOKENS), op.i32LessOrEqualUnsigned], body(tokenTile), [op.get(token), op.i32(tokenTile), op.i32Add, op.set(token)]));
  }
  tokenLoops.push(op.whileLoop([op.get(token), op.get(TOKENS), op.i32LessThanUnsigned], body(1), [op.get(token), op.i32(1), op.i32Add, op.set(token)]));
  return tokenLoops;
}

export interface DotKernel {
  parameterCount: number;
  locals: Array<[number, number]>;
  body: Code;
}

/**
 * The kernel for one format, as a function of (out, weights, x, rowBegin, rowEnd, cols,
 * rowBytes, tokens, outStride, xStride): out + t * outStride + 4r receives row r's dot
 * product with the x row at x + t * xStride.
 */
export function dotKernel(format: WeightFormat, rowTile: number, tokenTile: number): DotKernel {
  const locals = new LocalAllocator(dotKernelParameterCount);
  const shared: Shared = { format, locals, row: locals.i32(), token: locals.i32(), blockEnd: locals.i32(), chunkEnd: locals.i32(), column: locals.i32() };
  const { row } = shared;
  const body: Code[] = [
    [op.get(COLS), op.get(COLS), op.i32(format.blockElements), op.i32RemainderUnsigned, op.i32Subtract, op.set(shared.blockEnd)],
    [op.get(COLS), op.get(COLS), op.i32(4), op.i32RemainderUnsigned, op.i32Subtract, op.set(shared.chunkEnd)],
    [op.get(ROW_BEGIN), op.set(row)],
  ];
  if (rowTile > 1) {
    body.push(op.whileLoop([op.get(row), op.i32(rowTile), op.i32Add, op.get(ROW_END), op.i32LessOrEqualUnsigned], rowsBody(shared, rowTile, tokenTile), [op.get(row), op.i32(rowTile), op.i32Add, op.set(row)]));
  }
  body.push(op.whileLoop([op.get(row), op.get(ROW_END), op.i32LessThanUnsigned], rowsBody(shared, 1, tokenTile), [op.get(row), op.i32(1), op.i32Add, op.set(row)]));
  return { parameterCount: dotKernelParameterCount, locals: locals.declarations(), body: [locals.constantInitializers(), body] };
}
