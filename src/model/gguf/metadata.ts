/**
 * Typed access to GGUF metadata. A model that lacks a key, or stores it with the wrong
 * type, fails here with a message naming the file, the key and what was expected, rather
 * than producing NaN dimensions three calls later.
 *
 * Numbers are accepted from any numeric type, including uint64 and int64 when the value is
 * exact in a JavaScript number, because writers differ (one stores a layer count as uint32,
 * another as uint64).
 */
import { GgufFormatError } from './errors.js';
import type { GgufArray, GgufValue } from './types.js';

type Metadata = ReadonlyMap<string, GgufValue>;

const numberTypes = 'a number (uint8 to uint64, int8 to int64, float32 or float64)';

function describe(value: GgufValue): string {
  return value.type === 'array' ? `an array of ${value.itemType}` : value.type;
}

function fail(source: string, key: string, problem: string): never {
  throw new GgufFormatError(source, `metadata '${key}'`, problem);
}

function required(metadata: Metadata, key: string, source: string, expected: string): GgufValue {
  const value = metadata.get(key);
  if (value === undefined) fail(source, key, `is missing; expected ${expected}`);
  return value;
}

/** A bigint as a number, when exact. */
function exactNumber(value: bigint, source: string, key: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    fail(source, key, `${value} is too large to use as a number (beyond 2^53 - 1)`);
  }
  return Number(value);
}

function asNumber(value: GgufValue, source: string, key: string): number {
  switch (value.type) {
    case 'uint8':
    case 'int8':
    case 'uint16':
    case 'int16':
    case 'uint32':
    case 'int32':
    case 'float32':
    case 'float64':
      return value.value;
    case 'uint64':
    case 'int64':
      return exactNumber(value.value, source, key);
    default:
      return fail(source, key, `expected ${numberTypes}, found ${describe(value)}`);
  }
}

export function metadataNumber(metadata: Metadata, key: string, source: string): number {
  return asNumber(required(metadata, key, source, numberTypes), source, key);
}

export function metadataOptionalNumber(metadata: Metadata, key: string, source: string): number | undefined {
  const value = metadata.get(key);
  return value === undefined ? undefined : asNumber(value, source, key);
}

function asString(value: GgufValue, source: string, key: string): string {
  if (value.type !== 'string') fail(source, key, `expected a string, found ${describe(value)}`);
  return value.value;
}

export function metadataString(metadata: Metadata, key: string, source: string): string {
  return asString(required(metadata, key, source, 'a string'), source, key);
}

export function metadataOptionalString(metadata: Metadata, key: string, source: string): string | undefined {
  const value = metadata.get(key);
  return value === undefined ? undefined : asString(value, source, key);
}

export function metadataBoolean(metadata: Metadata, key: string, source: string): boolean {
  const value = required(metadata, key, source, 'a bool');
  if (value.type !== 'bool') fail(source, key, `expected a bool, found ${describe(value)}`);
  return value.value;
}

export function metadataOptionalBoolean(metadata: Metadata, key: string, source: string): boolean | undefined {
  return metadata.has(key) ? metadataBoolean(metadata, key, source) : undefined;
}

function requiredArray(metadata: Metadata, key: string, source: string, expected: string): GgufArray {
  const value = required(metadata, key, source, expected);
  if (value.type !== 'array') fail(source, key, `expected ${expected}, found ${describe(value)}`);
  return value;
}

export function metadataStringArray(metadata: Metadata, key: string, source: string): string[] {
  const array = requiredArray(metadata, key, source, 'an array of strings');
  if (array.itemType !== 'string') fail(source, key, `expected an array of strings, found ${describe(array)}`);
  return array.values;
}

/** A numeric array of any item type, as numbers (64-bit items must be exact in a number). */
export function metadataNumberArray(metadata: Metadata, key: string, source: string): number[] {
  const array = requiredArray(metadata, key, source, 'an array of numbers');
  switch (array.itemType) {
    case 'uint64':
    case 'int64':
      return array.values.map((value) => exactNumber(value, source, key));
    case 'bool':
    case 'string':
    case 'array':
      return fail(source, key, `expected an array of numbers, found ${describe(array)}`);
    default:
      return array.values;
  }
}
