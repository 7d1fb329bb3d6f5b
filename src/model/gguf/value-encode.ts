/**
 * Encoding GGUF values into a growing buffer, checking each value against its declared
 * type as it goes (a uint8 of 300 or a string with a lone surrogate is refused, not
 * silently mangled), so that every file nines writes reads back to the same values.
 */
import { arrayItemsMax, arrayNestingDepthMax, stringBytesMax } from './constants.js';
import { GgufEncodeError } from './errors.js';
import { ggufValueTypeCodes, type GgufArray, type GgufValue, type GgufValueType } from './types.js';

const utf8Encoder = new TextEncoder();
const loneSurrogate = /\p{Cs}/u;

const integerRanges: Partial<Record<GgufValueType, readonly [number, number]>> = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffff_ffff],
  int32: [-0x8000_0000, 0x7fff_ffff],
};

const bigIntRanges: Partial<Record<GgufValueType, readonly [bigint, bigint]>> = {
  uint64: [0n, 2n ** 64n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** A little-endian byte buffer that doubles as it fills. */
export class ByteWriter {
  private buffer = new Uint8Array(4096);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(byteCount: number): number {
    const start = this.length;
    if (start + byteCount > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, start + byteCount));
      grown.set(this.buffer.subarray(0, start));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length += byteCount;
    return start;
  }

  // The offset is reserved before `this.view` is read: reserving may grow the buffer and
  // replace the view, and `this.view.setX(this.reserve(n), ...)` would write through the old one.
  uint8(value: number): void { const at = this.reserve(1); this.view.setUint8(at, value); }
  int8(value: number): void { const at = this.reserve(1); this.view.setInt8(at, value); }
  uint16(value: number): void { const at = this.reserve(2); this.view.setUint16(at, value, true); }
  int16(value: number): void { const at = this.reserve(2); this.view.setInt16(at, value, true); }
  uint32(value: number): void { const at = this.reserve(4); this.view.setUint32(at, value, true); }
  int32(value: number): void { const at = this.reserve(4); this.view.setInt32(at, value, true); }
  float32(value: number): void { const at = this.reserve(4); this.view.setFloat32(at, value, true); }
  float64(value: number): void { const at = this.reserve(8); this.view.setFloat64(at, value, true); }
  uint64(value: bigint): void { const at = this.reserve(8); this.view.setBigUint64(at, value, true); }
  int64(value: bigint): void { const at = this.reserve(8); this.view.setBigInt64(at, value, true); }
  bytes(bytes: Uint8Array): void { const at = this.reserve(bytes.length); this.buffer.set(bytes, at); }
  zeros(byteCount: number): void { const at = this.reserve(byteCount); this.buffer.fill(0, at, this.length); }

  /** The bytes written so far (a copy the writer no longer touches). */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** Writes a GGUF string (uint64 length + UTF-8), refusing strings that UTF-8 cannot carry faithfully or that readers would refuse. */
export function writeString(writer: ByteWriter, value: unknown, destination: string, field: string, bytesMax: number, limitName: string): void {
  if (typeof value !== 'string') throw new GgufEncodeError(destination, field, `expected a string, got ${typeof value}`);
  if (loneSurrogate.test(value)) throw new GgufEncodeError(destination, field, 'the string holds a lone UTF-16 surrogate, which UTF-8 cannot encode');
  const bytes = utf8Encoder.encode(value);
  if (bytes.length > bytesMax) throw new GgufEncodeError(destination, field, `string of ${bytes.length} bytes is longer than ${bytesMax} bytes (${limitName})`);
  writer.uint64(BigInt(bytes.length));
  writer.bytes(bytes);
}

/** Writes the body of a value of type `type` (no type code: the caller writes that where the format wants it). */
export function writeValueBody(writer: ByteWriter, type: GgufValueType, value: unknown, destination: string, field: string, depth: number): void {
  const fail = (problem: string): never => {
    throw new GgufEncodeError(destination, field, problem);
  };
  const integerRange = integerRanges[type];
  const bigIntRange = bigIntRanges[type];
  if (integerRange !== undefined) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < integerRange[0] || value > integerRange[1]) {
      fail(`${String(value)} is not a ${type} (an integer from ${integerRange[0]} to ${integerRange[1]})`);
    }
  } else if (bigIntRange !== undefined) {
    if (typeof value !== 'bigint' || value < bigIntRange[0] || value > bigIntRange[1]) {
      fail(`${String(value)} is not a ${type} (a bigint from ${bigIntRange[0]} to ${bigIntRange[1]})`);
    }
  }
  switch (type) {
    case 'uint8': return writer.uint8(value as number);
    case 'int8': return writer.int8(value as number);
    case 'uint16': return writer.uint16(value as number);
    case 'int16': return writer.int16(value as number);
    case 'uint32': return writer.uint32(value as number);
    case 'int32': return writer.int32(value as number);
    case 'uint64': return writer.uint64(value as bigint);
    case 'int64': return writer.int64(value as bigint);
    case 'float32':
    case 'float64':
      if (typeof value !== 'number') fail(`expected a number for ${type}, got ${typeof value}`);
      return type === 'float32' ? writer.float32(value as number) : writer.float64(value as number);
    case 'bool':
      if (typeof value !== 'boolean') fail(`expected a boolean, got ${typeof value}`);
      return writer.uint8(value ? 1 : 0);
    case 'string':
      return writeString(writer, value, destination, field, stringBytesMax, 'stringBytesMax');
    case 'array':
      return writeArrayBody(writer, value, destination, field, depth + 1);
  }
  fail(`unknown value type '${String(type)}'`);
}

function writeArrayBody(writer: ByteWriter, value: unknown, destination: string, field: string, depth: number): void {
  const fail = (problem: string): never => {
    throw new GgufEncodeError(destination, field, problem);
  };
  if (depth > arrayNestingDepthMax) fail(`arrays nested more than ${arrayNestingDepthMax} deep (arrayNestingDepthMax)`);
  const array = value as GgufArray;
  if (typeof array !== 'object' || array === null || array.type !== 'array' || !Array.isArray(array.values)) fail('expected { type: "array", itemType, values: [...] }');
  if (!Object.hasOwn(ggufValueTypeCodes, array.itemType)) fail(`unknown item type '${String(array.itemType)}'`);
  if (array.values.length > arrayItemsMax) fail(`${array.values.length} items is more than ${arrayItemsMax} (arrayItemsMax)`);
  writer.uint32(ggufValueTypeCodes[array.itemType]);
  writer.uint64(BigInt(array.values.length));
  const values: readonly unknown[] = array.values;
  for (let index = 0; index < values.length; index++) {
    writeValueBody(writer, array.itemType, values[index], destination, `${field}[${index}]`, depth);
  }
}

/** Writes a whole metadata value: its type code, then its body. */
export function writeValue(writer: ByteWriter, value: GgufValue, destination: string, field: string): void {
  if (typeof value !== 'object' || value === null || !Object.hasOwn(ggufValueTypeCodes, value.type)) {
    throw new GgufEncodeError(destination, field, 'expected a GGUF value ({ type, value } or { type: "array", itemType, values })');
  }
  writer.uint32(ggufValueTypeCodes[value.type]);
  writeValueBody(writer, value.type, value.type === 'array' ? value : value.value, destination, field, 0);
}
