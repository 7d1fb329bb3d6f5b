/**
 * Decoding metadata values: scalars, strings and (possibly nested) arrays. Every count is
 * checked against its limit and against the bytes left in the file before anything is
 * allocated for it, and nesting is bounded, so no input can exhaust memory or the stack.
 */
import { arrayItemsMax, arrayNestingDepthMax, stringBytesMax } from './constants.js';
import type { ByteReader, FieldName } from './byte-source.js';
import { ggufValueTypeFromCode } from './tensor-layout.js';
import type { GgufArray, GgufValue, GgufValueType } from './types.js';

/** The fewest bytes one value of each type takes on disk (a string is at least its length; an array its item type and count). */
export const valueBytesMin: Record<GgufValueType, number> = {
  uint8: 1,
  int8: 1,
  bool: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  uint64: 8,
  int64: 8,
  float64: 8,
  string: 8,
  array: 12,
};

/** Reads a uint32 value-type code and maps it to a type, failing on codes the format does not define. */
export function readValueType(reader: ByteReader, field: string): GgufValueType {
  const code = reader.uint32(field);
  const type = ggufValueTypeFromCode(code);
  if (type === undefined) reader.fail(field, `unknown value type code ${code}; GGUF defines codes 0 to 12`);
  return type;
}

/** Reads one value of a known type; `depth` counts the arrays it sits in. */
export function readValue(reader: ByteReader, type: GgufValueType, field: string, depth: number): GgufValue {
  switch (type) {
    case 'uint8':
    case 'int8':
    case 'uint16':
    case 'int16':
    case 'uint32':
    case 'int32':
    case 'float32':
    case 'float64':
      return { type, value: readNumber(reader, type, field) };
    case 'uint64':
      return { type, value: reader.uint64(field) };
    case 'int64':
      return { type, value: reader.int64(field) };
    case 'bool':
      return { type, value: readBoolean(reader, field) };
    case 'string':
      return { type, value: reader.string(field, stringBytesMax, 'stringBytesMax') };
    case 'array':
      return readArray(reader, field, depth + 1);
  }
}

function readNumber(reader: ByteReader, type: 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64', field: FieldName): number {
  switch (type) {
    case 'uint8':
      return reader.uint8(field);
    case 'int8':
      return reader.int8(field);
    case 'uint16':
      return reader.uint16(field);
    case 'int16':
      return reader.int16(field);
    case 'uint32':
      return reader.uint32(field);
    case 'int32':
      return reader.int32(field);
    case 'float32':
      return reader.float32(field);
    case 'float64':
      return reader.float64(field);
  }
}

function readBoolean(reader: ByteReader, field: FieldName): boolean {
  const byte = reader.uint8(field);
  // GGUF stores a bool as one byte that is 0 or 1; anything else means the file is corrupt.
  if (byte > 1) reader.fail(field, `bool byte is ${byte}; it must be 0 or 1`);
  return byte === 1;
}

/** Reads an array body: item type, count, items. `depth` is this array's nesting depth (1 for a top-level array). */
function readArray(reader: ByteReader, field: string, depth: number): GgufArray {
  if (depth > arrayNestingDepthMax) {
    reader.fail(field, `arrays nested more than ${arrayNestingDepthMax} deep (arrayNestingDepthMax)`);
  }
  const itemType = readValueType(reader, `${field} item type`);
  const count = reader.uint64Number(`${field} count`);
  if (count > arrayItemsMax) reader.fail(`${field} count`, `${count} items is more than ${arrayItemsMax} (arrayItemsMax)`);
  reader.requireBytes(count * valueBytesMin[itemType], `${field} count`, `an array of ${count} ${itemType} items`);
  const itemField = (index: number) => () => `${field}[${index}]`;
  switch (itemType) {
    case 'uint8':
    case 'int8':
    case 'uint16':
    case 'int16':
    case 'uint32':
    case 'int32':
    case 'float32':
    case 'float64': {
      const values: number[] = [];
      for (let index = 0; index < count; index++) values.push(readNumber(reader, itemType, itemField(index)));
      return { type: 'array', itemType, values };
    }
    case 'uint64':
    case 'int64': {
      const values: bigint[] = [];
      for (let index = 0; index < count; index++) values.push(itemType === 'uint64' ? reader.uint64(itemField(index)) : reader.int64(itemField(index)));
      return { type: 'array', itemType, values };
    }
    case 'bool': {
      const values: boolean[] = [];
      for (let index = 0; index < count; index++) values.push(readBoolean(reader, itemField(index)));
      return { type: 'array', itemType, values };
    }
    case 'string': {
      const values: string[] = [];
      for (let index = 0; index < count; index++) values.push(reader.string(itemField(index), stringBytesMax, 'stringBytesMax'));
      return { type: 'array', itemType, values };
    }
    case 'array': {
      const values: GgufArray[] = [];
      for (let index = 0; index < count; index++) values.push(readArray(reader, `${field}[${index}]`, depth + 1));
      return { type: 'array', itemType, values };
    }
  }
}
