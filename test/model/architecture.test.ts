import { describe, expect, it } from 'vitest';
import { configFromGgufMetadata, configToGgufMetadata, supportedArchitectures } from '../../src/model/architecture.js';
import { type ModelConfig, expectedShapes, tensorNames } from '../../src/model/config.js';
import { ModelFormatError } from '../../src/model/errors.js';
import type { GgufValue } from '../../src/model/gguf/types.js';
import { testConfig } from './helpers.js';

const tokenList = (count: number): GgufValue => ({ type: 'array', itemType: 'string', values: Array.from({ length: count }, (_, i) => `t${i}`) });

function metadataOf(config: ModelConfig): Map<string, GgufValue> {
  const metadata = new Map(configToGgufMetadata(config, 'test model'));
  metadata.set('tokenizer.ggml.tokens', tokenList(config.vocabSize));
  return metadata;
}

const namesOf = (config: ModelConfig) => [...expectedShapes(config).keys()];

describe('configToGgufMetadata', () => {
  it('writes the keys and types llama.cpp reads', () => {
    const metadata = new Map(configToGgufMetadata(testConfig({ architecture: 'qwen2', dim: 64, headCount: 4 }), 'tiny'));
    expect(metadata.get('general.architecture')).toEqual({ type: 'string', value: 'qwen2' });
    expect(metadata.get('general.name')).toEqual({ type: 'string', value: 'tiny' });
    expect(metadata.get('qwen2.embedding_length')).toEqual({ type: 'uint32', value: 64 });
    expect(metadata.get('qwen2.attention.head_count_kv')).toEqual({ type: 'uint32', value: 1 });
    expect(metadata.get('qwen2.rope.dimension_count')).toEqual({ type: 'uint32', value: 16 });
    expect(metadata.get('qwen2.rope.freq_base')).toEqual({ type: 'float32', value: 10000 });
    expect(metadata.get('qwen2.attention.layer_norm_rms_epsilon')).toEqual({ type: 'float32', value: 1e-5 });
    for (const key of ['context_length', 'block_count', 'feed_forward_length', 'attention.head_count', 'vocab_size']) expect(metadata.get(`qwen2.${key}`)?.type).toBe('uint32');
  });

  it('refuses an invalid config', () => {
    expect(() => configToGgufMetadata(testConfig({ kvHeadCount: 3, headCount: 4 }), 'x')).toThrow(/headCount 4 is not divisible by kvHeadCount 3/);
  });
});

describe('configFromGgufMetadata', () => {
  it('reads back what configToGgufMetadata wrote, deciding tied embeddings from the tensor names', () => {
    for (const config of [testConfig({}), testConfig({ architecture: 'qwen2', tiedEmbeddings: true, ropeFreqBase: 1e6, normEpsilon: 1e-6, kvHeadCount: 2 })]) {
      const back = configFromGgufMetadata(metadataOf(config), 'model.gguf', namesOf(config));
      // In memory the values survive exactly (a file's float32 would round the epsilon).
      expect(back).toEqual(config);
    }
  });

  it('uses llama.cpp defaults for head_count_kv and freq_base, and accepts 64-bit and float64 numbers', () => {
    const metadata = metadataOf(testConfig({}));
    metadata.delete('llama.attention.head_count_kv');
    metadata.delete('llama.rope.freq_base');
    metadata.delete('llama.vocab_size');
    metadata.set('llama.block_count', { type: 'uint64', value: 3n });
    metadata.set('llama.attention.layer_norm_rms_epsilon', { type: 'float64', value: 1e-6 });
    const config = configFromGgufMetadata(metadata, 'm', []);
    expect(config).toMatchObject({ kvHeadCount: 2, ropeFreqBase: 10000, layerCount: 3, normEpsilon: 1e-6, vocabSize: 40, tiedEmbeddings: true });
  });

  it('refuses other architectures, listing the supported ones', () => {
    const metadata = metadataOf(testConfig({}));
    metadata.set('general.architecture', { type: 'string', value: 'gpt2' });
    expect(() => configFromGgufMetadata(metadata, 'gpt2.gguf', [])).toThrow(ModelFormatError);
    expect(() => configFromGgufMetadata(metadata, 'gpt2.gguf', [])).toThrow(/^gpt2\.gguf: general\.architecture: architecture 'gpt2' is not supported; nines runs llama and qwen2 models$/);
    expect(supportedArchitectures).toEqual(['llama', 'qwen2']);
  });

  it('names the source and key of a missing or mistyped value', () => {
    const metadata = metadataOf(testConfig({}));
    metadata.delete('llama.embedding_length');
    expect(() => configFromGgufMetadata(metadata, 'a.gguf', [])).toThrow(/^a\.gguf: llama\.embedding_length: missing/);
    metadata.set('llama.embedding_length', { type: 'string', value: '16' });
    expect(() => configFromGgufMetadata(metadata, 'a.gguf', [])).toThrow(/^a\.gguf: llama\.embedding_length: must be a single number, got a string/);
    metadata.set('llama.embedding_length', { type: 'float32', value: 16.5 });
    expect(() => configFromGgufMetadata(metadata, 'a.gguf', [])).toThrow(/must be a positive integer, got 16.5/);
    metadata.delete('general.architecture');
    expect(() => configFromGgufMetadata(metadata, 'a.gguf', [])).toThrow(/^a\.gguf: general\.architecture: missing/);
  });

  it('checks the vocabulary size sources agree', () => {
    const metadata = metadataOf(testConfig({}));
    metadata.set('tokenizer.ggml.tokens', tokenList(39));
    expect(() => configFromGgufMetadata(metadata, 'v.gguf', [])).toThrow(/llama\.vocab_size: says 40 tokens but tokenizer\.ggml\.tokens lists 39/);
    metadata.delete('tokenizer.ggml.tokens');
    expect(configFromGgufMetadata(metadata, 'v.gguf', []).vocabSize).toBe(40);
    metadata.delete('llama.vocab_size');
    expect(() => configFromGgufMetadata(metadata, 'v.gguf', [])).toThrow(/tokenizer\.ggml\.tokens: missing/);
  });

  it('refuses hyper-parameters that do not fit together, partial RoPE and RoPE scaling', () => {
    const metadata = metadataOf(testConfig({}));
    metadata.set('llama.attention.head_count', { type: 'uint32', value: 3 });
    expect(() => configFromGgufMetadata(metadata, 'h.gguf', [])).toThrow(/dim 16 is not divisible by headCount 3/);
    metadata.set('llama.attention.head_count', { type: 'uint32', value: 2 });
    metadata.set('llama.rope.dimension_count', { type: 'uint32', value: 4 });
    expect(() => configFromGgufMetadata(metadata, 'h.gguf', [])).toThrow(/llama\.rope\.dimension_count: rotary embeddings over 4 of 8 head dimensions/);
    metadata.delete('llama.rope.dimension_count');
    metadata.set('llama.rope.scaling.type', { type: 'string', value: 'yarn' });
    expect(() => configFromGgufMetadata(metadata, 'h.gguf', [])).toThrow(/RoPE scaling "yarn" is not supported/);
    metadata.set('llama.rope.scaling.type', { type: 'string', value: 'none' });
    expect(configFromGgufMetadata(metadata, 'h.gguf', [tensorNames.output]).tiedEmbeddings).toBe(false);
  });
});
