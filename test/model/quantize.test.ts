/**
 * Quantizing a model: the plan (which type each tensor gets, by llama.cpp's rules), the
 * metadata of the result, a random llama model that still computes nearly the same logits
 * after quantization, and the file shell's refusals (malformed or truncated input).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { supportedTensorTypes as computableTypes } from '../../src/model/architecture.js';
import { expectedShapes, type ModelConfig } from '../../src/model/config.js';
import { openGguf, writeGgufFile } from '../../src/model/gguf/gguf-file.js';
import type { GgmlType, GgufValue } from '../../src/model/gguf/types.js';
import { dequantizeTensor, QuantizeRequestError, supportedTensorTypes as convertibleTypes } from '../../src/model/quant/index.js';
import { convertTensor, parseQuantizeMix, planQuantization, quantizedMetadata, useMoreBits, type QuantizeMix, type TensorToPlan } from '../../src/model/quantize.js';
import { quantizeModelFile } from '../../src/model/quantize-file.js';
import { InferenceSession, Transformer, type WeightTensor } from '../../src/model/transformer.js';
import { randomTensors, testConfig } from './helpers.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'nines-quantize-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

/** The tensors of a llama model as the plan sees them (all F32). */
function tensorList(config: ModelConfig): TensorToPlan[] {
  return [...expectedShapes(config)].map(([name, { rows, cols }]) => ({ name, dims: rows === 1 ? [cols] : [cols, rows], type: 'F32' as GgmlType }));
}

function typesByName(config: ModelConfig, mix: QuantizeMix): Map<string, GgmlType> {
  return new Map(planQuantization(tensorList(config), mix).map((planned) => [planned.name, planned.to]));
}

describe('the q4_k_m plan (llama.cpp’s llama_tensor_get_type)', () => {
  it('use_more_bits picks the first and last eighth of the layers and every third layer in between', () => {
    const picked = (layers: number) => Array.from({ length: layers }, (_, layer) => layer).filter((layer) => useMoreBits(layer, layers));
    expect(picked(8)).toEqual([0, 3, 6, 7]);
    // A 32-layer model (Llama 2 7B): layers 0-3, then 6, 9, ..., 27, then 28-31.
    expect(picked(32)).toEqual([0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]);
    expect(picked(2)).toEqual([1]);
  });

  it('gives Q6_K to output.weight and to attn_v and ffn_down in those layers, Q4_K to the other matrices, and keeps norms F32', () => {
    const config = testConfig({ dim: 256, hiddenDim: 512, headCount: 4, kvHeadCount: 2, layerCount: 8, vocabSize: 64 });
    const types = typesByName(config, 'q4_k_m');
    expect(types.get('output.weight')).toBe('Q6_K');
    expect(types.get('token_embd.weight')).toBe('Q4_K');
    expect(types.get('output_norm.weight')).toBe('F32');
    for (let layer = 0; layer < 8; layer++) {
      const more = [0, 3, 6, 7].includes(layer) ? 'Q6_K' : 'Q4_K';
      expect(types.get(`blk.${layer}.attn_v.weight`), `layer ${layer} attn_v`).toBe(more);
      expect(types.get(`blk.${layer}.ffn_down.weight`), `layer ${layer} ffn_down`).toBe(more);
      for (const name of ['attn_q', 'attn_k', 'attn_output', 'ffn_gate', 'ffn_up']) expect(types.get(`blk.${layer}.${name}.weight`)).toBe('Q4_K');
      expect(types.get(`blk.${layer}.attn_norm.weight`)).toBe('F32');
    }
  });

  it('counts layers in llama.cpp’s order whatever the file’s order, and gives a tied token_embd the output’s Q6_K', () => {
    const config = testConfig({ dim: 256, hiddenDim: 512, headCount: 4, kvHeadCount: 2, layerCount: 12, vocabSize: 64, tiedEmbeddings: true });
    const forward = typesByName(config, 'q4_k_m');
    const reversed = new Map(planQuantization(tensorList(config).reverse(), 'q4_k_m').map((planned) => [planned.name, planned.to]));
    expect(reversed).toEqual(forward);
    expect(forward.get('token_embd.weight')).toBe('Q6_K');
    // 12 layers: 12 / 8 = 1 and 7 * 12 / 8 = 10, so layers 0, 3, 6, 9, 10, 11.
    expect([...forward].filter(([name, type]) => name.endsWith('attn_v.weight') && type === 'Q6_K').map(([name]) => name)).toEqual(
      [0, 3, 6, 9, 10, 11].map((layer) => `blk.${layer}.attn_v.weight`),
    );
  });

  it('falls back as llama.cpp does when rows are not whole blocks: Q4_K to Q5_0, Q6_K to Q8_0, then F16; the output to Q8_0', () => {
    const tensors: TensorToPlan[] = [
      { name: 'blk.0.attn_q.weight', dims: [96, 96], type: 'F32' },
      { name: 'blk.0.ffn_down.weight', dims: [96, 64], type: 'F32' },
      { name: 'blk.0.ffn_up.weight', dims: [40, 64], type: 'F16' },
      { name: 'output.weight', dims: [96, 10], type: 'F32' },
      { name: 'blk.0.attn_q.bias', dims: [96], type: 'F32' },
    ];
    const plan = planQuantization(tensors, 'q4_k_m');
    expect(plan.map((planned) => planned.to)).toEqual(['Q5_0', 'Q8_0', 'F16', 'Q8_0', 'F32']);
    expect(plan[0].note).toBe("rows of 96 are not whole Q4_K blocks of 256, so Q5_0 (llama.cpp's fallback)");
    expect(plan[2].note).toMatch(/rows of 40 .* so F16/);
    expect(planQuantization(tensors, 'q8_0').map((planned) => planned.to)).toEqual(['Q8_0', 'Q8_0', 'F16', 'Q8_0', 'F32']);
  });

  it('says so when it re-quantizes a tensor that was already quantized', () => {
    const [planned] = planQuantization([{ name: 'blk.0.ffn_up.weight', dims: [256, 64], type: 'Q4_K' }], 'q8_0');
    expect(planned).toEqual({ name: 'blk.0.ffn_up.weight', dims: [256, 64], from: 'Q4_K', to: 'Q8_0', note: 're-quantized from Q4_K: its error stays and the new one adds to it' });
    expect(planQuantization([{ name: 'blk.0.ffn_up.weight', dims: [256, 64], type: 'Q4_K' }], 'q4_k_m')[0].note).toBeUndefined();
  });

  it('q6_k, q8_0, f16 and f32 put every weight matrix in their type and leave norms alone', () => {
    const config = testConfig({ dim: 256, hiddenDim: 512, headCount: 4, kvHeadCount: 2, layerCount: 2, vocabSize: 64 });
    for (const [mix, type] of [['q6_k', 'Q6_K'], ['q8_0', 'Q8_0'], ['f16', 'F16'], ['f32', 'F32']] as const) {
      for (const [name, to] of typesByName(config, mix)) expect(to, `${mix} ${name}`).toBe(name.includes('norm') ? 'F32' : type);
    }
  });

  it('copies a tensor already in its target type unchanged, and names a tensor whose type it cannot convert', () => {
    const data = new Uint8Array([1, 2, 3, 4]);
    expect(convertTensor({ name: 'x.weight', dims: [256], from: 'Q5_K', to: 'Q5_K' }, data)).toBe(data);
    expect(() => convertTensor({ name: 'blk.0.ffn_up.weight', dims: [256, 2], from: 'Q5_K', to: 'Q4_K' }, new Uint8Array(352))).toThrow(
      "converting tensor 'blk.0.ffn_up.weight' to Q4_K: tensor type Q5_K is not supported yet",
    );
  });

  it('parses mix names case-insensitively and lists the valid ones otherwise', () => {
    expect(parseQuantizeMix('Q4_K_M')).toBe('q4_k_m');
    expect(() => parseQuantizeMix('q4_k_s')).toThrow(new QuantizeRequestError("unknown quantization type 'q4_k_s'; the types are q4_k_m, q6_k, q8_0, f16, f32"));
  });
});

describe('tensor types', () => {
  it('nines computes with exactly the types it can read, validate and write, the common Q4_K_M types among them', () => {
    expect([...computableTypes].sort()).toEqual([...convertibleTypes].sort());
    for (const type of ['F32', 'F16', 'Q8_0', 'Q4_0', 'Q5_0', 'Q4_K', 'Q6_K'] as const) expect(computableTypes).toContain(type);
  });
});

describe('metadata of a quantized file', () => {
  it('copies every pair in order and sets general.file_type and general.quantization_version as llama.cpp does', () => {
    const metadata = new Map<string, GgufValue>([
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['general.file_type', { type: 'uint32', value: 0 }],
      ['llama.block_count', { type: 'uint32', value: 2 }],
    ]);
    expect(quantizedMetadata(metadata, 'q4_k_m')).toEqual([
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['general.file_type', { type: 'uint32', value: 15 }],
      ['llama.block_count', { type: 'uint32', value: 2 }],
      ['general.quantization_version', { type: 'uint32', value: 2 }],
    ]);
    const codes = Object.fromEntries((['f32', 'f16', 'q8_0', 'q4_k_m', 'q6_k'] as const).map((mix) => [mix, quantizedMetadata(new Map(), mix).find(([key]) => key === 'general.file_type')![1]]));
    expect(codes).toEqual({ f32: { type: 'uint32', value: 0 }, f16: { type: 'uint32', value: 1 }, q8_0: { type: 'uint32', value: 7 }, q4_k_m: { type: 'uint32', value: 15 }, q6_k: { type: 'uint32', value: 18 } });
  });
});

/** Relative root mean square difference of two logit vectors. */
function relativeDifference(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  let error = 0;
  let power = 0;
  for (let i = 0; i < expected.length; i++) {
    error += (expected[i] - actual[i]) ** 2;
    power += expected[i] ** 2;
  }
  return Math.sqrt(error / power);
}

describe('a random llama model, quantized', () => {
  const rng = new Rng(5);
  const config = testConfig({ dim: 256, hiddenDim: 512, headCount: 4, kvHeadCount: 2, layerCount: 3, vocabSize: 64 });
  const tensors = randomTensors(config, rng, 'F32');
  const tokens = Array.from({ length: 8 }, () => rng.nextInt(config.vocabSize));
  const reference = new InferenceSession(Transformer.fromTensors(config, tensors, 'f32'));
  const referenceLogits = tokens.map((token, position) => Array.from(reference.forward(token, position)));

  // The logits' error is about five times each weight's relative error (Q8_0 0.5%, Q6_K 1.8%,
  // Q4_K 7%), because 23 matrices, each quantized independently, add their errors along the
  // residual stream. Measured (worst position): q8_0 0.026, q6_k 0.089, q4_k_m 0.37.
  const bounds: Record<string, number> = { q8_0: 0.035, q6_k: 0.12, q4_k_m: 0.45 };
  for (const mix of ['q4_k_m', 'q6_k'] as const) {
    it(`${mix}: runs through Transformer and InferenceSession with logits within ${bounds[mix]} (relative RMS) of the F32 model's, and those of its dequantized weights within 8-bit activation rounding`, () => {
      const plan = planQuantization(tensorList(config), mix);
      const quantized = new Map<string, WeightTensor>();
      const dequantized = new Map<string, WeightTensor>();
      for (const planned of plan) {
        const data = convertTensor(planned, tensors.get(planned.name)!.data);
        quantized.set(planned.name, { type: planned.to, dims: planned.dims, data });
        const values = dequantizeTensor(planned.to, data, planned.dims.reduce((a, b) => a * b, 1));
        dequantized.set(planned.name, { type: 'F32', dims: planned.dims, data: new Uint8Array(values.buffer) });
      }
      expect(new Set(plan.map((planned) => planned.to))).toEqual(mix === 'q4_k_m' ? new Set(['Q4_K', 'Q6_K', 'F32']) : new Set(['Q6_K', 'F32']));
      const session = new InferenceSession(Transformer.fromTensors(config, quantized, mix));
      const sameWeights = new InferenceSession(Transformer.fromTensors(config, dequantized, `${mix} dequantized`));
      tokens.forEach((token, position) => {
        const logits = Array.from(session.forward(token, position));
        expect(relativeDifference(referenceLogits[position], logits), `position ${position}`).toBeLessThan(bounds[mix]);
        // The kernels multiply the numbers the dequantizer gives, by activations rounded to 8 bits as llama.cpp's
        // are (src/model/kernels/activations.ts; test/model/kernels checks the products exactly): measured 0.021.
        expect(relativeDifference(sameWeights.forward(token, position), logits), `position ${position}`).toBeLessThan(0.04);
      });
    });
  }
});

describe('quantizeModelFile', () => {
  const config = testConfig({ dim: 256, hiddenDim: 256, headCount: 2, kvHeadCount: 1, layerCount: 1, vocabSize: 8 });

  function writeModel(file: string, mutate: (tensors: Map<string, WeightTensor>) => void = () => {}): void {
    const tensors = randomTensors(config, new Rng(9), 'F32');
    mutate(tensors);
    writeGgufFile(file, { metadata: [['general.architecture', { type: 'string', value: 'llama' }]], tensors: [...tensors].map(([name, tensor]) => ({ name, ...tensor })) });
  }

  it('writes every tensor in its planned type, readable back', () => {
    const input = path.join(directory, 'plain.gguf');
    const output = path.join(directory, 'plain-q6.gguf');
    writeModel(input);
    const seen: string[] = [];
    const report = quantizeModelFile(input, output, 'q6_k', (tensor) => seen.push(`${tensor.name} ${tensor.to}`));
    expect(seen).toContain('blk.0.ffn_up.weight Q6_K');
    expect(report.bytesAfter).toBeLessThan(report.bytesBefore / 4);
    const file = openGguf(output);
    try {
      expect(file.tensor('blk.0.attn_q.weight')?.type).toBe('Q6_K');
      expect(file.metadata.get('general.file_type')).toEqual({ type: 'uint32', value: 18 });
      expect(file.readTensor('blk.0.attn_q.weight').length).toBe(210 * 256);
    } finally {
      file.close();
    }
  });

  it('refuses an input with a malformed quantized block, naming the tensor and block', () => {
    const input = path.join(directory, 'bad-block.gguf');
    writeModel(input, (tensors) => {
      const tensor = tensors.get('blk.0.ffn_down.weight')!;
      const values = dequantizeTensor('F32', tensor.data, 256 * 256);
      const bytes = convertTensor({ name: 'blk.0.ffn_down.weight', dims: tensor.dims, from: 'F32', to: 'Q4_K' }, new Uint8Array(values.buffer));
      bytes[7 * 144 + 2] = 0x00;
      bytes[7 * 144 + 3] = 0x7c; // block 7's dmin: +infinity
      tensors.set('blk.0.ffn_down.weight', { ...tensor, type: 'Q4_K', data: bytes });
    });
    expect(() => quantizeModelFile(input, path.join(directory, 'never.gguf'), 'q8_0')).toThrow(
      `${input}: tensor 'blk.0.ffn_down.weight' block 7 min scale dmin: is Infinity (elements 1792 to 2047); Q4_K scales must be finite`,
    );
    expect(fs.existsSync(path.join(directory, 'never.gguf'))).toBe(false);
  });

  it('refuses a truncated Q4_K or Q6_K model file, saying where its data runs out', () => {
    for (const mix of ['q4_k_m', 'q6_k'] as const) {
      const input = path.join(directory, `whole-${mix}.gguf`);
      const quantized = path.join(directory, `quantized-${mix}.gguf`);
      writeModel(input);
      quantizeModelFile(input, quantized, mix);
      const bytes = fs.readFileSync(quantized);
      const truncated = path.join(directory, `truncated-${mix}.gguf`);
      fs.writeFileSync(truncated, bytes.subarray(0, bytes.length - 300));
      expect(() => quantizeModelFile(truncated, path.join(directory, 'never.gguf'), 'q8_0')).toThrow(/tensor '[a-z_.0-9]+' .*runs past the end of the file/);
    }
  });

  it('refuses a missing input, an output that is the input, and an output directory that does not exist', () => {
    const input = path.join(directory, 'plain.gguf');
    expect(() => quantizeModelFile(path.join(directory, 'missing.gguf'), path.join(directory, 'out.gguf'), 'q8_0')).toThrow(/input file .*missing\.gguf does not exist/);
    expect(() => quantizeModelFile(input, path.join(directory, '.', 'plain.gguf'), 'q8_0')).toThrow(/is the input file; write the quantized model to a new path/);
    expect(() => quantizeModelFile(input, path.join(directory, 'no', 'such', 'out.gguf'), 'q8_0')).toThrow(QuantizeRequestError);
  });
});
