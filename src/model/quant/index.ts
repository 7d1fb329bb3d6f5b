/**
 * Tensor formats: how numbers become the bytes of F32, F16, Q8_0, Q4_0, Q5_0, Q4_K and
 * Q6_K tensors and back, and the checks a loader runs on tensor bytes. The kernels that
 * compute with these bytes live in src/model/kernels; this folder only defines the formats
 * (and exports the per-block decoders the kernels reuse for row lookups).
 */
export { f16IsNonFinite, f16ToF32, f16ToF32Table, f32BitsToF16, f32ToF16 } from './f16.js';
export { dequantizeQ8_0, q8_0BlockBytes, q8_0BlockSize, quantizeQ8_0 } from './q8-0.js';
export { dequantizeQ4_0, dequantizeQ4_0Block, q4_0BlockBytes, q4_0BlockSize, quantizeQ4_0 } from './q4-0.js';
export { dequantizeQ5_0, dequantizeQ5_0Block, q5_0BlockBytes, q5_0BlockSize, quantizeQ5_0 } from './q5-0.js';
export { dequantizeQ4_K, dequantizeQ4_KBlock, q4KBlockBytes, q4KBlockSize, q4KSubMin, q4KSubScale, quantizeQ4_K } from './q4-k.js';
export { dequantizeQ6_K, dequantizeQ6_KBlock, q6KBlockBytes, q6KBlockSize, quantizeQ6_K } from './q6-k.js';
export { type BlockTensorType, blockTensorTypes, isBlockTensorType } from './block-types.js';
export { dequantizeTensor, isSupportedTensorType, quantizeTensor, supportedTensorTypes, validateTensorData } from './tensor-data.js';
export { QuantizeInputError, QuantizeRequestError, UnsupportedTensorTypeError } from './errors.js';
