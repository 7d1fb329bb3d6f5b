/**
 * `nines model quantize` end to end on a small model in a temporary directory: the
 * command as registered on the `model` group, its report, the file it writes (which nines
 * reads back and runs), and its refusals.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { registerQuantize } from '../../src/cli/quantize.js';
import { Rng } from '../../src/core/rng.js';
import { configFromGgufMetadata, configToGgufMetadata } from '../../src/model/architecture.js';
import { openGguf, writeGgufFile } from '../../src/model/gguf/gguf-file.js';
import { validateTensorData } from '../../src/model/quant/index.js';
import { tokenizerFromGgufMetadata, tokenizerToGgufMetadata, trainBpe } from '../../src/model/tokenizer/index.js';
import { InferenceSession, Transformer, type WeightTensor } from '../../src/model/transformer.js';
import { randomTensors, testConfig } from '../model/helpers.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'nines-quantize-cli-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const tokenizer = trainBpe('In the beginning God created the heaven and the earth. '.repeat(20), { vocabSize: 262, specialTokens: ['<|endoftext|>'] });
const config = testConfig({ vocabSize: tokenizer.vocabSize, dim: 256, hiddenDim: 512, headCount: 4, kvHeadCount: 2, layerCount: 2, contextLength: 32 });
const input = path.join(directory, 'model.gguf');
writeGgufFile(input, {
  metadata: [...configToGgufMetadata(config, 'quantize test'), ['general.file_type', { type: 'uint32', value: 0 }], ...tokenizerToGgufMetadata(tokenizer)],
  tensors: [...randomTensors(config, new Rng(4), 'F32')].map(([name, tensor]) => ({ name, ...tensor })),
});

/** Runs `nines model quantize ...args`, returning what it printed (stdout) and commander's errors. */
async function quantize(args: string[]): Promise<{ stdout: string; errors: string }> {
  const errors: string[] = [];
  const program = new Command().exitOverride().configureOutput({ writeErr: (text) => void errors.push(text), writeOut: () => {} });
  const model = program.command('model').exitOverride().configureOutput({ writeErr: (text) => void errors.push(text), writeOut: () => {} });
  registerQuantize(model);
  const printed: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(['node', 'nines', 'model', 'quantize', ...args]);
  } finally {
    vi.restoreAllMocks();
  }
  return { stdout: printed.join(''), errors: errors.join('') };
}

describe('nines model quantize', () => {
  it('writes a q4_k_m model that nines loads and runs, reporting each tensor and the total', async () => {
    const output = path.join(directory, 'model-q4_k_m.gguf');
    const { stdout } = await quantize([input, output, '--type', 'q4_k_m']);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(3 + 2 * 9 + 1); // token_embd, output_norm, output, 9 tensors a layer, the total
    expect(stdout).toMatch(/\[ *\d+\/\d+\] blk\.1\.attn_v\.weight +\[256, 128\] +F32 +-> Q6_K +128\.0 KiB -> +26\.3 KiB/);
    expect(stdout).toMatch(/blk\.0\.attn_v\.weight .* F32 +-> Q4_K/);
    expect(stdout).toMatch(/blk\.0\.attn_norm\.weight .* F32 +\(kept\)/);
    expect(lines.at(-1)).toMatch(/^total: tensors [\d.]+ MiB -> [\d.]+ [KM]iB \([\d.]+x smaller, [\d.]+ bits per weight\); wrote .*model-q4_k_m\.gguf \([\d.]+ [KM]iB, general\.file_type 15\)$/);
    // Load it as the model loader does (on the TypeScript kernels), and run a token through it.
    const written = openGguf(output);
    try {
      const readBack = tokenizerFromGgufMetadata(written.metadata, output);
      const weights = new Map<string, WeightTensor>();
      for (const info of written.tensors) {
        const data = written.readTensor(info.name);
        validateTensorData(info.type, data, output, info.name);
        weights.set(info.name, { type: info.type, dims: info.dims, data });
      }
      expect(weights.get('blk.0.ffn_up.weight')?.type).toBe('Q4_K');
      expect(weights.get('blk.1.ffn_down.weight')?.type).toBe('Q6_K');
      const transformer = Transformer.fromTensors(configFromGgufMetadata(written.metadata, output, weights.keys()), weights, output);
      const logits = new InferenceSession(transformer).forward(readBack.encode('In')[0], 0);
      expect(logits.length).toBe(tokenizer.vocabSize);
      expect(logits.every(Number.isFinite)).toBe(true);
    } finally {
      written.close();
    }
    // Every metadata pair is copied; only the file type and the quantization version are llama.cpp's new values.
    const before = openGguf(input);
    const after = openGguf(output);
    try {
      for (const [key, value] of before.metadata) if (key !== 'general.file_type') expect(after.metadata.get(key), key).toEqual(value);
      expect(after.metadata.get('general.file_type')).toEqual({ type: 'uint32', value: 15 });
      expect(after.metadata.get('general.quantization_version')).toEqual({ type: 'uint32', value: 2 });
    } finally {
      before.close();
      after.close();
    }
  });

  it('writes q8_0, q6_k, f16 and f32 files with llama.cpp’s file type codes', async () => {
    for (const [type, code, tensorType] of [['q8_0', 7, 'Q8_0'], ['q6_k', 18, 'Q6_K'], ['F16', 1, 'F16'], ['f32', 0, 'F32']] as const) {
      const output = path.join(directory, `model-${type}.gguf`);
      await quantize([input, output, '--type', type]);
      const file = openGguf(output);
      try {
        expect(file.metadata.get('general.file_type'), type).toEqual({ type: 'uint32', value: code });
        expect(file.tensor('blk.0.attn_q.weight')?.type, type).toBe(tensorType);
      } finally {
        file.close();
      }
    }
  });

  it('refuses a bad or missing --type, listing the valid ones', async () => {
    for (const flags of [['--type', 'q4_k_s'], []]) {
      const result = quantize([input, path.join(directory, 'never.gguf'), ...flags]);
      await expect(result).rejects.toBeInstanceOf(CommanderError);
    }
    const bad = await quantize([input, path.join(directory, 'never.gguf'), '--type', 'q4']).catch((error: CommanderError) => error);
    expect(bad).toBeInstanceOf(CommanderError);
    expect((bad as CommanderError).exitCode).not.toBe(0);
    expect((bad as CommanderError).message).toMatch(/--type must be one of q4_k_m, q6_k, q8_0, f16, f32, got 'q4'/);
    expect(fs.existsSync(path.join(directory, 'never.gguf'))).toBe(false);
  });

  it('refuses a missing input and an output that is the input, with a message saying what to do', async () => {
    await expect(quantize([path.join(directory, 'absent.gguf'), path.join(directory, 'out.gguf'), '--type', 'q8_0'])).rejects.toThrow(/input file .*absent\.gguf does not exist/);
    await expect(quantize([input, input, '--type', 'q8_0'])).rejects.toThrow(/is the input file; write the quantized model to a new path/);
    await expect(quantize([input, input, '--type', 'q8_0'])).rejects.toMatchObject({ code: 'QUANTIZE_REQUEST' });
  });
});
