/**
 * The numeric kernels of inference. Everything here works in place on preallocated
 * typed arrays; the forward pass in ../inference-session.ts strings them together.
 */
export { halfBitsToNumber, halfToFloatTable } from './f16.js';
export { type ActivationKind, type QuantizedActivations, activationBlockSize, nearestEven, quantizeActivations, quantizedActivations } from './activations.js';
export { type ByteBlockType, type KernelMatrix, type KernelType, activationKinds, isKernelType, kernelTypes, matrixProblem, prepareMatrix, q8BlockBytes, q8BlockSize, rowBytesOf } from './matrix.js';
export { matVec, rowToFloat32 } from './mat-vec.js';
export { type HeadSlice, addInPlace, applyRope, attendHead, attentionScale, rmsNorm, ropeAngles, ropeThetaScale, softmaxInPlace, swiGlu } from './vector.js';
