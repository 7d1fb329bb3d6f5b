/**
 * The values pass of attention as a kernel: out[i] = sum over t < cols of x[t] * W[t][i],
 * for the outputs i in [rowBegin, rowEnd) of float32 rows `rowBytes` apart. That is the
 * product with the transpose of W, read in W's own row order: the weighted sum of cached
 * value rows, weighted by the attention probabilities.
 *
 * It takes the dot kernel's parameters (tokens and the strides are unused), so that the
 * control block carries it like any product, with its "rows" (the outputs) cut into
 * chunks for the threads. Each output sums its terms one by one in the order of t, in
 * float32, the same whether a lane of four or the scalar tail computes it, so the result
 * does not depend on how the outputs were split.
 */
import { type Code, LocalAllocator, op } from '../../wasm/assembler.js';
import { type DotKernel, dotKernelParameterCount } from './dot-kernel.js';

const [OUT, WEIGHTS, X, ROW_BEGIN, ROW_END, COLS, ROW_BYTES] = [0, 1, 2, 3, 4, 5, 6];

/** Outputs [i, i + 4 * vectors) as `vectors` f32x4 accumulators, or one scalar output when vectors is 0. */
function outputsBody(locals: LocalAllocator, output: number, vectors: number): Code {
  const [pointer, xPointer, t] = [locals.i32(), locals.i32(), locals.i32()];
  const accumulators = Array.from({ length: Math.max(1, vectors) }, () => (vectors === 0 ? locals.f32() : locals.v128()));
  const weight = vectors === 0 ? locals.f32() : locals.v128();
  const step: Code[] = [];
  if (vectors === 0) {
    step.push([op.get(xPointer), op.f32Load(0), op.set(weight)]);
    step.push([op.get(accumulators[0]), op.get(weight), op.get(pointer), op.f32Load(0), op.f32Mul, op.f32Add, op.set(accumulators[0])]);
  } else {
    step.push([op.get(xPointer), op.v128Load32Splat(0), op.set(weight)]);
    accumulators.forEach((accumulator, c) => step.push([op.get(accumulator), op.get(weight), op.get(pointer), op.v128Load(16 * c), op.f32x4Mul, op.f32x4Add, op.set(accumulator)]));
  }
  const outputAddress = [op.get(OUT), op.get(output), op.i32(2), op.i32ShiftLeft, op.i32Add];
  const stores = vectors === 0 ? [outputAddress, op.get(accumulators[0]), op.f32Store(0)] : accumulators.map((accumulator, c) => [outputAddress, op.get(accumulator), op.v128Store(16 * c)]);
  return [
    accumulators.map((accumulator) => [vectors === 0 ? op.f32(0) : op.v128Zero, op.set(accumulator)]),
    [op.get(WEIGHTS), op.get(output), op.i32(2), op.i32ShiftLeft, op.i32Add, op.set(pointer), op.get(X), op.set(xPointer), op.i32(0), op.set(t)],
    op.whileLoop([op.get(t), op.get(COLS), op.i32LessThanUnsigned], step, [op.get(pointer), op.get(ROW_BYTES), op.i32Add, op.set(pointer), op.get(xPointer), op.i32(4), op.i32Add, op.set(xPointer), op.get(t), op.i32(1), op.i32Add, op.set(t)]),
    stores,
  ];
}

export function columnsKernel(): DotKernel {
  const locals = new LocalAllocator(dotKernelParameterCount);
  const output = locals.i32();
  const loopOver = (width: number, vectors: number): Code =>
    op.whileLoop([op.get(output), op.i32(width), op.i32Add, op.get(ROW_END), op.i32LessOrEqualUnsigned], outputsBody(locals, output, vectors), [op.get(output), op.i32(width), op.i32Add, op.set(output)]);
  const body: Code = [[op.get(ROW_BEGIN), op.set(output)], loopOver(16, 4), loopOver(4, 1), loopOver(1, 0)];
  return { parameterCount: dotKernelParameterCount, locals: locals.declarations(), body };
}
