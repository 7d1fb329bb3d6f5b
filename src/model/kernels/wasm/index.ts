/**
 * The inference kernels in WebAssembly SIMD, assembled from TypeScript when first used:
 * matrix-vector and matrix-matrix products over F32, F16, Q8_0, Q4_0, Q5_0, Q4_K and Q6_K
 * weights, decoded on the fly (the quantized ones multiplied in integers with quantized activations), in a shared memory that worker threads compute in too.
 */
export { type RowDecoder, type WasmKernelType, type WeightFormat, halfTableAddress, halfTableBytes, hasWasmKernel, isIntegerFormat, wasmFormats } from './formats.js';
export { type IntegerWeightFormat } from './integer-formats.js';
export { activationBlockBytes, activationRowBytes, activationScaleOffset, activationSumsOffset } from './quantize-kernel.js';
export { type DotKernel, dotKernel, dotKernelParameterCount } from './dot-kernel.js';
export { columnsKernel } from './columns-kernel.js';
export { batchTokenTile, columnsKernelIndex, inferenceModule, inferenceModuleBytes, instantiateKernels, kernelExportName, kernelFunctions, kernelIndex, quantizeKernelIndex, vectorRowTile, wasmKernelsAvailable } from './module.js';
export { KernelMemory, KernelMemoryError, allocationAlignmentBytes, controlBlockAddress, controlBlockBytes, kernelMemoryBytesMax } from './kernel-memory.js';
