/**
 * Tensor formats: how numbers become the bytes of F32, F16 and Q8_0 tensors and back, and
 * the checks a loader runs on tensor bytes. The kernels that compute with these bytes live
 * in src/model/kernels; this folder only defines the formats.
 */
export { f16IsNonFinite, f16ToF32, f16ToF32Table, f32BitsToF16, f32ToF16 } from './f16.js';
export { dequantizeQ8_0, q8_0BlockBytes, q8_0BlockSize, quantizeQ8_0 } from './q8-0.js';
export { dequantizeTensor, isSupportedTensorType, quantizeTensor, supportedTensorTypes, validateTensorData } from './tensor-data.js';
export { QuantizeInputError, UnsupportedTensorTypeError } from './errors.js';
