/**
 * From GGUF metadata to a ModelConfig and back, with the keys and value types llama.cpp
 * reads (llama-arch.cpp's LLM_KV names, prefixed by the architecture name).
 */
import { type Architecture, type ModelConfig, configProblems, headDimOf, tensorNames } from './config.js';
import type { GgmlType, GgufValue } from './gguf/types.js';
import { ModelFormatError } from './errors.js';
import { kernelTypes } from './kernels/index.js';

/** The architectures nines can run: llama (adjacent-pair RoPE) and qwen2 (q/k/v biases, half-split RoPE). */
export const supportedArchitectures: readonly Architecture[] = ['llama', 'qwen2'];

/** The tensor types nines can compute with. */
export const supportedTensorTypes: readonly GgmlType[] = kernelTypes;

/** RoPE base when the file does not say (llama.cpp's default). */
export const defaultRopeFreqBase = 10000;

/** The metadata keys of one architecture. */
export function architectureKeys(architecture: Architecture) {
  return {
    contextLength: `${architecture}.context_length`,
    embeddingLength: `${architecture}.embedding_length`,
    blockCount: `${architecture}.block_count`,
    feedForwardLength: `${architecture}.feed_forward_length`,
    headCount: `${architecture}.attention.head_count`,
    headCountKv: `${architecture}.attention.head_count_kv`,
    ropeFreqBase: `${architecture}.rope.freq_base`,
    ropeDimensionCount: `${architecture}.rope.dimension_count`,
    ropeScalingType: `${architecture}.rope.scaling.type`,
    normEpsilon: `${architecture}.attention.layer_norm_rms_epsilon`,
    vocabSize: `${architecture}.vocab_size`,
  };
}

const tokenListKey = 'tokenizer.ggml.tokens';

/**
 * Reads the hyper-parameters of a llama or qwen2 model.
 *
 * Whether the embeddings are tied is not in the metadata: llama.cpp decides it by the
 * absence of `output.weight`, so the caller passes the names of the file's tensors.
 */
export function configFromGgufMetadata(metadata: ReadonlyMap<string, GgufValue>, source: string, tensorNamesInFile: Iterable<string>): ModelConfig {
  const read = new MetadataReader(metadata, source);
  const architectureName = read.string('general.architecture');
  if (!(supportedArchitectures as readonly string[]).includes(architectureName)) {
    throw new ModelFormatError(source, 'general.architecture', `architecture '${architectureName}' is not supported; nines runs ${supportedArchitectures.join(' and ')} models`);
  }
  const architecture = architectureName as Architecture;
  const keys = architectureKeys(architecture);
  const headCount = read.positiveInteger(keys.headCount);
  const config: ModelConfig = {
    architecture,
    vocabSize: readVocabSize(read, keys.vocabSize),
    dim: read.positiveInteger(keys.embeddingLength),
    hiddenDim: read.positiveInteger(keys.feedForwardLength),
    layerCount: read.positiveInteger(keys.blockCount),
    headCount,
    kvHeadCount: read.optionalPositiveInteger(keys.headCountKv) ?? headCount,
    contextLength: read.positiveInteger(keys.contextLength),
    ropeFreqBase: read.optionalPositiveNumber(keys.ropeFreqBase) ?? defaultRopeFreqBase,
    normEpsilon: read.positiveNumber(keys.normEpsilon),
    tiedEmbeddings: !new Set(tensorNamesInFile).has(tensorNames.output),
  };
  const problems = configProblems(config);
  if (problems.length > 0) throw new ModelFormatError(source, `${architecture}.*`, `the hyper-parameters do not fit together: ${problems.join('; ')}`);
  const ropeDimensions = read.optionalPositiveInteger(keys.ropeDimensionCount);
  if (ropeDimensions !== undefined && ropeDimensions !== headDimOf(config)) {
    throw new ModelFormatError(source, keys.ropeDimensionCount, `rotary embeddings over ${ropeDimensions} of ${headDimOf(config)} head dimensions (partial RoPE) are not supported`);
  }
  const scaling = metadata.get(keys.ropeScalingType);
  if (scaling !== undefined && !(scaling.type === 'string' && scaling.value === 'none')) {
    throw new ModelFormatError(source, keys.ropeScalingType, `RoPE scaling ${JSON.stringify(scaling.type === 'string' ? scaling.value : scaling.type)} is not supported; only unscaled RoPE is`);
  }
  return config;
}

/** The vocabulary size is the token list's length; a vocab_size key, when present, must agree. */
function readVocabSize(read: MetadataReader, vocabSizeKey: string): number {
  const declared = read.optionalPositiveInteger(vocabSizeKey);
  const tokens = read.metadata.get(tokenListKey);
  if (tokens === undefined) {
    if (declared === undefined) throw new ModelFormatError(read.source, tokenListKey, `missing; the vocabulary size comes from this token list (or from ${vocabSizeKey})`);
    return declared;
  }
  if (tokens.type !== 'array') throw new ModelFormatError(read.source, tokenListKey, `must be an array of strings, got a ${tokens.type}`);
  if (declared !== undefined && declared !== tokens.values.length) {
    throw new ModelFormatError(read.source, vocabSizeKey, `says ${declared} tokens but ${tokenListKey} lists ${tokens.values.length}`);
  }
  if (tokens.values.length === 0) throw new ModelFormatError(read.source, tokenListKey, 'the token list is empty');
  return tokens.values.length;
}

/** The metadata a GGUF file needs for llama.cpp (and nines) to rebuild `config`; the tokenizer adds its own keys. */
export function configToGgufMetadata(config: ModelConfig, name: string): Array<[string, GgufValue]> {
  const problems = configProblems(config);
  if (problems.length > 0) throw new RangeError(`cannot describe an invalid model config: ${problems.join('; ')}`);
  const keys = architectureKeys(config.architecture);
  const uint32 = (value: number): GgufValue => ({ type: 'uint32', value });
  const float32 = (value: number): GgufValue => ({ type: 'float32', value });
  return [
    ['general.architecture', { type: 'string', value: config.architecture }],
    ['general.name', { type: 'string', value: name }],
    [keys.contextLength, uint32(config.contextLength)],
    [keys.embeddingLength, uint32(config.dim)],
    [keys.blockCount, uint32(config.layerCount)],
    [keys.feedForwardLength, uint32(config.hiddenDim)],
    [keys.headCount, uint32(config.headCount)],
    [keys.headCountKv, uint32(config.kvHeadCount)],
    [keys.ropeFreqBase, float32(config.ropeFreqBase)],
    [keys.ropeDimensionCount, uint32(headDimOf(config))],
    [keys.normEpsilon, float32(config.normEpsilon)],
    [keys.vocabSize, uint32(config.vocabSize)],
  ];
}

/** Typed reads of metadata values; every error names the source and the key. */
class MetadataReader {
  constructor(
    readonly metadata: ReadonlyMap<string, GgufValue>,
    readonly source: string,
  ) {}

  string(key: string): string {
    const value = this.required(key);
    if (value.type !== 'string') throw new ModelFormatError(this.source, key, `must be a string, got a ${value.type}`);
    return value.value;
  }

  positiveInteger(key: string): number {
    return this.checkPositiveInteger(key, this.number(key, this.required(key)));
  }

  optionalPositiveInteger(key: string): number | undefined {
    const value = this.metadata.get(key);
    return value === undefined ? undefined : this.checkPositiveInteger(key, this.number(key, value));
  }

  positiveNumber(key: string): number {
    return this.checkPositive(key, this.number(key, this.required(key)));
  }

  optionalPositiveNumber(key: string): number | undefined {
    const value = this.metadata.get(key);
    return value === undefined ? undefined : this.checkPositive(key, this.number(key, value));
  }

  private required(key: string): GgufValue {
    const value = this.metadata.get(key);
    if (value === undefined) throw new ModelFormatError(this.source, key, 'missing; a model file must state it');
    return value;
  }

  private number(key: string, value: GgufValue): number {
    if (value.type === 'string' || value.type === 'bool' || value.type === 'array') throw new ModelFormatError(this.source, key, `must be a single number, got a ${value.type}`);
    if (typeof value.value === 'bigint') {
      if (value.value > BigInt(Number.MAX_SAFE_INTEGER) || value.value < -BigInt(Number.MAX_SAFE_INTEGER)) throw new ModelFormatError(this.source, key, `${value.value} is too large`);
      return Number(value.value);
    }
    return value.value;
  }

  private checkPositiveInteger(key: string, value: number): number {
    if (!Number.isInteger(value) || value <= 0) throw new ModelFormatError(this.source, key, `must be a positive integer, got ${value}`);
    return value;
  }

  private checkPositive(key: string, value: number): number {
    if (!Number.isFinite(value) || value <= 0) throw new ModelFormatError(this.source, key, `must be a positive number, got ${value}`);
    return value;
  }
}
