/**
 * Converting whole tensors between numbers and their on-disk bytes, and checking tensor
 * bytes read from a file before anything computes with them.
 *
 * Validation policy: every stored number must be finite. That means every F32 and F16
 * element and every f16 scale of a block type (Q8_0, Q4_0 and Q5_0 blocks have one, d;
 * Q4_K has d and dmin; Q6_K has d; their integer quants and 6- or 8-bit sub-block scales
 * cannot be non-finite, and every bit pattern of them is a value llama.cpp accepts too). A
 * NaN or infinite weight is never a legitimate trained value, and one of them turns every
 * logit the model produces into NaN, so it is far better to refuse the file at load time
 * with the tensor and element named than to sample garbage later. The check is one linear
 * pass over bytes the loader has just read. quantizeTensor refuses the same values, so
 * whatever it produces passes validateTensorData.
 */
import { GgufFormatError } from '../gguf/errors.js';
import { ggmlBlockLayout, type GgmlType } from '../gguf/types.js';
import { QuantizeInputError, UnsupportedTensorTypeError } from './errors.js';
import { f16IsNonFinite, f16ToF32Table, f32ToF16 } from './f16.js';
import { firstNonFiniteBlockHalf } from './block-checks.js';
import { blockFormats } from './block-formats.js';
import { type BlockTensorType, blockTensorTypes, isBlockTensorType } from './block-types.js';

/** The tensor types nines can quantize, dequantize and validate today. */
export const supportedTensorTypes: readonly GgmlType[] = ['F32', 'F16', ...blockTensorTypes];

export function isSupportedTensorType(type: GgmlType): boolean {
  return supportedTensorTypes.includes(type);
}

// Typed-array views read the host's byte order; GGUF is little-endian, as is every host Node runs on in practice.
const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function requireLittleEndianHost(): void {
  if (!hostIsLittleEndian) throw new Error('nines reads tensor bytes through typed arrays and needs a little-endian host');
}

/** The bytes as `Element`s: a view when aligned, otherwise a view of an aligned copy. */
function typedView<T>(bytes: Uint8Array, elementBytes: number, make: (buffer: ArrayBufferLike, byteOffset: number, length: number) => T): T {
  requireLittleEndianHost();
  const aligned = bytes.byteOffset % elementBytes === 0 ? bytes : bytes.slice();
  return make(aligned.buffer, aligned.byteOffset, aligned.byteLength / elementBytes);
}

const float32View = (bytes: Uint8Array) => typedView(bytes, 4, (buffer, offset, length) => new Float32Array(buffer, offset, length));
const uint16View = (bytes: Uint8Array) => typedView(bytes, 2, (buffer, offset, length) => new Uint16Array(buffer, offset, length));

function firstNonFinite(values: Float32Array): number {
  for (let index = 0; index < values.length; index++) {
    if (!Number.isFinite(values[index])) return index;
  }
  return -1;
}

/** Encodes values (a whole number of the type's blocks, all finite) as the type's bytes. */
export function quantizeTensor(type: GgmlType, values: Float32Array): Uint8Array {
  const nonFinite = firstNonFinite(values);
  if (nonFinite >= 0) throw new QuantizeInputError(`quantizeTensor(${type}): value ${values[nonFinite]} at index ${nonFinite} is not finite`);
  switch (type) {
    case 'F32':
      requireLittleEndianHost();
      return new Uint8Array(values.slice().buffer);
    case 'F16': {
      const halves = new Uint16Array(values.length);
      for (let index = 0; index < values.length; index++) {
        halves[index] = f32ToF16(values[index]);
        if (f16IsNonFinite(halves[index])) {
          throw new QuantizeInputError(`quantizeTensor(F16): value ${values[index]} at index ${index} is beyond f16's range (|x| < 65520)`);
        }
      }
      requireLittleEndianHost();
      return new Uint8Array(halves.buffer);
    }
    default:
      if (!isBlockTensorType(type)) throw new UnsupportedTensorTypeError(type, 'quantizeTensor', supportedTensorTypes);
      return blockFormats[type].quantize(values);
  }
}

/** Decodes `count` values from bytes of exactly the length `count` values of `type` take. Returns a new array. */
export function dequantizeTensor(type: GgmlType, bytes: Uint8Array, count: number): Float32Array {
  if (!isSupportedTensorType(type)) throw new UnsupportedTensorTypeError(type, 'dequantizeTensor', supportedTensorTypes);
  const { blockSize, blockBytes } = ggmlBlockLayout[type];
  if (!Number.isSafeInteger(count) || count < 0 || count % blockSize !== 0) {
    throw new QuantizeInputError(`dequantizeTensor(${type}): count ${count} is not a whole number of ${blockSize}-value blocks`);
  }
  const expectedBytes = (count / blockSize) * blockBytes;
  if (bytes.length !== expectedBytes) {
    throw new QuantizeInputError(`dequantizeTensor(${type}): ${bytes.length} bytes, but ${count} values take ${expectedBytes}`);
  }
  switch (type) {
    case 'F32':
      return float32View(bytes).slice();
    case 'F16': {
      const halves = uint16View(bytes);
      const values = new Float32Array(count);
      for (let index = 0; index < count; index++) values[index] = f16ToF32Table[halves[index]];
      return values;
    }
    default:
      return blockFormats[type as BlockTensorType].dequantize(bytes, count);
  }
}

/**
 * Checks tensor bytes from a model file (see the policy at the top of this file). Fails
 * with a GgufFormatError naming `source`, the tensor and the first bad element or block.
 */
export function validateTensorData(type: GgmlType, bytes: Uint8Array, source: string, tensorName: string): void {
  if (!isSupportedTensorType(type)) throw new UnsupportedTensorTypeError(type, `${source}: tensor '${tensorName}'`, supportedTensorTypes);
  const label = `tensor '${tensorName}'`;
  const { blockSize, blockBytes } = ggmlBlockLayout[type];
  if (bytes.length % blockBytes !== 0) {
    throw new GgufFormatError(source, `${label} data`, `${bytes.length} bytes is not a whole number of ${type} blocks (${blockBytes} bytes each)`);
  }
  switch (type) {
    case 'F32': {
      const values = float32View(bytes);
      const index = firstNonFinite(values);
      if (index >= 0) throw new GgufFormatError(source, `${label} element ${index}`, `is ${values[index]}; weights must be finite`);
      return;
    }
    case 'F16': {
      const halves = uint16View(bytes);
      for (let index = 0; index < halves.length; index++) {
        if (f16IsNonFinite(halves[index])) throw new GgufFormatError(source, `${label} element ${index}`, `is ${f16ToF32Table[halves[index]]}; weights must be finite`);
      }
      return;
    }
    default: {
      const scales = blockFormats[type as BlockTensorType].scales;
      const bad = firstNonFiniteBlockHalf(bytes, blockBytes, scales.map((scale) => scale.offset));
      if (bad !== undefined) {
        const name = scales.find((scale) => scale.offset === bad.offset)!.name;
        const first = bad.block * blockSize;
        throw new GgufFormatError(source, `${label} block ${bad.block} ${name}`, `is ${f16ToF32Table[bad.bits]} (elements ${first} to ${first + blockSize - 1}); ${type} scales must be finite`);
      }
    }
  }
}
