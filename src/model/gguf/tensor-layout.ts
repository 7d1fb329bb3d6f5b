/**
 * Shapes, sizes and codes of ggml tensors: the arithmetic that the reader and the writer
 * share, so that what one accepts the other produces.
 */
import { tensorDimsMax } from './constants.js';
import { ggmlBlockLayout, ggmlTypeCodes, ggufValueTypeCodes, type GgmlType, type GgufValueType } from './types.js';

const ggmlTypesByCode = new Map<number, GgmlType>(Object.entries(ggmlTypeCodes).map(([name, code]) => [code, name as GgmlType]));
const valueTypesByCode = new Map<number, GgufValueType>(Object.entries(ggufValueTypeCodes).map(([name, code]) => [code, name as GgufValueType]));

/** The ggml type with this on-disk code, or undefined for a code nines does not know. */
export function ggmlTypeFromCode(code: number): GgmlType | undefined {
  return ggmlTypesByCode.get(code);
}

/** The metadata value type with this on-disk code, or undefined for an unknown code. */
export function ggufValueTypeFromCode(code: number): GgufValueType | undefined {
  return valueTypesByCode.get(code);
}

/** Every known ggml type code, for error messages ("known: F32=0, F16=1, ..."). */
export function knownGgmlTypeCodes(): string {
  return Object.entries(ggmlTypeCodes).map(([name, code]) => `${name}=${code}`).join(', ');
}

export function isGgmlType(name: string): name is GgmlType {
  return Object.hasOwn(ggmlTypeCodes, name);
}

export function isPowerOfTwo(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0 && 2 ** Math.round(Math.log2(value)) === value;
}

/** The smallest multiple of `alignment` (a power of two) that is at least `offset`. */
export function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}

/** Number of elements of a tensor with these dims (already checked by `tensorShapeProblem`). */
export function tensorElementCount(dims: readonly number[]): number {
  let count = 1;
  for (const dim of dims) count *= dim;
  return count;
}

/** Bytes a tensor of this type and element count occupies (elements must be a whole number of blocks). */
export function tensorByteLength(type: GgmlType, elementCount: number): number {
  const { blockSize, blockBytes } = ggmlBlockLayout[type];
  return (elementCount / blockSize) * blockBytes;
}

export interface ShapeProblem {
  /** Which part of the tensor description is wrong: 'dims', 'dims[2]', ... */
  field: string;
  problem: string;
}

/**
 * Why a tensor of this type cannot have these dims, or undefined when it can: there must be
 * 1 to 4 dims, each a positive integer; the element count and byte length must be exact in a
 * JavaScript number; and each row (dims[0] elements) must be a whole number of blocks, since
 * ggml quantizes rows independently.
 */
export function tensorShapeProblem(type: GgmlType, dims: readonly (number | bigint)[]): ShapeProblem | undefined {
  if (dims.length === 0 || dims.length > tensorDimsMax) {
    return { field: 'n_dims', problem: `${dims.length} dims; a tensor has 1 to ${tensorDimsMax} (tensorDimsMax)` };
  }
  let elements = 1n;
  for (let index = 0; index < dims.length; index++) {
    const dim = dims[index];
    if (typeof dim === 'number' && !Number.isSafeInteger(dim)) {
      return { field: `dims[${index}]`, problem: `${dim} is not an integer` };
    }
    const size = BigInt(dim);
    if (size < 1n) return { field: `dims[${index}]`, problem: `${size} is not a positive size; every dim must be at least 1` };
    elements *= size;
    if (elements > BigInt(Number.MAX_SAFE_INTEGER)) {
      return { field: 'dims', problem: `[${dims.join(', ')}] holds more than 2^53 - 1 elements` };
    }
  }
  const { blockSize, blockBytes } = ggmlBlockLayout[type];
  const rowLength = Number(dims[0]);
  if (rowLength % blockSize !== 0) {
    return { field: 'dims[0]', problem: `row length ${rowLength} is not a multiple of ${type}'s block size ${blockSize}` };
  }
  if ((elements / BigInt(blockSize)) * BigInt(blockBytes) > BigInt(Number.MAX_SAFE_INTEGER)) {
    return { field: 'dims', problem: `[${dims.join(', ')}] of ${type} takes more than 2^53 - 1 bytes` };
  }
  return undefined;
}
