import { describe, expect, it } from 'vitest';
import {
  GgufFormatError,
  metadataBoolean,
  metadataNumber,
  metadataNumberArray,
  metadataOptionalBoolean,
  metadataOptionalNumber,
  metadataOptionalString,
  metadataString,
  metadataStringArray,
  type GgufValue,
} from '../../../src/model/gguf/index.js';
import { everyMetadataType } from './fixtures.js';

const metadata = new Map<string, GgufValue>(everyMetadataType());
metadata.set('llama.block_count', { type: 'uint64', value: 12n });

function formatError(run: () => unknown): GgufFormatError {
  try {
    run();
  } catch (error) {
    if (error instanceof GgufFormatError) return error;
    throw error;
  }
  throw new Error('expected a GgufFormatError');
}

describe('metadata accessors', () => {
  it('read numbers from every numeric type, including exact 64-bit values', () => {
    expect(metadataNumber(metadata, 'test.uint8', 'model.gguf')).toBe(255);
    expect(metadataNumber(metadata, 'test.int32', 'model.gguf')).toBe(-0x8000_0000);
    expect(metadataNumber(metadata, 'test.float64', 'model.gguf')).toBe(Math.PI);
    expect(metadataNumber(metadata, 'llama.block_count', 'model.gguf')).toBe(12);
    expect(metadataOptionalNumber(metadata, 'test.float32', 'model.gguf')).toBe(Math.fround(-3.14159));
    expect(metadataOptionalNumber(metadata, 'absent', 'model.gguf')).toBeUndefined();
  });

  it('refuse 64-bit values a number cannot hold exactly', () => {
    const error = formatError(() => metadataNumber(metadata, 'test.uint64.beyond_safe', 'model.gguf'));
    expect(error.message).toBe("model.gguf: metadata 'test.uint64.beyond_safe': 9007199254740993 is too large to use as a number (beyond 2^53 - 1)");
  });

  it('name the source, the key and the expected type when a key is missing or of the wrong type', () => {
    expect(formatError(() => metadataNumber(metadata, 'llama.embedding_length', 'model.gguf')).message).toBe(
      "model.gguf: metadata 'llama.embedding_length': is missing; expected a number (uint8 to uint64, int8 to int64, float32 or float64)",
    );
    expect(formatError(() => metadataNumber(metadata, 'test.bool.true', 'model.gguf')).problem).toMatch(/expected a number .*, found bool$/);
    expect(formatError(() => metadataString(metadata, 'test.uint8', 'model.gguf')).message).toBe("model.gguf: metadata 'test.uint8': expected a string, found uint8");
    expect(formatError(() => metadataOptionalString(metadata, 'test.array.string', 'model.gguf')).problem).toBe('expected a string, found an array of string');
    expect(formatError(() => metadataBoolean(metadata, 'test.string.empty', 'model.gguf')).problem).toBe('expected a bool, found string');
    expect(formatError(() => metadataStringArray(metadata, 'test.array.uint8', 'model.gguf')).problem).toBe('expected an array of strings, found an array of uint8');
    expect(formatError(() => metadataNumberArray(metadata, 'test.array.bool', 'model.gguf')).problem).toBe('expected an array of numbers, found an array of bool');
    expect(formatError(() => metadataNumberArray(metadata, 'test.string.empty', 'model.gguf')).problem).toBe('expected an array of numbers, found string');
    expect(formatError(() => metadataStringArray(metadata, 'absent', 'model.gguf')).problem).toBe('is missing; expected an array of strings');
  });

  it('read strings, booleans and arrays', () => {
    expect(metadataString(metadata, 'general.architecture', 'model.gguf')).toBe('llama');
    expect(metadataOptionalString(metadata, 'absent', 'model.gguf')).toBeUndefined();
    expect(metadataBoolean(metadata, 'test.bool.false', 'model.gguf')).toBe(false);
    expect(metadataOptionalBoolean(metadata, 'test.bool.true', 'model.gguf')).toBe(true);
    expect(metadataOptionalBoolean(metadata, 'absent', 'model.gguf')).toBeUndefined();
    expect(metadataStringArray(metadata, 'test.array.string', 'model.gguf')).toEqual(['Ġthe', '', '世界', '<|endoftext|>']);
    expect(metadataNumberArray(metadata, 'test.array.float64', 'model.gguf')).toEqual([0.1, 1e308]);
    expect(metadataNumberArray(metadata, 'test.array.empty', 'model.gguf')).toEqual([]);
    expect(metadataNumberArray(new Map([['k', { type: 'array', itemType: 'int64', values: [-3n, 4n] }]]), 'k', 'model.gguf')).toEqual([-3, 4]);
    expect(() => metadataNumberArray(metadata, 'test.array.uint64', 'model.gguf')).toThrow(/18446744073709551615 is too large/);
  });
});
