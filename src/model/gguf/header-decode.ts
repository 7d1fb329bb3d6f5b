/**
 * Parsing a GGUF header (v2 or v3, little-endian) from a ByteSource: magic, version,
 * counts, metadata, tensor descriptions, and where the data section starts.
 *
 * Layout (ggml docs/gguf.md):
 *   'GGUF' | uint32 version | uint64 tensor_count | uint64 metadata_kv_count
 *   metadata_kv_count x (string key, uint32 value type, value)
 *   tensor_count x (string name, uint32 n_dims, uint64 dims[n_dims], uint32 ggml type, uint64 offset)
 *   zero padding to the alignment | data section (each tensor at data start + offset)
 *
 * The parser is pure and reads lazily, and it checks everything a loader relies on, so
 * that a header it returns can be trusted: every tensor lies inside the file, aligned,
 * with a shape its type allows, and no two tensors share a byte.
 */
import { ByteReader, type ByteSource } from './byte-source.js';
import {
  alignmentBytesDefault,
  alignmentBytesMax,
  alignmentKey,
  ggufMagicBytes,
  ggufVersionsRead,
  keyBytesMax,
  metadataCountMax,
  tensorCountMax,
  tensorDimsMax,
  tensorNameBytesMax,
} from './constants.js';
import { alignUp, ggmlTypeFromCode, isPowerOfTwo, knownGgmlTypeCodes, tensorByteLength, tensorElementCount, tensorShapeProblem } from './tensor-layout.js';
import type { GgufTensorInfo, GgufValue } from './types.js';
import { readValue, readValueType } from './value-decode.js';

export interface GgufHeader {
  version: number;
  /** Alignment of the data section and of every tensor offset, in bytes. */
  alignment: number;
  metadata: Map<string, GgufValue>;
  /** In file order. */
  tensors: GgufTensorInfo[];
  /** Absolute file offset of the data section (tensor offsets are relative to it). */
  dataOffset: number;
}

/** The fewest bytes one metadata pair takes: key length, value type, a one-byte value. */
const metadataPairBytesMin = 8 + 4 + 1;
/** The fewest bytes one tensor description takes: name length, n_dims, one dim, type, offset. */
const tensorInfoBytesMin = 8 + 4 + 8 + 4 + 8;

/** Parses and checks the header of the GGUF in `source`; errors are GgufFormatErrors naming `sourceName`. */
export function parseGgufHeader(source: ByteSource, sourceName: string): GgufHeader {
  const reader = new ByteReader(source, sourceName);
  const version = readPreamble(reader);
  const tensorCount = readCount(reader, 'header.tensor_count', tensorCountMax, 'tensorCountMax');
  const metadataCount = readCount(reader, 'header.metadata_kv_count', metadataCountMax, 'metadataCountMax');
  reader.requireBytes(metadataCount * metadataPairBytesMin, 'header.metadata_kv_count', `${metadataCount} metadata pairs`);
  reader.requireBytes(metadataCount * metadataPairBytesMin + tensorCount * tensorInfoBytesMin, 'header.tensor_count', `${tensorCount} tensor descriptions after the metadata`);
  const metadata = readMetadata(reader, metadataCount);
  const alignment = alignmentOf(reader, metadata);
  const tensors = readTensorInfos(reader, tensorCount, alignment);
  const dataOffset = alignUp(reader.position, alignment);
  checkPlacement(reader, tensors, dataOffset);
  return { version, alignment, metadata, tensors, dataOffset };
}

function readPreamble(reader: ByteReader): number {
  const magic = Array.from(reader.bytes(4, 'header.magic'));
  if (magic.some((byte, index) => byte !== ggufMagicBytes[index])) {
    const found = magic.map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
    reader.fail('header.magic', `expected the bytes 47 47 55 46 ('GGUF'), found ${found}; this is not a GGUF file`);
  }
  const version = reader.uint32('header.version');
  if (version === 1) {
    reader.fail('header.version', 'GGUF version 1 (32-bit counts and lengths) is not supported; convert the model again with a current llama.cpp');
  }
  if (version === 0x0200_0000 || version === 0x0300_0000) {
    reader.fail('header.version', 'this is a big-endian GGUF; nines reads only little-endian files');
  }
  if (!ggufVersionsRead.includes(version)) {
    reader.fail('header.version', `version ${version} is not supported; nines reads GGUF versions ${ggufVersionsRead.join(' and ')}`);
  }
  return version;
}

function readCount(reader: ByteReader, field: string, countMax: number, limitName: string): number {
  const count = reader.uint64Number(field);
  if (count > countMax) reader.fail(field, `${count} is more than ${countMax} (${limitName}); the file is corrupt or not one nines can load`);
  return count;
}

function readMetadata(reader: ByteReader, count: number): Map<string, GgufValue> {
  const metadata = new Map<string, GgufValue>();
  const indexOfKey = new Map<string, number>();
  for (let index = 0; index < count; index++) {
    const key = reader.string(`metadata[${index}] key`, keyBytesMax, 'keyBytesMax');
    const field = `metadata '${key}'`;
    const first = indexOfKey.get(key);
    if (first !== undefined) reader.fail(field, `the key appears twice (pairs ${first} and ${index})`);
    indexOfKey.set(key, index);
    const type = readValueType(reader, `${field} type`);
    metadata.set(key, readValue(reader, type, field, 0));
  }
  return metadata;
}

function alignmentOf(reader: ByteReader, metadata: ReadonlyMap<string, GgufValue>): number {
  const value = metadata.get(alignmentKey);
  if (value === undefined) return alignmentBytesDefault;
  const field = `metadata '${alignmentKey}'`;
  if (value.type !== 'uint32') reader.fail(field, `must be a uint32, found ${value.type}`);
  if (!isPowerOfTwo(value.value)) reader.fail(field, `${value.value} is not a power of two`);
  if (value.value > alignmentBytesMax) reader.fail(field, `${value.value} is more than ${alignmentBytesMax} bytes (alignmentBytesMax)`);
  return value.value;
}

function readTensorInfos(reader: ByteReader, count: number, alignment: number): GgufTensorInfo[] {
  const tensors: GgufTensorInfo[] = [];
  const indexOfName = new Map<string, number>();
  for (let index = 0; index < count; index++) {
    const name = reader.string(`tensor[${index}] name`, tensorNameBytesMax, 'tensorNameBytesMax');
    const label = `tensor '${name}'`;
    const first = indexOfName.get(name);
    if (first !== undefined) reader.fail(`${label} name`, `the name appears twice (tensors ${first} and ${index})`);
    indexOfName.set(name, index);
    const dimCount = reader.uint32(`${label} n_dims`);
    if (dimCount === 0 || dimCount > tensorDimsMax) reader.fail(`${label} n_dims`, `${dimCount} dims; a tensor has 1 to ${tensorDimsMax} (tensorDimsMax)`);
    const rawDims: bigint[] = [];
    for (let dim = 0; dim < dimCount; dim++) rawDims.push(reader.uint64(`${label} dims[${dim}]`));
    const typeCode = reader.uint32(`${label} type`);
    const type = ggmlTypeFromCode(typeCode);
    if (type === undefined) reader.fail(`${label} type`, `unknown ggml type code ${typeCode}; nines knows ${knownGgmlTypeCodes()}`);
    const shapeProblem = tensorShapeProblem(type, rawDims);
    if (shapeProblem !== undefined) reader.fail(`${label} ${shapeProblem.field}`, shapeProblem.problem);
    const rawOffset = reader.uint64(`${label} offset`);
    if (rawOffset > BigInt(Number.MAX_SAFE_INTEGER)) reader.fail(`${label} offset`, `${rawOffset} is beyond any file nines can read (2^53 - 1 bytes)`);
    const offset = Number(rawOffset);
    if (offset % alignment !== 0) reader.fail(`${label} offset`, `${offset} is not a multiple of the alignment (${alignment} bytes)`);
    const dims = rawDims.map(Number);
    tensors.push({ name, dims, type, offset, byteLength: tensorByteLength(type, tensorElementCount(dims)) });
  }
  return tensors;
}

/** Every tensor must lie inside the file, and no two may overlap. */
function checkPlacement(reader: ByteReader, tensors: readonly GgufTensorInfo[], dataOffset: number): void {
  for (const tensor of tensors) {
    if (dataOffset + tensor.offset + tensor.byteLength > reader.size) {
      reader.fail(
        `tensor '${tensor.name}' offset`,
        `${tensor.offset} + ${tensor.byteLength} bytes runs past the end of the file (${reader.size} bytes; the data section starts at byte ${dataOffset})`,
      );
    }
  }
  const byOffset = [...tensors].sort((left, right) => left.offset - right.offset);
  for (let index = 1; index < byOffset.length; index++) {
    const previous = byOffset[index - 1];
    const current = byOffset[index];
    if (previous.offset + previous.byteLength > current.offset) {
      reader.fail(
        `tensor '${current.name}' offset`,
        `bytes ${current.offset} to ${current.offset + current.byteLength} overlap tensor '${previous.name}' (bytes ${previous.offset} to ${previous.offset + previous.byteLength})`,
      );
    }
  }
}
