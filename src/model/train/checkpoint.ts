/**
 * The checkpoint format: everything a run needs to continue exactly where it stopped.
 *
 * Layout (little-endian):
 *   magic      8 bytes  "NINESCKP"
 *   version    uint32   checkpointFormatVersion
 *   headerSize uint32   bytes of the JSON header
 *   header     JSON     config, options, step, data RNG state, corpus fingerprint, tensor list
 *   padding    zeros to a multiple of 4 bytes
 *   parameters float32 x parameterCount (flat order, see parameters.ts)
 *   first      float32 x parameterCount (Adam's first moments)
 *   second     float32 x parameterCount (Adam's second moments)
 *   sha256     32 bytes over everything before it
 *
 * A file that is not a checkpoint, is truncated or damaged, or comes from a newer format
 * is refused with CheckpointCorruptError before any of it is used.
 */
import { createHash } from 'node:crypto';
import type { RngState } from '../../core/rng.js';
import { configProblems, type ModelConfig } from '../config.js';
import { CheckpointCorruptError } from './errors.js';
import type { TrainingOptions } from './options.js';
import { layoutOf } from './parameters.js';

export const checkpointMagic = 'NINESCKP';
export const checkpointFormatVersion = 1;
/** A header bigger than this is damage, not a configuration. */
export const checkpointHeaderBytesMax = 1 << 20;
const prefixBytes = 16;
const digestBytes = 32;

export interface TrainingCheckpoint {
  config: ModelConfig;
  options: TrainingOptions;
  /** Optimizer steps completed. */
  step: number;
  /** The state of the generator that draws batch offsets, after `step` batches. */
  dataRng: RngState;
  /** sha256 of the corpus's token ids, so a run cannot resume on different data. */
  corpusFingerprint: string;
  parameters: Float32Array;
  firstMoments: Float32Array;
  secondMoments: Float32Array;
}

interface CheckpointHeader {
  config: ModelConfig;
  options: TrainingOptions;
  step: number;
  dataRng: RngState;
  corpusFingerprint: string;
  parameterCount: number;
  tensors: Array<{ name: string; rows: number; cols: number }>;
}

export function encodeCheckpoint(checkpoint: TrainingCheckpoint): Uint8Array {
  const layout = layoutOf(checkpoint.config);
  const count = layout.parameterCount;
  const header: CheckpointHeader = {
    config: checkpoint.config,
    options: checkpoint.options,
    step: checkpoint.step,
    dataRng: checkpoint.dataRng,
    corpusFingerprint: checkpoint.corpusFingerprint,
    parameterCount: count,
    tensors: layout.tensors.map(({ name, rows, cols }) => ({ name, rows, cols })),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const dataOffset = align4(prefixBytes + headerBytes.length);
  const totalBytes = dataOffset + 3 * count * 4 + digestBytes;
  const bytes = new Uint8Array(totalBytes);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(checkpointMagic), 0);
  view.setUint32(8, checkpointFormatVersion, true);
  view.setUint32(12, headerBytes.length, true);
  bytes.set(headerBytes, prefixBytes);
  [checkpoint.parameters, checkpoint.firstMoments, checkpoint.secondMoments].forEach((array, index) => {
    if (array.length !== count) throw new RangeError(`checkpoint array ${index} has ${array.length} values, the model ${count}`);
    writeFloat32(view, dataOffset + index * count * 4, array);
  });
  bytes.set(sha256(bytes.subarray(0, totalBytes - digestBytes)), totalBytes - digestBytes);
  return bytes;
}

/** Decodes and verifies a checkpoint; `source` names it in errors (a file path). */
export function decodeCheckpoint(bytes: Uint8Array, source: string): TrainingCheckpoint {
  const fail = (problem: string): never => {
    throw new CheckpointCorruptError(source, problem);
  };
  if (bytes.length < prefixBytes + digestBytes) fail(`${bytes.length} bytes is too short to be a nines checkpoint`);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== checkpointMagic) fail('not a nines checkpoint (the file does not start with NINESCKP)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== checkpointFormatVersion) fail(`checkpoint format version ${version} is not supported (this nines reads version ${checkpointFormatVersion}); use the nines that wrote it`);
  const expectedDigest = bytes.subarray(bytes.length - digestBytes);
  const actualDigest = sha256(bytes.subarray(0, bytes.length - digestBytes));
  if (!actualDigest.every((value, index) => value === expectedDigest[index])) fail('the checksum does not match: the file is truncated or damaged; resume from an older checkpoint or start afresh');
  const headerSize = view.getUint32(12, true);
  if (headerSize > checkpointHeaderBytesMax || prefixBytes + headerSize > bytes.length - digestBytes) fail(`the header size ${headerSize} does not fit the file`);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(prefixBytes, prefixBytes + headerSize))) as CheckpointHeader;
  } catch (error) {
    return fail(`the header is not valid JSON (${(error as Error).message})`);
  }
  const problems = typeof header.config === 'object' && header.config !== null ? configProblems(header.config) : ['the header has no model configuration'];
  if (problems.length > 0) fail(`the model configuration is invalid: ${problems.join('; ')}`);
  if (!Number.isSafeInteger(header.step) || header.step < 0) fail(`the step ${header.step} is not a count of steps`);
  if (typeof header.options !== 'object' || header.options === null) fail('the header has no training options');
  const rngWords = [header.dataRng?.s0, header.dataRng?.s1, header.dataRng?.s2, header.dataRng?.s3];
  if (!rngWords.every((word) => Number.isInteger(word) && word >= 0 && word <= 0xffffffff)) fail('the data generator state is not four 32-bit words');
  const count = layoutOf(header.config).parameterCount;
  if (header.parameterCount !== count) fail(`the header says ${header.parameterCount} parameters, its configuration has ${count}`);
  const dataOffset = align4(prefixBytes + headerSize);
  if (dataOffset + 3 * count * 4 + digestBytes !== bytes.length) fail(`the file is ${bytes.length} bytes, but a checkpoint of ${count} parameters needs ${dataOffset + 3 * count * 4 + digestBytes}`);
  const [parameters, firstMoments, secondMoments] = [0, 1, 2].map((index) => readFloat32(view, dataOffset + index * count * 4, count));
  return {
    config: header.config,
    options: header.options,
    step: header.step,
    dataRng: header.dataRng,
    corpusFingerprint: header.corpusFingerprint,
    parameters,
    firstMoments,
    secondMoments,
  };
}

/** sha256 of a corpus's token ids (as little-endian int32), identifying the data a run trains on. */
export function corpusFingerprint(tokens: Int32Array): string {
  const littleEndian = new Uint8Array(tokens.length * 4);
  const view = new DataView(littleEndian.buffer);
  for (let i = 0; i < tokens.length; i++) view.setInt32(i * 4, tokens[i], true);
  return createHash('sha256').update(littleEndian).digest('hex');
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

function align4(value: number): number {
  return Math.ceil(value / 4) * 4;
}

function writeFloat32(view: DataView, offset: number, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) view.setFloat32(offset + i * 4, values[i], true);
}

function readFloat32(view: DataView, offset: number, count: number): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = view.getFloat32(offset + i * 4, true);
  return values;
}
