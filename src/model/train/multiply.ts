/**
 * The matrix products of training, where nearly all of its time goes, behind one
 * interface so that the passes are written once and run either on the WebAssembly SIMD
 * kernel (simd-kernel.ts: Float32Array buffers inside its memory) or on the plain
 * TypeScript loops here (Float64Array buffers for the gradient check, and the odd
 * columns the kernel leaves over).
 *
 * One shape covers every product: c (rows, cols) = [c +] a (rows, inner) · b (inner, cols),
 * each matrix given as (array, offset, row stride, column stride) in elements, so that a
 * head's slice of a wider row can be multiplied where it lies, and a transpose is only
 * a swap of strides, never a copy.
 */
import type { FloatArray } from './parameters.js';

export interface MatrixOperand {
  array: FloatArray;
  /** Index of element (0, 0). */
  offset: number;
  /** Elements from one row to the next. */
  rowStride: number;
  /** Elements from one column to the next: 1 for a matrix stored by rows, the stored row length for a transposed view. */
  colStride: number;
}

export interface MatrixMultiplier {
  /** c (rows, cols) = a (rows, inner) · b (inner, cols), or c += that product when `accumulate`. c's columns must be adjacent. */
  multiply(c: MatrixOperand, a: MatrixOperand, b: MatrixOperand, rows: number, cols: number, inner: number, accumulate: boolean): void;
}

/** A matrix stored by rows, `stride` elements apart, starting at `offset`. */
export function byRows(array: FloatArray, offset: number, stride: number): MatrixOperand {
  return { array, offset, rowStride: stride, colStride: 1 };
}

/** The transpose of a matrix stored by rows `stride` elements apart: its rows are the stored columns. No copy is made. */
export function transposed(array: FloatArray, offset: number, stride: number): MatrixOperand {
  return { array, offset, rowStride: 1, colStride: stride };
}

/**
 * The TypeScript product, for Float64Array buffers and for what the SIMD kernel leaves
 * over. The loop order (row of c, then k, then the columns) makes the innermost loop run
 * along a row of c, contiguous, and along a row of b, contiguous unless b is a transposed
 * view; it is unrolled by four.
 */
export function multiplyPlain(c: MatrixOperand, a: MatrixOperand, b: MatrixOperand, rows: number, cols: number, inner: number, accumulate: boolean): void {
  const cArray = c.array;
  const aArray = a.array;
  const bArray = b.array;
  const bColStride = b.colStride;
  const colsUnrolled = cols - (cols % 4);
  for (let row = 0; row < rows; row++) {
    const cRow = c.offset + row * c.rowStride;
    if (!accumulate) cArray.fill(0, cRow, cRow + cols);
    const aRow = a.offset + row * a.rowStride;
    for (let k = 0; k < inner; k++) {
      const x = aArray[aRow + k * a.colStride];
      const bRow = b.offset + k * b.rowStride;
      let col = 0;
      for (; col < colsUnrolled; col += 4) {
        cArray[cRow + col] += x * bArray[bRow + col * bColStride];
        cArray[cRow + col + 1] += x * bArray[bRow + (col + 1) * bColStride];
        cArray[cRow + col + 2] += x * bArray[bRow + (col + 2) * bColStride];
        cArray[cRow + col + 3] += x * bArray[bRow + (col + 3) * bColStride];
      }
      for (; col < cols; col++) cArray[cRow + col] += x * bArray[bRow + col * bColStride];
    }
  }
}

export const plainMultiplier: MatrixMultiplier = { multiply: multiplyPlain };

/** A linear layer y (n, out) = x (n, in) · W^T, with W stored (out, in) as GGUF has it. */
export function linearForward(
  multiplier: MatrixMultiplier,
  out: FloatArray, // (n, outDim)
  input: FloatArray, // (n, inDim)
  weight: FloatArray, // (outDim, inDim)
  n: number,
  outDim: number,
  inDim: number,
): void {
  multiplier.multiply(byRows(out, 0, outDim), byRows(input, 0, inDim), transposed(weight, 0, inDim), n, outDim, inDim, false);
}

/**
 * The backward pass of a linear layer: dW (out, in) = dY^T · x, which overwrites the
 * weight's gradient, and dX (n, in) = dY · W, which overwrites inputGradient unless it is
 * undefined (the input needs no gradient).
 */
export function linearBackward(
  multiplier: MatrixMultiplier,
  weightGradient: FloatArray, // (outDim, inDim)
  inputGradient: FloatArray | undefined, // (n, inDim)
  outGradient: FloatArray, // (n, outDim)
  input: FloatArray, // (n, inDim)
  weight: FloatArray, // (outDim, inDim)
  n: number,
  outDim: number,
  inDim: number,
): void {
  multiplier.multiply(byRows(weightGradient, 0, inDim), transposed(outGradient, 0, outDim), byRows(input, 0, inDim), outDim, inDim, n, false);
  if (inputGradient === undefined) return;
  multiplier.multiply(byRows(inputGradient, 0, inDim), byRows(outGradient, 0, outDim), byRows(weight, 0, inDim), n, inDim, outDim, false);
}
