/**
 * The tensor formats the WebAssembly kernels read, by GGML type name. F32 and F16 go
 * through the float kernel (dot-kernel.ts, formats in simple-formats.ts; format-types.ts
 * says what such a format provides); the quantized types through the integer kernel
 * (integer-kernel.ts, formats in integer-formats.ts), with quantized activations.
 */
import type { WeightFormat } from './format-types.js';
import { f16Format, f32Format } from './simple-formats.js';
import { type IntegerWeightFormat, q4KIntegerFormat, q4_0IntegerFormat, q5_0IntegerFormat, q6KIntegerFormat, q8_0IntegerFormat } from './integer-formats.js';

export { type RowDecoder, type WeightFormat, halfTableAddress, halfTableBytes } from './format-types.js';

/** The tensor types with a WebAssembly kernel. */
export const wasmFormats = {
  F32: f32Format,
  F16: f16Format,
  Q8_0: q8_0IntegerFormat,
  Q4_0: q4_0IntegerFormat,
  Q5_0: q5_0IntegerFormat,
  Q4_K: q4KIntegerFormat,
  Q6_K: q6KIntegerFormat,
} as const satisfies Record<string, WeightFormat | IntegerWeightFormat>;

export type WasmKernelType = keyof typeof wasmFormats;

export function hasWasmKernel(type: string): type is WasmKernelType {
  return Object.hasOwn(wasmFormats, type);
}

/** Whether `format` is read by the integer kernel (and so multiplies quantized activations). */
export function isIntegerFormat(format: WeightFormat | IntegerWeightFormat): format is IntegerWeightFormat {
  return 'activation' in format;
}
