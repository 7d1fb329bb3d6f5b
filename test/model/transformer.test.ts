import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { type ModelConfig, tensorNames } from '../../src/model/config.js';
import { InferenceSession, Transformer, type WeightTensor } from '../../src/model/transformer.js';
import { ContextLengthError, InvalidTokenError, ModelFormatError, PositionError } from '../../src/model/errors.js';
import { type TestTensorType, encodeTensor, randomTensors, randomValues, testConfig } from './helpers.js';
import { referenceLogits } from './reference-forward.js';

interface Case {
  name: string;
  config: Partial<ModelConfig>;
  type: TestTensorType;
}

// Odd widths (12, 20) exercise the unrolled loops' tails; Q8_0 needs widths in whole blocks of 32.
const cases: Case[] = [
  { name: 'llama, multi-head, untied, F32', config: { dim: 12, headCount: 3, kvHeadCount: 3, hiddenDim: 20, vocabSize: 23 }, type: 'F32' },
  { name: 'llama, GQA 2 per kv head, tied, F16', config: { dim: 16, headCount: 4, kvHeadCount: 2, hiddenDim: 24, tiedEmbeddings: true }, type: 'F16' },
  { name: 'llama, GQA 4 per kv head, untied, Q8_0', config: { dim: 32, headCount: 8, kvHeadCount: 2, hiddenDim: 64, layerCount: 3 }, type: 'Q8_0' },
  { name: 'llama, GQA 4 per kv head, tied, F32', config: { dim: 24, headCount: 4, kvHeadCount: 1, hiddenDim: 36, tiedEmbeddings: true, ropeFreqBase: 500 }, type: 'F32' },
  { name: 'qwen2 with biases, GQA 2, untied, F32', config: { architecture: 'qwen2', dim: 16, headCount: 4, kvHeadCount: 2, hiddenDim: 28 }, type: 'F32' },
  { name: 'qwen2 with biases, multi-head, tied, F16', config: { architecture: 'qwen2', dim: 12, headCount: 2, kvHeadCount: 2, hiddenDim: 20, tiedEmbeddings: true, ropeFreqBase: 1e6 }, type: 'F16' },
  { name: 'qwen2 with biases, GQA 4, tied, Q8_0', config: { architecture: 'qwen2', dim: 64, headCount: 8, kvHeadCount: 2, hiddenDim: 96, tiedEmbeddings: true }, type: 'Q8_0' },
];

describe('forward pass against a float64 reference', () => {
  for (const [index, testCase] of cases.entries()) {
    it(testCase.name, () => {
      const rng = new Rng(100 + index);
      const config = testConfig(testCase.config);
      const tensors = randomTensors(config, rng, testCase.type);
      const model = Transformer.fromTensors(config, tensors, 'random test model');
      const tokens = Array.from({ length: 9 }, () => rng.nextInt(config.vocabSize));
      const expected = referenceLogits(config, tensors, tokens);
      const session = new InferenceSession(model);
      tokens.forEach((token, position) => {
        const logits = session.forward(token, position);
        const scale = Math.max(...expected[position].map(Math.abs));
        const worst = Math.max(...expected[position].map((value, i) => Math.abs(value - logits[i])));
        expect(worst / scale, `position ${position}`).toBeLessThan(2e-5);
      });
    });
  }

  it('going back to an earlier position recomputes the same logits', () => {
    const config = testConfig({});
    const model = Transformer.fromTensors(config, randomTensors(config, new Rng(1), 'F32'), 'test');
    const session = new InferenceSession(model);
    session.forward(3, 0);
    const first = Array.from(session.forward(5, 1));
    session.forward(7, 2);
    expect(Array.from(session.forward(5, 1))).toEqual(first);
    expect(session.length).toBe(2);
  });
});

describe('forward pass allocates nothing', () => {
  it('returns the same logits array on every call', () => {
    const config = testConfig({ contextLength: 200, dim: 32, hiddenDim: 64 });
    const model = Transformer.fromTensors(config, randomTensors(config, new Rng(2), 'Q8_0'), 'test');
    const session = new InferenceSession(model);
    const first = session.forward(0, 0);
    for (let position = 1; position < 200; position++) expect(session.forward(position % config.vocabSize, position)).toBe(first);
    expect(first.length).toBe(config.vocabSize);
  });
});

describe('input checks', () => {
  const config = testConfig({ contextLength: 4 });
  const model = Transformer.fromTensors(config, randomTensors(config, new Rng(3), 'F32'), 'test');

  it('refuses tokens outside the vocabulary', () => {
    const session = new InferenceSession(model);
    expect(() => session.forward(40, 0)).toThrow(InvalidTokenError);
    expect(() => session.forward(-1, 0)).toThrow(/token -1 is not in the vocabulary \(valid ids are integers 0 to 39\)/);
    expect(() => session.forward(1.5, 0)).toThrow(InvalidTokenError);
  });

  it('refuses positions outside the window or skipping ahead', () => {
    const session = new InferenceSession(model);
    expect(() => session.forward(1, 1)).toThrow(PositionError);
    expect(() => session.forward(1, 1)).toThrow(/skips ahead/);
    for (let position = 0; position < 4; position++) session.forward(1, position);
    expect(() => session.forward(1, 4)).toThrow(ContextLengthError);
    expect(() => session.forward(1, 4)).toThrow(/position 4 is outside the context window of 4 positions/);
  });

  it('refuses a KV cache over the limit before allocating it', () => {
    const long = testConfig({ contextLength: 2 ** 27 });
    const longModel = Transformer.fromTensors(long, randomTensors(long, new Rng(3), 'F32'), 'test');
    expect(() => new InferenceSession(longModel)).toThrow(/a KV cache for 134217728 positions takes 17179869184 bytes, more than the 4294967296-byte limit; ask for a context length of at most 33554432/);
    expect(new InferenceSession(longModel, { contextLength: 16 }).contextLength).toBe(16);
  });

  it('refuses a session longer than the model context', () => {
    expect(() => new InferenceSession(model, { contextLength: 5 })).toThrow(/integer from 1 to the model's 4, got 5/);
    expect(new InferenceSession(model, { contextLength: 2 }).contextLength).toBe(2);
  });
});

describe('tensor checks', () => {
  const config = testConfig({});
  const fresh = () => randomTensors(config, new Rng(4), 'F32');
  const load = (tensors: Map<string, WeightTensor>, modelConfig: ModelConfig = config) => () => Transformer.fromTensors(modelConfig, tensors, 'model.gguf');

  it('names a missing tensor and counts the others', () => {
    const tensors = fresh();
    tensors.delete(tensorNames.gate(1));
    tensors.delete(tensorNames.up(0));
    expect(load(tensors)).toThrow(ModelFormatError);
    expect(load(tensors)).toThrow(/^model\.gguf: blk\.0\.ffn_up\.weight: tensor missing \(and 1 more: blk\.1\.ffn_gate\.weight\)/);
  });

  it('names a mis-shaped tensor with both shapes', () => {
    const tensors = fresh();
    const query = tensors.get(tensorNames.query(0))!;
    tensors.set(tensorNames.query(0), { ...query, dims: [16, 15], data: query.data.subarray(0, 16 * 15 * 4) });
    expect(load(tensors)).toThrow(/blk\.0\.attn_q\.weight: dims are \[16, 15\] but the config needs \[16, 16\]/);
  });

  it('accepts trailing unit dims but not transposed ones', () => {
    const tensors = fresh();
    const norm = tensors.get(tensorNames.outputNorm)!;
    tensors.set(tensorNames.outputNorm, { ...norm, dims: [16, 1] });
    expect(load(tensors)).not.toThrow();
    const gate = tensors.get(tensorNames.gate(0))!;
    tensors.set(tensorNames.gate(0), { ...gate, dims: [32, 16] });
    expect(load(tensors)).toThrow(/ffn_gate\.weight: dims are \[32, 16\] but the config needs \[16, 32\]/);
  });

  it('names an unsupported type and a wrong byte count', () => {
    const tensors = fresh();
    const down = tensors.get(tensorNames.down(1))!;
    tensors.set(tensorNames.down(1), { ...down, type: 'Q5_K' });
    expect(load(tensors)).toThrow(/blk\.1\.ffn_down\.weight: tensor type Q5_K is not supported/);
    tensors.set(tensorNames.down(1), { ...down, data: down.data.subarray(4) });
    expect(load(tensors)).toThrow(/blk\.1\.ffn_down\.weight: expected 2048 bytes for F32 \(16, 32\), got 2044/);
    tensors.set(tensorNames.down(1), { ...down, type: 'Q8_0', data: encodeTensor('Q8_0', randomValues(new Rng(1), 16 * 32, 1)) });
    expect(load(tensors)).not.toThrow();
  });

  it('refuses tensors the architecture does not use, and an output.weight when tied', () => {
    const tensors = fresh();
    tensors.set('rope_freqs.weight', { type: 'F32', dims: [4], data: new Uint8Array(16) });
    expect(load(tensors)).toThrow(/rope_freqs\.weight: unexpected tensor/);
    tensors.delete('rope_freqs.weight');
    expect(load(tensors, { ...config, tiedEmbeddings: true })).toThrow(/output\.weight: present, but the config says the embeddings are tied/);
  });

  it('needs the qwen2 biases', () => {
    const tensors = fresh();
    expect(load(tensors, { ...config, architecture: 'qwen2' })).toThrow(/blk\.0\.attn_q\.bias: tensor missing/);
  });

  it('refuses an invalid config', () => {
    expect(load(fresh(), { ...config, headCount: 3 })).toThrow(/model\.gguf: config: invalid model config: dim 16 is not divisible by headCount 3/);
  });
});
