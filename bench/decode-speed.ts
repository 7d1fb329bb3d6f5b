/**
 * Decode and prefill speed of nines side by side with llama.cpp on the same GGUF files:
 * nines on its TypeScript kernels and on its WebAssembly kernels with 1 and 2 threads,
 * llama.cpp (through node-llama-cpp, the dev-only peer) with 1 and 2 threads; prints
 * tokens per second and nines' ratio to llama.cpp at the same thread count.
 *
 *   node --import ./scripts/typescript-loader.mjs bench/decode-speed.ts \
 *     [--model file.gguf ...] [--tokens 64] [--threads 1,2] [--no-js] [--repeat 1]
 *     [--llama-cpp <dir holding node_modules/node-llama-cpp>]
 *
 * --threads limits the thread counts measured, --no-js skips the (slow) TypeScript
 * kernels, and --repeat measures each engine that many times in turn (nines, llama.cpp,
 * nines, ...), so that the ratios compare runs taken back to back on a noisy machine.
 *
 * Without --model it measures the default model and a random llama of about 100M
 * parameters (F32 and Q8_0, about 88M with the default vocabulary), written once to tmp/. llama.cpp is skipped unless
 * node-llama-cpp can be imported (npm --prefix bench i node-llama-cpp@3.21.1, or --llama-cpp).
 * Absolute numbers on a shared machine mean little; the ratios are the point.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '../src/core/rng.js';
import { configToGgufMetadata } from '../src/model/architecture.js';
import { type ModelConfig, expectedShapes } from '../src/model/config.js';
import { openGguf, writeGgufFile } from '../src/model/gguf/gguf-file.js';
import type { GgufValue } from '../src/model/gguf/types.js';
import { InferenceSession } from '../src/model/inference-session.js';
import { type KernelChoice, type LoadedModel, defaultModelPath, loadModel } from '../src/model/load-file.js';
import { controlWord } from '../src/model/parallel/index.js';
import { quantizeTensor } from '../src/model/quant/index.js';
import { quantizeModelFile } from '../src/model/quantize-file.js';

interface Measurement {
  engine: string;
  threads: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** nines: the share of decode time spent in the matrix products (the rest is norms, attention, sampling). */
  productShare?: number;
}

const promptTokens = 32;

function argumentValues(name: string): string[] {
  const values: string[] = [];
  process.argv.forEach((argument, index) => {
    if (argument === name && index + 1 < process.argv.length) values.push(process.argv[index + 1]);
  });
  return values;
}

/** A random llama of about 88M parameters (the "100m" files) with the default model's tokenizer, F32; written once. */
function randomModelPath(directory: string): string {
  const file = path.join(directory, 'bench-random-100m-f32.gguf');
  if (existsSync(file)) return file;
  const source = openGguf(defaultModelPath);
  const tokenizerMetadata = [...source.metadata].filter(([key]) => key.startsWith('tokenizer.')) as Array<[string, GgufValue]>;
  const tokens = source.metadata.get('tokenizer.ggml.tokens');
  source.close();
  const vocabSize = tokens?.type === 'array' ? tokens.values.length : 0;
  const config: ModelConfig = { architecture: 'llama', vocabSize, dim: 768, hiddenDim: 2048, layerCount: 12, headCount: 12, kvHeadCount: 12, contextLength: 1024, ropeFreqBase: 10000, normEpsilon: 1e-5, tiedEmbeddings: false };
  const rng = new Rng(1);
  const tensors = [...expectedShapes(config)].map(([name, { rows, cols }]) => {
    const values = new Float32Array(rows * cols);
    for (let i = 0; i < values.length; i++) values[i] = name.endsWith('norm.weight') ? 1 : rng.nextGaussian() / Math.sqrt(cols);
    return { name, dims: rows === 1 ? [cols] : [cols, rows], type: 'F32' as const, data: quantizeTensor('F32', values) };
  });
  writeGgufFile(file, { metadata: [...configToGgufMetadata(config, 'bench-random-100m'), ...tokenizerMetadata], tensors });
  return file;
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Waits until the model's worker threads have started (run from TypeScript sources, each spends seconds compiling them first, which must not be timed). */
async function workersStarted(loaded: LoadedModel, threads: number): Promise<void> {
  const backend = loaded.transformer.backend;
  if (backend === undefined || threads === 1) return;
  backend.run(0); // starts the workers
  for (let waited = 0; Atomics.load(backend.control, controlWord.ready) < threads - 1 && waited < 60_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 500));
}

async function measureNines(file: string, kernels: KernelChoice, threads: number, decodeTokens: number): Promise<Measurement> {
  const loaded = loadModel(file, { kernels, threads });
  try {
    await workersStarted(loaded, threads);
    const warmUp = 16; // decode steps before timing: the kernels' first calls compile and tier up
    const session = new InferenceSession(loaded.transformer, { contextLength: Math.min(loaded.config.contextLength, promptTokens + warmUp + 2 * decodeTokens) });
    const prompt = Array.from({ length: promptTokens }, (_, i) => (i * 37 + 11) % loaded.config.vocabSize);
    session.forwardBatch(prompt.slice(0, 4), 0); // warm-up: compiles and tiers up the kernels
    let start = performance.now();
    let logits = session.forwardBatch(prompt, 0);
    const prefillSeconds = (performance.now() - start) / 1000;
    let token = argmax(logits);
    for (let i = 0; i < warmUp; i++) token = argmax(session.forward(token, promptTokens + i));
    start = performance.now();
    for (let i = 0; i < decodeTokens; i++) {
      logits = session.forward(token, promptTokens + warmUp + i);
      token = argmax(logits);
    }
    const decodeSeconds = (performance.now() - start) / 1000;
    // Again with the products timed (the timing itself costs a little, so it is a separate pass).
    const products = loaded.transformer.products;
    const run = products.run.bind(products);
    let productSeconds = 0;
    products.run = () => {
      const productStart = performance.now();
      run();
      productSeconds += (performance.now() - productStart) / 1000;
    };
    const timedStart = performance.now();
    for (let i = 0; i < decodeTokens; i++) token = argmax(session.forward(token, promptTokens + warmUp + decodeTokens + i));
    const productShare = productSeconds / ((performance.now() - timedStart) / 1000);
    return { engine: `nines ${kernels}`, threads, prefillTokensPerSecond: promptTokens / prefillSeconds, decodeTokensPerSecond: decodeTokens / decodeSeconds, productShare };
  } finally {
    void loaded.close();
  }
}

interface LlamaCppModule {
  getLlama(options: object): Promise<{
    loadModel(options: { modelPath: string; gpuLayers: number }): Promise<{
      tokenize(text: string): number[];
      createContext(options: object): Promise<{ getSequence(): { evaluate(tokens: number[], options?: object): AsyncGenerator<number> }; dispose(): Promise<void> }>;
      dispose(): Promise<void>;
    }>;
  }>;
}

async function importLlamaCpp(): Promise<LlamaCppModule | undefined> {
  const directories = [...argumentValues('--llama-cpp'), path.join(import.meta.dirname ?? '.', '.')];
  for (const directory of directories) {
    const entry = path.join(directory, 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
    if (existsSync(entry)) return (await import(pathToFileURL(entry).href)) as LlamaCppModule;
  }
  return undefined;
}

async function measureLlamaCpp(llamaCpp: LlamaCppModule, file: string, threads: number, decodeTokens: number): Promise<Measurement> {
  const llama = await llamaCpp.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: 512, threads: { ideal: threads, min: threads }, batchSize: promptTokens });
  try {
    const sequence = context.getSequence();
    const prompt = Array.from({ length: promptTokens }, (_, i) => (i * 37 + 11) % 1000);
    let count = 0;
    const start = performance.now();
    let firstTokenAt = 0;
    for await (const _token of sequence.evaluate(prompt, { temperature: 0 })) {
      count++;
      if (count === 1) firstTokenAt = performance.now();
      if (count >= decodeTokens) break;
    }
    const end = performance.now();
    return { engine: 'llama.cpp', threads, prefillTokensPerSecond: promptTokens / ((firstTokenAt - start) / 1000), decodeTokensPerSecond: (count - 1) / ((end - firstTokenAt) / 1000) };
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

async function main(): Promise<void> {
  const decodeTokens = Number(argumentValues('--tokens')[0] ?? 64);
  let files = argumentValues('--model');
  if (files.length === 0) {
    const directory = path.resolve('tmp');
    mkdirSync(directory, { recursive: true });
    const f32 = randomModelPath(directory);
    const q8 = path.join(directory, 'bench-random-100m-q8_0.gguf');
    if (!existsSync(q8)) quantizeModelFile(f32, q8, 'q8_0');
    files = [defaultModelPath, f32, q8];
  }
  const llamaCpp = await importLlamaCpp();
  if (llamaCpp === undefined) process.stdout.write('llama.cpp: node-llama-cpp not found (npm --prefix bench i node-llama-cpp@3.21.1, or --llama-cpp DIR); nines only\n');
  const threadCounts = (argumentValues('--threads')[0] ?? '1,2').split(',').map(Number);
  const repeat = Number(argumentValues('--repeat')[0] ?? 1);
  for (const file of files) {
    process.stdout.write(`\n${path.basename(file)}\n${'engine'.padEnd(16)}threads  prefill tok/s  decode tok/s  share of decode in products\n`);
    const results: Measurement[] = [];
    const runs: Array<() => Promise<Measurement> | Measurement> = process.argv.includes('--no-js') ? [] : [() => measureNines(file, 'js', 1, Math.min(decodeTokens, 24))];
    for (const threads of threadCounts) {
      for (let pass = 0; pass < repeat; pass++) {
        runs.push(() => measureNines(file, 'wasm', threads, decodeTokens));
        if (llamaCpp !== undefined) runs.push(() => measureLlamaCpp(llamaCpp, file, threads, decodeTokens));
      }
    }
    for (const run of runs) {
      const result = await run();
      results.push(result);
      const share = result.productShare === undefined ? '' : `${(100 * result.productShare).toFixed(0)}%`;
      process.stdout.write(`${result.engine.padEnd(16)}${String(result.threads).padStart(7)}  ${result.prefillTokensPerSecond.toFixed(1).padStart(13)}  ${result.decodeTokensPerSecond.toFixed(1).padStart(12)}  ${share}\n`);
    }
    // Each nines run against the llama.cpp run right after it.
    results.forEach((result, index) => {
      const peer = results[index + 1];
      if (result.engine !== 'nines wasm' || peer?.engine !== 'llama.cpp') return;
      process.stdout.write(`ratio nines wasm / llama.cpp, ${result.threads} thread(s): decode ${(result.decodeTokensPerSecond / peer.decodeTokensPerSecond).toFixed(2)}x, prefill ${(result.prefillTokensPerSecond / peer.prefillTokensPerSecond).toFixed(2)}x\n`);
    });
  }
}

await main();
