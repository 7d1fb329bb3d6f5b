/**
 * Encoding a GGUF v3 header: the pure half of the writer. It lays the tensors out (each at
 * the next multiple of the alignment, in the order given: llama.cpp refuses any other
 * layout, though the format itself and nines' reader allow gaps and any order), checks that the result is a file
 * the reader (and llama.cpp) will accept, and returns the header bytes, padded so that the
 * data section starts aligned, together with the header as a reader would see it.
 */
import {
  alignmentBytesDefault,
  alignmentBytesMax,
  alignmentKey,
  ggufMagicBytes,
  ggufVersionWritten,
  headerBytesMax,
  keyBytesMax,
  metadataCountMax,
  tensorCountMax,
  tensorNameBytesMax,
} from './constants.js';
import { GgufEncodeError } from './errors.js';
import type { GgufHeader } from './header-decode.js';
import { alignUp, isGgmlType, isPowerOfTwo, tensorByteLength, tensorElementCount, tensorShapeProblem } from './tensor-layout.js';
import { ggmlTypeCodes, type GgmlType, type GgufTensorInfo, type GgufValue } from './types.js';
import { ByteWriter, writeString, writeValue } from './value-encode.js';

/** A tensor's description, without its bytes. */
export interface GgufTensorDescription {
  name: string;
  /** Innermost first, as GGUF stores them (a (rows, cols) matrix has dims [cols, rows]). */
  dims: number[];
  type: GgmlType;
}

/** A tensor to write: its description and its bytes, already in the type's on-disk format. */
export interface GgufTensorToWrite extends GgufTensorDescription {
  data: Uint8Array;
}

export interface GgufContent<Tensor extends GgufTensorDescription = GgufTensorToWrite> {
  metadata: Array<[string, GgufValue]>;
  tensors: Tensor[];
  /** Bytes; a power of two. Defaults to `general.alignment` from the metadata, else 32. It is recorded in the metadata when given. */
  alignment?: number;
}

export interface EncodedGgufHeader {
  /** Everything before the data section, padding included: `bytes.length === header.dataOffset`. */
  bytes: Uint8Array;
  header: GgufHeader;
}

/** Encodes the header for this content. `destination` names the target in errors. */
export function encodeGgufHeader(content: GgufContent<GgufTensorDescription>, destination = 'GGUF'): EncodedGgufHeader {
  const fail = (field: string, problem: string): never => {
    throw new GgufEncodeError(destination, field, problem);
  };
  const { alignment, metadata } = resolveAlignment(content, destination);
  if (content.tensors.length > tensorCountMax) fail('tensors', `${content.tensors.length} tensors is more than ${tensorCountMax} (tensorCountMax)`);
  if (metadata.length > metadataCountMax) fail('metadata', `${metadata.length} pairs is more than ${metadataCountMax} (metadataCountMax)`);
  const writer = new ByteWriter();
  writer.bytes(Uint8Array.from(ggufMagicBytes));
  writer.uint32(ggufVersionWritten);
  writer.uint64(BigInt(content.tensors.length));
  writer.uint64(BigInt(metadata.length));
  const metadataMap = new Map<string, GgufValue>();
  metadata.forEach(([key, value], index) => {
    if (metadataMap.has(key)) fail(`metadata '${key}'`, `the key appears twice (the second time at pair ${index})`);
    writeString(writer, key, destination, `metadata[${index}] key`, keyBytesMax, 'keyBytesMax');
    writeValue(writer, value, destination, `metadata '${key}'`);
    metadataMap.set(key, value);
  });
  const tensors = layOutTensors(writer, content.tensors, alignment, destination);
  if (writer.length > headerBytesMax) fail('header', `${writer.length} bytes is more than ${headerBytesMax} (headerBytesMax)`);
  const dataOffset = alignUp(writer.length, alignment);
  writer.zeros(dataOffset - writer.length);
  return { bytes: writer.finish(), header: { version: ggufVersionWritten, alignment, metadata: metadataMap, tensors, dataOffset } };
}

/** The alignment to use, and the metadata with `general.alignment` recorded when it was given separately. */
function resolveAlignment(content: GgufContent<GgufTensorDescription>, destination: string): { alignment: number; metadata: Array<[string, GgufValue]> } {
  const field = `metadata '${alignmentKey}'`;
  const recorded = content.metadata.find(([key]) => key === alignmentKey)?.[1];
  if (recorded !== undefined && recorded.type !== 'uint32') throw new GgufEncodeError(destination, field, `must be a uint32, got ${recorded.type}`);
  const alignment = content.alignment ?? recorded?.value ?? alignmentBytesDefault;
  if (!isPowerOfTwo(alignment) || alignment > alignmentBytesMax) {
    throw new GgufEncodeError(destination, 'alignment', `${alignment} must be a power of two of at most ${alignmentBytesMax} bytes`);
  }
  if (recorded !== undefined && recorded.value !== alignment) {
    throw new GgufEncodeError(destination, field, `${recorded.value} disagrees with the alignment option ${alignment}`);
  }
  const metadata = recorded === undefined && content.alignment !== undefined ? [...content.metadata, [alignmentKey, { type: 'uint32', value: alignment }] as [string, GgufValue]] : content.metadata;
  return { alignment, metadata };
}

function layOutTensors(writer: ByteWriter, tensors: readonly GgufTensorDescription[], alignment: number, destination: string): GgufTensorInfo[] {
  const infos: GgufTensorInfo[] = [];
  const names = new Set<string>();
  let cursor = 0;
  tensors.forEach((tensor, index) => {
    const label = `tensor '${String(tensor.name)}'`;
    const fail = (field: string, problem: string): never => {
      throw new GgufEncodeError(destination, field, problem);
    };
    if (names.has(tensor.name)) fail(`${label} name`, `the name appears twice (the second time at tensor ${index})`);
    names.add(tensor.name);
    if (!isGgmlType(tensor.type)) fail(`${label} type`, `unknown ggml type '${String(tensor.type)}'`);
    if (!Array.isArray(tensor.dims)) fail(`${label} dims`, 'expected an array of dims');
    const shapeProblem = tensorShapeProblem(tensor.type, tensor.dims);
    if (shapeProblem !== undefined) fail(`${label} ${shapeProblem.field}`, shapeProblem.problem);
    writeString(writer, tensor.name, destination, `tensor[${index}] name`, tensorNameBytesMax, 'tensorNameBytesMax');
    writer.uint32(tensor.dims.length);
    for (const dim of tensor.dims) writer.uint64(BigInt(dim));
    writer.uint32(ggmlTypeCodes[tensor.type]);
    const offset = alignUp(cursor, alignment);
    const byteLength = tensorByteLength(tensor.type, tensorElementCount(tensor.dims));
    if (offset + byteLength > Number.MAX_SAFE_INTEGER) fail(`${label} offset`, 'the tensors together take more than 2^53 - 1 bytes');
    writer.uint64(BigInt(offset));
    infos.push({ name: tensor.name, dims: [...tensor.dims], type: tensor.type, offset, byteLength });
    cursor = offset + byteLength;
  });
  return infos;
}

/** Fails unless every tensor's bytes are exactly as long as its type and dims require. */
export function checkTensorData(tensors: readonly GgufTensorToWrite[], infos: readonly GgufTensorInfo[], destination: string): void {
  tensors.forEach((tensor, index) => {
    const expected = infos[index].byteLength;
    if (!(tensor.data instanceof Uint8Array)) throw new GgufEncodeError(destination, `tensor '${tensor.name}' data`, 'expected a Uint8Array');
    if (tensor.data.byteLength !== expected) {
      throw new GgufEncodeError(destination, `tensor '${tensor.name}' data`, `${tensor.data.byteLength} bytes, but ${tensor.type} [${tensor.dims.join(', ')}] takes ${expected} bytes`);
    }
  });
}

/** A whole GGUF file in memory (for small models, tests, and sending over the network). Large models go through writeGgufFile. */
export function encodeGgufToBytes(content: GgufContent, destination = 'GGUF'): Uint8Array {
  const { bytes: headerBytes, header } = encodeGgufHeader(content, destination);
  checkTensorData(content.tensors, header.tensors, destination);
  const last = header.tensors.at(-1);
  // Like the file writer (and llama.cpp's), pad after the last tensor as after every other.
  const file = new Uint8Array(header.dataOffset + (last === undefined ? 0 : alignUp(last.offset + last.byteLength, header.alignment)));
  file.set(headerBytes, 0);
  content.tensors.forEach((tensor, index) => file.set(tensor.data, header.dataOffset + header.tensors[index].offset));
  return file;
}
