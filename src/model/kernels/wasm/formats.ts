/**
 * The tensor formats the WebAssembly kernels read, by GGML type name. Each format's
 * instructions live beside it: simple-formats.ts (F32, F16, Q8_0), legacy-formats.ts
 * (Q4_0, Q5_0) and k-formats.ts (Q4_K, Q6_K); format-types.ts says what a format provides.
 */
import type { WeightFormat } from './format-types.js';
import { f16Format, f32Format, q8_0Format } from './simple-formats.js';
import { q4_0Format, q5_0Format } from './legacy-formats.js';
import { q4KFormat, q6KFormat } from './k-formats.js';

export { type RowDecoder, type WeightFormat, halfTableAddress, halfTableBytes } from './format-types.js';

/** The tensor types with a WebAssembly kernel. */
export const wasmFormats = {
  F32: f32Format,
  F16: f16Format,
  Q8_0: q8_0Format,
  Q4_0: q4_0Format,
  Q5_0: q5_0Format,
  Q4_K: q4KFormat,
  Q6_K: q6KFormat,
} as const satisfies Record<string, WeightFormat>;

export type WasmKernelType = keyof typeof wasmFormats;

export function hasWasmKernel(type: string): type is WasmKernelType {
  return Object.hasOwn(wasmFormats, type);
}
