import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { GgufFormatError } from '../../../src/model/gguf/index.js';
import {
  dequantizeTensor,
  f32ToF16,
  quantizeTensor,
  QuantizeInputError,
  UnsupportedTensorTypeError,
  validateTensorData,
} from '../../../src/model/quant/index.js';

const rng = new Rng(3);
const values = Float32Array.from({ length: 256 }, () => rng.nextGaussian());

function formatError(run: () => void): GgufFormatError {
  try {
    run();
  } catch (error) {
    if (error instanceof GgufFormatError) return error;
    throw error;
  }
  throw new Error('expected a GgufFormatError');
}

describe('quantizeTensor / dequantizeTensor', () => {
  it('F32 round-trips exactly, as little-endian bytes', () => {
    const bytes = quantizeTensor('F32', values);
    expect(bytes.length).toBe(1024);
    expect(new DataView(bytes.buffer).getFloat32(4, true)).toBe(values[1]);
    expect(dequantizeTensor('F32', bytes, 256)).toEqual(values);
  });

  it('F16 stores the nearest half of each value', () => {
    const bytes = quantizeTensor('F16', values);
    expect(bytes.length).toBe(512);
    expect(new DataView(bytes.buffer).getUint16(2, true)).toBe(f32ToF16(values[1]));
    const restored = dequantizeTensor('F16', bytes, 256);
    for (let index = 0; index < 256; index++) expect(Math.abs(restored[index] - values[index])).toBeLessThanOrEqual(Math.abs(values[index]) * 2 ** -11);
  });

  it('Q8_0 takes 34 bytes per 32 values and decodes close to the original', () => {
    const bytes = quantizeTensor('Q8_0', values);
    expect(bytes.length).toBe(8 * 34);
    const restored = dequantizeTensor('Q8_0', bytes, 256);
    for (let index = 0; index < 256; index++) expect(Math.abs(restored[index] - values[index])).toBeLessThan(0.05);
  });

  it('decodes from unaligned views without error', () => {
    const bytes = quantizeTensor('F32', values.subarray(0, 8));
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(dequantizeTensor('F32', shifted.subarray(1), 8)).toEqual(values.subarray(0, 8));
    const halves = quantizeTensor('F16', values.subarray(0, 8));
    const shiftedHalves = new Uint8Array(halves.length + 1);
    shiftedHalves.set(halves, 1);
    expect(dequantizeTensor('F16', shiftedHalves.subarray(1), 8)).toEqual(dequantizeTensor('F16', halves, 8));
  });

  it('refuses types not supported yet, naming the ones that are', () => {
    expect(() => quantizeTensor('Q4_K', values)).toThrow(UnsupportedTensorTypeError);
    expect(() => dequantizeTensor('Q4_0', new Uint8Array(18), 32)).toThrow(/Q4_0 is not supported yet; nines handles F32, F16, Q8_0/);
  });

  it('refuses non-finite values, F16 overflow, and byte lengths that do not match the count', () => {
    expect(() => quantizeTensor('F32', Float32Array.of(1, Infinity))).toThrow(/value Infinity at index 1 is not finite/);
    expect(() => quantizeTensor('F16', Float32Array.of(1, 70000))).toThrow(/70000 at index 1 is beyond f16's range/);
    expect(() => dequantizeTensor('F32', new Uint8Array(12), 4)).toThrow(QuantizeInputError);
    expect(() => dequantizeTensor('Q8_0', new Uint8Array(34), 16)).toThrow(/16 is not a whole number of 32-value blocks/);
  });
});

describe('validateTensorData', () => {
  it('accepts whatever quantizeTensor produces', () => {
    for (const type of ['F32', 'F16', 'Q8_0'] as const) validateTensorData(type, quantizeTensor(type, values), 'model.gguf', 'w');
  });

  it('refuses a Q8_0 block with an infinite or NaN scale, naming the block', () => {
    const bytes = quantizeTensor('Q8_0', values);
    bytes[3 * 34] = 0x00;
    bytes[3 * 34 + 1] = 0x7c; // +infinity
    const error = formatError(() => validateTensorData('Q8_0', bytes, 'model.gguf', 'blk.0.attn_q.weight'));
    expect(error.field).toBe("tensor 'blk.0.attn_q.weight' block 3 scale");
    expect(error.message).toBe("model.gguf: tensor 'blk.0.attn_q.weight' block 3 scale: is Infinity (elements 96 to 127); Q8_0 scales must be finite");
    bytes[3 * 34] = 0x01; // a NaN
    expect(() => validateTensorData('Q8_0', bytes, 'model.gguf', 'w')).toThrow(/block 3 scale: is NaN/);
  });

  it('refuses non-finite F32 and F16 elements, naming the element', () => {
    const floats = quantizeTensor('F32', values);
    new DataView(floats.buffer).setFloat32(4 * 17, NaN, true);
    expect(formatError(() => validateTensorData('F32', floats, 'model.gguf', 'output.weight')).field).toBe("tensor 'output.weight' element 17");
    const halves = quantizeTensor('F16', values);
    new DataView(halves.buffer).setUint16(2 * 5, 0xfc00, true);
    expect(() => validateTensorData('F16', halves, 'model.gguf', 'w')).toThrow("model.gguf: tensor 'w' element 5: is -Infinity; weights must be finite");
  });

  it('refuses bytes that are not a whole number of blocks', () => {
    expect(formatError(() => validateTensorData('Q8_0', new Uint8Array(35), 'model.gguf', 'w')).problem).toMatch(/35 bytes is not a whole number of Q8_0 blocks \(34 bytes each\)/);
    expect(() => validateTensorData('F32', new Uint8Array(6), 'model.gguf', 'w')).toThrow(GgufFormatError);
  });

  it('refuses types it cannot check', () => {
    expect(() => validateTensorData('Q6_K', new Uint8Array(210), 'model.gguf', 'w')).toThrow(UnsupportedTensorTypeError);
  });
});
