/**
 * GGUF value and tensor types (GGUF v3, as specified in ggml's docs/gguf.md).
 * This file is the contract between the reader, the writer and everything that
 * builds or reads metadata (tokenizer, transformer, trainer).
 */

/** Metadata value types, with their on-disk codes. */
export const ggufValueTypeCodes = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type GgufValueType = keyof typeof ggufValueTypeCodes;
export type GgufNumberType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';
export type GgufBigIntType = 'uint64' | 'int64';

export type GgufArray =
  | { type: 'array'; itemType: GgufNumberType; values: number[] }
  | { type: 'array'; itemType: GgufBigIntType; values: bigint[] }
  | { type: 'array'; itemType: 'bool'; values: boolean[] }
  | { type: 'array'; itemType: 'string'; values: string[] }
  | { type: 'array'; itemType: 'array'; values: GgufArray[] };

export type GgufValue =
  | { type: GgufNumberType; value: number }
  | { type: GgufBigIntType; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | GgufArray;

/** ggml tensor types, with their on-disk codes. Only some are supported for reading/computing; see gguf/index.ts. */
export const ggmlTypeCodes = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  BF16: 30,
} as const;

export type GgmlType = keyof typeof ggmlTypeCodes;

/** Block geometry of each type: `blockSize` elements take `blockBytes` bytes. */
export const ggmlBlockLayout: Record<GgmlType, { blockSize: number; blockBytes: number }> = {
  F32: { blockSize: 1, blockBytes: 4 },
  F16: { blockSize: 1, blockBytes: 2 },
  BF16: { blockSize: 1, blockBytes: 2 },
  Q4_0: { blockSize: 32, blockBytes: 18 }, // f16 d, 16 bytes of nibbles
  Q4_1: { blockSize: 32, blockBytes: 20 }, // f16 d, f16 m, 16 bytes of nibbles
  Q5_0: { blockSize: 32, blockBytes: 22 }, // f16 d, 4 bytes of high bits, 16 bytes of nibbles
  Q5_1: { blockSize: 32, blockBytes: 24 },
  Q8_0: { blockSize: 32, blockBytes: 34 }, // f16 d, 32 x int8
  Q8_1: { blockSize: 32, blockBytes: 36 },
  Q2_K: { blockSize: 256, blockBytes: 84 },
  Q3_K: { blockSize: 256, blockBytes: 110 },
  Q4_K: { blockSize: 256, blockBytes: 144 }, // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
  Q5_K: { blockSize: 256, blockBytes: 176 },
  Q6_K: { blockSize: 256, blockBytes: 210 }, // 128 bytes low nibbles, 64 bytes high 2-bits, 16 int8 scales, f16 d
  Q8_K: { blockSize: 256, blockBytes: 292 },
};

/** A tensor as described in a GGUF header. */
export interface GgufTensorInfo {
  name: string;
  /** Dimensions, innermost (fastest-varying) first, as GGUF stores them. */
  dims: number[];
  type: GgmlType;
  /** Offset of the tensor's bytes from the start of the data section (a multiple of the alignment). */
  offset: number;
  /** Number of bytes the tensor occupies: elements / blockSize * blockBytes. */
  byteLength: number;
}
