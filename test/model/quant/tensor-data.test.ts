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
    expect(() => quantizeTensor('Q5_K', values)).toThrow(UnsupportedTensorTypeError);
    expect(() => dequantizeTensor('Q4_1', new Uint8Array(20), 32)).toThrow(/Q4_1 is not supported yet; nines handles F32, F16, Q4_0, Q5_0, Q8_0, Q4_K, Q6_K/);
  });

  it('Q4_0, Q5_0, Q4_K and Q6_K take their ggml block sizes and decode close to the original', () => {
    const expectedBytes = { Q4_0: 8 * 18, Q5_0: 8 * 22, Q4_K: 144, Q6_K: 210 };
    for (const [type, byteCount] of Object.entries(expectedBytes) as Array<[keyof typeof expectedBytes, number]>) {
      const bytes = quantizeTensor(type, values);
      expect(bytes.length, type).toBe(byteCount);
      const restored = dequantizeTensor(type, bytes, 256);
      for (let index = 0; index < 256; index++) expect(Math.abs(restored[index] - values[index]), type).toBeLessThan(0.5);
    }
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
    for (const type of ['F32', 'F16', 'Q8_0', 'Q4_0', 'Q5_0', 'Q4_K', 'Q6_K'] as const) validateTensorData(type, quantizeTensor(type, values), 'model.gguf', 'w');
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
    expect(formatError(() => validateTensorData('Q4_K', new Uint8Array(200), 'model.gguf', 'w')).problem).toBe('200 bytes is not a whole number of Q4_K blocks (144 bytes each)');
    expect(() => validateTensorData('Q6_K', new Uint8Array(209), 'model.gguf', 'w')).toThrow(/209 bytes is not a whole number of Q6_K blocks \(210 bytes each\)/);
  });

  it('refuses a Q4_0, Q5_0 or Q6_K block whose scale d is infinite or NaN, naming the block and its elements', () => {
    const twoBlocks = Float32Array.from({ length: 512 }, (_, index) => values[index % 256]);
    const cases = [
      { type: 'Q4_0', blockBytes: 18, blockSize: 32, scaleOffset: 0, block: 5 },
      { type: 'Q5_0', blockBytes: 22, blockSize: 32, scaleOffset: 0, block: 15 },
      { type: 'Q6_K', blockBytes: 210, blockSize: 256, scaleOffset: 208, block: 1 },
    ] as const;
    for (const { type, blockBytes, blockSize, scaleOffset, block } of cases) {
      const bytes = quantizeTensor(type, twoBlocks);
      validateTensorData(type, bytes, 'model.gguf', 'w');
      const at = block * blockBytes + scaleOffset;
      bytes[at] = 0x00;
      bytes[at + 1] = 0xfc; // -infinity
      const first = block * blockSize;
      expect(() => validateTensorData(type, bytes, 'model.gguf', 'blk.3.ffn_down.weight')).toThrow(
        `model.gguf: tensor 'blk.3.ffn_down.weight' block ${block} scale${type === 'Q6_K' ? ' d' : ''}: is -Infinity (elements ${first} to ${first + blockSize - 1}); ${type} scales must be finite`,
      );
      bytes[at] = 0x01; // a NaN
      expect(formatError(() => validateTensorData(type, bytes, 'model.gguf', 'w')).problem).toMatch(/^is NaN/);
    }
  });

  it('refuses a Q4_K block whose d or dmin is infinite or NaN, saying which', () => {
    const bytes = quantizeTensor('Q4_K', Float32Array.from({ length: 768 }, (_, index) => values[index % 256]));
    const broken = bytes.slice();
    broken[2 * 144 + 1] = 0x7c; // block 2's d becomes +infinity (its low byte kept: a NaN unless that byte is 0)
    broken[2 * 144] = 0;
    expect(formatError(() => validateTensorData('Q4_K', broken, 'model.gguf', 'output.weight')).field).toBe("tensor 'output.weight' block 2 scale d");
    const brokenMin = bytes.slice();
    brokenMin[144 + 2] = 0x01;
    brokenMin[144 + 3] = 0x7e; // block 1's dmin becomes a NaN
    const error = formatError(() => validateTensorData('Q4_K', brokenMin, 'model.gguf', 'output.weight'));
    expect(error.message).toBe("model.gguf: tensor 'output.weight' block 1 min scale dmin: is NaN (elements 256 to 511); Q4_K scales must be finite");
  });

  it('refuses types it cannot check', () => {
    expect(() => validateTensorData('Q5_K', new Uint8Array(176), 'model.gguf', 'w')).toThrow(UnsupportedTensorTypeError);
  });
});
