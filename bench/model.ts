/**
 * `npm run bench:model`: nines and llama.cpp in turn on the same GGUF files and thread
 * counts, measuring prompt processing (a 128-token prompt in one batch) and decoding (64
 * tokens, one forward pass each, greedy), as tokens per second with the ratio nines /
 * llama.cpp (above 1: nines is faster). Results go to bench/results/model.json.
 *
 * The files: the default model (models/nines-kjv.gguf) as written by `nines model
 * quantize` in the f32, q8_0 and q4_k_m mixes, and a ~100M-parameter model with random
 * weights (dim 768, 12 layers, the default model's vocabulary) in pure F32, Q8_0 and Q4_K,
 * written to a temporary directory. Each measurement is the median of --runs runs after
 * one warm-up run.
 *
 * Both sides decode greedily. llama.cpp runs with node-llama-cpp's defaults for a CPU
 * context (F16 KV cache, flash attention when llama.cpp picks it), as a user of it would;
 * nines keeps its KV cache in float32. llama.cpp decodes through node-llama-cpp's own
 * generation loop (sequence.evaluate), so its time includes that binding's JavaScript per
 * token, as nines' includes its own; on a model as small as the default one, that
 * overhead is most of llama.cpp's decode time.
 *
 * The machine is shared: the load averages at the start and the end are recorded with the results,
 * and figures taken under load mean little (llama.cpp's threads spin while they wait, so
 * its 2-thread figures suffer most when another process holds a core).
 *
 * Options: --runs <n> (default 3), --threads 1,2, --models default,100m,
 * --types f32,q8_0,q4_k, --out <path>, --quick (a tiny smoke run: 16-token prompt, 8 tokens,
 * one run, default model only).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelConfig } from '../src/model/config.js';
import { openGguf } from '../src/model/gguf/gguf-file.js';
import type { GgmlType } from '../src/model/gguf/types.js';
import { loadModel } from '../src/model/load-file.js';
import { quantizeModelFile } from '../src/model/quantize-file.js';
import type { QuantizeMix } from '../src/model/quantize.js';
import { tokenizerFromGgufMetadata, type BpeTokenizer } from '../src/model/tokenizer/index.js';
import { InferenceSession } from '../src/model/transformer.js';
import { type Llama, llamaCppPackageVersion, loadLlamaCpp } from './llama-cpp.js';
import { argumentValue, contentionWarning, describeMachine, formatTable, integerArgument, loadAverageNow, median, resultsDirectory, secondsOf, writeResults } from './measure.js';
import { parameterCount, writeRandomModel } from './random-model.js';

const defaultModelPath = fileURLToPath(new URL('../models/nines-kjv.gguf', import.meta.url));
const promptText = fileURLToPath(new URL('../test/fixtures/default-model/held-out.txt', import.meta.url));

/** The benchmark's ~100M-parameter model: GPT-2-small's width and depth, with a wider feed-forward layer. */
function largeModelConfig(vocabSize: number): ModelConfig {
  return { architecture: 'llama', vocabSize, dim: 768, hiddenDim: 2560, layerCount: 12, headCount: 12, kvHeadCount: 12, contextLength: 1024, ropeFreqBase: 10000, normEpsilon: 1e-5, tiedEmbeddings: false };
}

type TypeName = 'f32' | 'q8_0' | 'q4_k';
const defaultModelMix: Record<TypeName, QuantizeMix> = { f32: 'f32', q8_0: 'q8_0', q4_k: 'q4_k_m' };
const largeModelType: Record<TypeName, GgmlType> = { f32: 'F32', q8_0: 'Q8_0', q4_k: 'Q4_K' };

interface BenchFile {
  model: string;
  type: TypeName;
  path: string;
  parameters: number;
  /** The tensor types in the file, with their counts (the default model's rows force fallbacks; see src/model/quantize.ts). */
  tensorTypes: Record<string, number>;
}

interface Speeds {
  promptTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** nines only: which kernels computed ('wasm' or 'typescript') and on how many threads. */
  kernels?: string;
}

interface Workload {
  prompt: number[];
  /** The token fed first when decoding (the prompt's continuation in the text). */
  firstDecodeToken: number;
  decodeTokens: number;
}

function tensorTypesOf(path: string): { tensorTypes: Record<string, number>; parameters: number; tokenizer: BpeTokenizer } {
  const file = openGguf(path);
  try {
    const tensorTypes: Record<string, number> = {};
    let parameters = 0;
    for (const tensor of file.tensors) {
      tensorTypes[tensor.type] = (tensorTypes[tensor.type] ?? 0) + 1;
      parameters += tensor.dims.reduce((product, dim) => product * dim, 1);
    }
    return { tensorTypes, parameters, tokenizer: tokenizerFromGgufMetadata(file.metadata, path) };
  } finally {
    file.close();
  }
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

async function measureOurs(path: string, threads: number, workload: Workload, runs: number): Promise<Speeds> {
  const model = loadModel(path, { threads });
  try {
    const prompt: number[] = [];
    const decode: number[] = [];
    for (let run = 0; run <= runs; run++) {
      const session = new InferenceSession(model.transformer, { contextLength: workload.prompt.length + workload.decodeTokens });
      const promptSeconds = await secondsOf(() => session.forwardBatch(workload.prompt, 0));
      const decodeSeconds = await secondsOf(() => {
        let token = workload.firstDecodeToken;
        for (let step = 0; step < workload.decodeTokens; step++) token = argmax(session.forward(token, workload.prompt.length + step));
      });
      if (run === 0) continue; // the warm-up run
      prompt.push(workload.prompt.length / promptSeconds);
      decode.push(workload.decodeTokens / decodeSeconds);
    }
    const { kind, threads: used } = model.transformer.kernels;
    return { promptTokensPerSecond: median(prompt), decodeTokensPerSecond: median(decode), kernels: `${kind}, ${used} thread(s)` };
  } finally {
    await model.close();
  }
}

async function measureLlamaCpp(llama: Llama, path: string, threads: number, workload: Workload, runs: number): Promise<Speeds> {
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: workload.prompt.length + workload.decodeTokens + 1, batchSize: workload.prompt.length, threads });
  try {
    const sequence = context.getSequence();
    const prompt: number[] = [];
    const decode: number[] = [];
    for (let run = 0; run <= runs; run++) {
      await sequence.clearHistory();
      const promptSeconds = await secondsOf(() => sequence.evaluateWithoutGeneratingNewTokens(workload.prompt));
      const decodeSeconds = await secondsOf(async () => {
        // Each yield is one evaluation: the first token's, then each generated token's in turn.
        let generated = 0;
        for await (const token of sequence.evaluate([workload.firstDecodeToken], { temperature: 0, yieldEogToken: true })) {
          void token;
          if (++generated === workload.decodeTokens) break;
        }
        if (generated < workload.decodeTokens) throw new Error(`llama.cpp stopped generating after ${generated} tokens`);
      });
      if (run === 0) continue;
      prompt.push(workload.prompt.length / promptSeconds);
      decode.push(workload.decodeTokens / decodeSeconds);
    }
    return { promptTokensPerSecond: median(prompt), decodeTokensPerSecond: median(decode) };
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

function listArgument<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[]): T[] {
  const text = argumentValue(name);
  if (text === undefined) return [...fallback];
  const values = text.split(',').map((value) => value.trim());
  const wrong = values.find((value) => !(allowed as readonly string[]).includes(value));
  if (wrong !== undefined) throw new Error(`--${name}: '${wrong}' is not one of ${allowed.join(', ')}`);
  return values as T[];
}

async function prepareFiles(directory: string, models: string[], types: TypeName[]): Promise<BenchFile[]> {
  const files: BenchFile[] = [];
  const defaultTokenizer = tensorTypesOf(defaultModelPath).tokenizer;
  for (const model of models) {
    for (const type of types) {
      const path = join(directory, `${model}-${type}.gguf`);
      if (model === 'default') {
        quantizeModelFile(defaultModelPath, path, defaultModelMix[type]);
      } else {
        const config = largeModelConfig(defaultTokenizer.vocabulary().tokens.length);
        console.log(`writing the ${(parameterCount(config) / 1e6).toFixed(0)}M-parameter model in ${largeModelType[type]} ...`);
        writeRandomModel(path, { config, tokenizer: defaultTokenizer, matrixType: largeModelType[type], seed: 100, name: `bench-100m-${type}` });
      }
      const { tensorTypes, parameters } = tensorTypesOf(path);
      files.push({ model: model === 'default' ? 'default (nines-kjv)' : 'random ~100M', type, path, parameters, tensorTypes });
    }
  }
  return files;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const runs = quick ? 1 : integerArgument('runs', 3);
  const threadCounts = listArgument('threads', ['1', '2'], ['1', '2']).map(Number);
  const models = listArgument('models', ['default', '100m'], quick ? ['default'] : ['default', '100m']);
  const types = listArgument<TypeName>('types', ['f32', 'q8_0', 'q4_k'], ['f32', 'q8_0', 'q4_k']);
  const out = argumentValue('out') ?? `${resultsDirectory}model.json`;
  const tokenizer = tensorTypesOf(defaultModelPath).tokenizer;
  const textTokens = tokenizer.encode(readFileSync(promptText, 'utf8'));
  const promptLength = quick ? 16 : 128;
  const workload: Workload = { prompt: textTokens.slice(0, promptLength), firstDecodeToken: textTokens[promptLength], decodeTokens: quick ? 8 : 64 };

  const machine = describeMachine();
  const directory = mkdtempSync(join(tmpdir(), 'nines-bench-'));
  const llama = await loadLlamaCpp({ maxThreads: Math.max(...threadCounts) });
  const rows = [];
  try {
    for (const file of await prepareFiles(directory, models, types)) {
      for (const threads of threadCounts) {
        console.log(`${file.model} ${file.type}, ${threads} thread(s): nines ...`);
        const ours = await measureOurs(file.path, threads, workload, runs);
        console.log(`${file.model} ${file.type}, ${threads} thread(s): llama.cpp ...`);
        const theirs = await measureLlamaCpp(llama, file.path, threads, workload, runs);
        rows.push({
          model: file.model,
          type: file.type,
          tensorTypes: file.tensorTypes,
          parameters: file.parameters,
          fileBytes: statSync(file.path).size,
          threads,
          nines: ours,
          llamaCpp: theirs,
          ratio: { prompt: ours.promptTokensPerSecond / theirs.promptTokensPerSecond, decode: ours.decodeTokensPerSecond / theirs.decodeTokensPerSecond },
        });
      }
    }
  } finally {
    await llama.dispose();
    rmSync(directory, { recursive: true, force: true });
  }

  const loadAverageAtEnd = loadAverageNow();
  const warning = contentionWarning(machine, loadAverageAtEnd);
  const results = {
    benchmark: 'model',
    ...(warning !== undefined && { warning }),
    machine: { ...machine, loadAverageAtEnd },
    peer: { package: `node-llama-cpp ${llamaCppPackageVersion}`, binary: 'prebuilt, CPU', settings: 'node-llama-cpp defaults for a CPU context (F16 KV cache); batch size = prompt length' },
    workload: { promptTokens: workload.prompt.length, decodeTokens: workload.decodeTokens, runs, warmUpRuns: 1, statistic: 'median', quick },
    nines: { promptProcessing: 'InferenceSession.forwardBatch (one batch)', decoding: 'InferenceSession.forward per token, greedy', kvCache: 'F32' },
    rows,
  };
  console.log(`\nTokens per second, median of ${runs} run(s); ratio = nines / llama.cpp (above 1: nines faster)\n`);
  const format = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
  console.log(formatTable(
    ['model', 'type', 'threads', 'pp nines', 'pp llama.cpp', 'pp ratio', 'decode nines', 'decode llama.cpp', 'decode ratio'],
    rows.map((row) => [row.model, row.type, String(row.threads), format(row.nines.promptTokensPerSecond), format(row.llamaCpp.promptTokensPerSecond), row.ratio.prompt.toFixed(2), format(row.nines.decodeTokensPerSecond), format(row.llamaCpp.decodeTokensPerSecond), row.ratio.decode.toFixed(2)]),
  ));
  if (warning !== undefined) console.log(`\nWARNING: ${warning}`);
  writeResults(out, results);
  console.log(`\nWritten to ${out}`);
}

await main();
