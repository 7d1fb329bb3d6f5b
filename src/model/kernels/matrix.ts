/**
 * Weight matrices as the kernels see them: the raw GGUF bytes of a (rows, cols) matrix
 * with typed-array views made once, so that a matrix-vector product allocates nothing.
 *
 * Supported storage types:
 *   F32  — cols little-endian float32 per row;
 *   F16  — cols little-endian IEEE halves per row;
 *   Q8_0 — cols / 32 blocks per row, each 34 bytes: a little-endian half scale d, then
 *          32 int8 quants q; element value = d * q;
 *   Q4_0, Q5_0 (blocks of 32), Q4_K, Q6_K (super-blocks of 256) — cols / blockSize blocks
 *          per row in ggml's layouts, which src/model/quant/q4-0.ts, q5-0.ts, q4-k.ts and
 *          q6-k.ts describe byte by byte. A row is always a whole number of blocks.
 */
import type { GgmlType } from '../gguf/types.js';
import { ggmlBlockLayout } from '../gguf/types.js';
import type { ActivationKind } from './activations.js';

/** The tensor types the kernels can multiply. */
export const kernelTypes = ['F32', 'F16', 'Q8_0', 'Q4_0', 'Q5_0', 'Q4_K', 'Q6_K'] as const;
export type KernelType = (typeof kernelTypes)[number];

/** The types whose matrices the kernels read straight from their bytes, block by block. */
export type ByteBlockType = 'Q4_0' | 'Q5_0' | 'Q4_K' | 'Q6_K';

/** Elements per Q8_0 block, and bytes per block (a 2-byte scale then one byte per element). */
export const q8BlockSize = 32;
export const q8BlockBytes = 34;

export type KernelMatrix =
  | { readonly type: 'F32'; readonly rows: number; readonly cols: number; readonly values: Float32Array }
  | { readonly type: 'F16'; readonly rows: number; readonly cols: number; readonly halves: Uint16Array }
  | {
      readonly type: 'Q8_0';
      readonly rows: number;
      readonly cols: number;
      /** The same bytes seen as halves: block b's scale is halves[b * 17]. */
      readonly halves: Uint16Array;
      /** The same bytes seen as int8: block b's quants start at quants[b * 34 + 2]. */
      readonly quants: Int8Array;
    }
  | { readonly type: ByteBlockType; readonly rows: number; readonly cols: number; readonly bytes: Uint8Array };

/**
 * The activations each weight type is multiplied with, as in llama.cpp's CPU backend
 * (the vec_dot_type of ggml-cpu's type traits): float32 for F32 and F16 weights (llama.cpp
 * rounds F16's activations to halves; nines does not), Q8_0 blocks for Q8_0, Q4_0 and
 * Q5_0, Q8_K blocks for the K-quants. See activations.ts.
 */
export const activationKinds: Record<KernelType, ActivationKind> = {
  F32: 'F32',
  F16: 'F32',
  Q8_0: 'Q8_0',
  Q4_0: 'Q8_0',
  Q5_0: 'Q8_0',
  Q4_K: 'Q8_K',
  Q6_K: 'Q8_K',
};

// Typed-array views read in the machine's byte order, and GGUF is little-endian.
const machineIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function isKernelType(type: GgmlType): type is KernelType {
  return (kernelTypes as readonly string[]).includes(type);
}

/** Bytes one row of `cols` elements of `type` occupies. */
export function rowBytesOf(type: KernelType, cols: number): number {
  const layout = ggmlBlockLayout[type];
  return (cols / layout.blockSize) * layout.blockBytes;
}

/** Why `data` cannot be a (rows, cols) matrix of `type`, or undefined when it can. */
export function matrixProblem(type: GgmlType, rows: number, cols: number, data: Uint8Array): string | undefined {
  if (!isKernelType(type)) return `tensor type ${type} is not supported (supported: ${kernelTypes.join(', ')})`;
  if (!Number.isInteger(rows) || rows <= 0 || !Number.isInteger(cols) || cols <= 0) return `shape (${rows}, ${cols}) is not a positive integer shape`;
  const { blockSize } = ggmlBlockLayout[type];
  if (cols % blockSize !== 0) return `a ${type} row must be a whole number of ${blockSize}-element blocks, but rows have ${cols} elements`;
  const expectedBytes = rows * rowBytesOf(type, cols);
  if (data.byteLength !== expectedBytes) return `expected ${expectedBytes} bytes for ${type} (${rows}, ${cols}), got ${data.byteLength}`;
  return undefined;
}

/**
 * Wraps the raw bytes of a (rows, cols) matrix. The bytes are shared, not copied, unless
 * they are not aligned to the element size (a GGUF tensor is aligned within the file, but
 * a caller may hand in any slice); then they are copied once, here.
 */
export function prepareMatrix(type: GgmlType, rows: number, cols: number, data: Uint8Array): KernelMatrix {
  if (!machineIsLittleEndian) throw new Error('nines reads GGUF weights through typed arrays, which needs a little-endian machine');
  const problem = matrixProblem(type, rows, cols, data);
  if (problem !== undefined) throw new RangeError(problem);
  // Byte-block types are read a byte at a time, so any offset will do.
  const alignment = type === 'F32' ? 4 : type === 'F16' || type === 'Q8_0' ? 2 : 1;
  const bytes = data.byteOffset % alignment === 0 ? data : data.slice();
  switch (type as KernelType) {
    case 'F32':
      return { type: 'F32', rows, cols, values: new Float32Array(bytes.buffer, bytes.byteOffset, rows * cols) };
    case 'F16':
      return { type: 'F16', rows, cols, halves: new Uint16Array(bytes.buffer, bytes.byteOffset, rows * cols) };
    case 'Q8_0':
      return {
        type: 'Q8_0',
        rows,
        cols,
        halves: new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2),
        quants: new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      };
    case 'Q4_0':
    case 'Q5_0':
    case 'Q4_K':
    case 'Q6_K':
      return { type: type as ByteBlockType, rows, cols, bytes };
  }
}
