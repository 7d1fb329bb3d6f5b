/**
 * Inference on the WebAssembly kernels and worker threads: the logits agree with the
 * TypeScript kernels, are the same bits on 1, 2 or 3 threads and for a prompt run as one
 * batch or token by token; generation repeats; bad thread counts are refused; and the
 * workers never keep a process alive.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import type { ModelConfig } from '../../../src/model/config.js';
import { generate } from '../../../src/model/generate.js';
import { KernelMemory, kernelIndex } from '../../../src/model/kernels/wasm/index.js';
import { type KernelBackend, ThreadCountError, chunkRowAlignment, chunkRowsOf, controlWord, taskCountMax, writeTask } from '../../../src/model/parallel/index.js';
import { quantizeTensor } from '../../../src/model/quant/index.js';
import { expectedShapes } from '../../../src/model/config.js';
import type { GgmlType } from '../../../src/model/gguf/types.js';
import type { WeightTensor } from '../../../src/model/transformer.js';
import { checkThreadCount, createKernelBackend } from '../../../src/model/parallel/thread-pool-shell.js';
import { InferenceSession, Transformer } from '../../../src/model/transformer.js';
import { addSamplingOptions } from '../../../src/cli/generate.js';
import { type TestTensorType, fakeTokenizer, randomTensors, testConfig } from '../helpers.js';

const loader = new URL('../../../scripts/typescript-loader.mjs', import.meta.url).href;
const execArgv = ['--import', loader];

// One backend per thread count, shared by the models of these tests (each model copies its weights into its memory), so that few workers start.
const backends = new Map<number, KernelBackend>();
afterAll(async () => {
  await Promise.all([...backends.values()].map((backend) => backend.close()));
});

function backendOf(threads: number): KernelBackend {
  let backend = backends.get(threads);
  if (backend === undefined) {
    // Every product goes to the threads, however small, so that these small models exercise them.
    backend = createKernelBackend(KernelMemory.create(), { threads, execArgv, parallelMultiplyAddsMin: 0, adaptive: false });
    backends.set(threads, backend);
  }
  return backend;
}

/**
 * Starts the backend's workers (the first product does) and waits until all are ready,
 * so that they take part in what follows: otherwise the calling thread, which never
 * waits for a worker that has not started, might compute everything itself.
 */
async function readyBackend(threads: number): Promise<KernelBackend> {
  const backend = backendOf(threads);
  backend.run(0);
  for (let waited = 0; Atomics.load(backend.control, controlWord.ready) < threads - 1; waited += 10) {
    if (waited > 20_000) throw new Error(`the ${threads - 1} workers did not start`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return backend;
}

type MatrixTypes = TestTensorType | 'mixed';
/** The block types of the 'mixed' case, given to the matrices in turn. */
const mixedTypes: GgmlType[] = ['Q4_K', 'Q6_K', 'Q4_0', 'Q5_0'];

/** Random weights: randomTensors for one test type, or the block types in turn (norms in F32). */
function tensorsOf(config: ModelConfig, type: MatrixTypes, seed: number): Map<string, WeightTensor> {
  if (type !== 'mixed') return randomTensors(config, new Rng(seed), type);
  const rng = new Rng(seed);
  const tensors = new Map<string, WeightTensor>();
  let index = 0;
  for (const [name, { rows, cols }] of expectedShapes(config)) {
    const values = Float32Array.from({ length: rows * cols }, () => (rows === 1 ? 1 + 0.2 * rng.nextGaussian() : rng.nextGaussian() / Math.sqrt(cols)));
    const tensorType = rows === 1 ? 'F32' : mixedTypes[index++ % mixedTypes.length];
    tensors.set(name, { type: tensorType, dims: rows === 1 ? [cols] : [cols, rows], data: quantizeTensor(tensorType, values) });
  }
  return tensors;
}

function wasmModel(config: ModelConfig, type: MatrixTypes, threads: number, seed: number): Transformer {
  return Transformer.fromTensors(config, tensorsOf(config, type, seed), `random ${type} model`, { backend: backendOf(threads) });
}

function bits(values: Float32Array): number[] {
  return [...new Uint32Array(values.buffer, values.byteOffset, values.length)];
}

const cases: Array<{ type: MatrixTypes; config: ModelConfig }> = [
  { type: 'F32', config: testConfig({ dim: 36, headCount: 3, kvHeadCount: 1, hiddenDim: 70, vocabSize: 53, layerCount: 2 }) },
  { type: 'F16', config: testConfig({ architecture: 'qwen2', dim: 20, headCount: 2, kvHeadCount: 2, hiddenDim: 44, tiedEmbeddings: true }) },
  { type: 'Q8_0', config: testConfig({ dim: 64, headCount: 4, kvHeadCount: 2, hiddenDim: 96, vocabSize: 77, layerCount: 3 }) },
  { type: 'mixed', config: testConfig({ dim: 256, headCount: 4, kvHeadCount: 2, hiddenDim: 256, vocabSize: 37, layerCount: 2 }) },
];

describe('inference on the WebAssembly kernels', () => {
  for (const { type, config } of cases) {
    it(`${type}: logits match the TypeScript kernels and are the same bits on 1, 2 and 3 threads, batched or not`, async () => {
      const seed = 7;
      const tokens = Array.from({ length: 41 }, (_, i) => (i * 11 + 3) % config.vocabSize);
      const reference = new InferenceSession(Transformer.fromTensors(config, tensorsOf(config, type, seed), 'reference'));
      const expected = tokens.map((token, position) => reference.forward(token, position).slice());
      let firstBits: number[][] | undefined;
      for (const threads of [1, 2, 3]) {
        await readyBackend(threads);
        const model = wasmModel(config, type, threads, seed);
        expect(model.kernels).toEqual({ kind: 'wasm', threads });
        const session = new InferenceSession(model);
        const logits = tokens.map((token, position) => session.forward(token, position).slice());
        logits.forEach((row, position) => {
          const scale = Math.max(...expected[position].map(Math.abs));
          const worst = Math.max(...row.map((value, i) => Math.abs(value - expected[position][i])));
          expect(worst / scale, `${threads} threads, position ${position}`).toBeLessThan(4e-6);
        });
        // A prompt longer than one batch (prefillTokensMax) gives the last token's logits bit for bit.
        const batched = new InferenceSession(model).forwardBatch(tokens, 0);
        expect(bits(batched)).toEqual(bits(logits[logits.length - 1]));
        const rowBits = logits.map(bits);
        if (firstBits === undefined) firstBits = rowBits;
        else expect(rowBits).toEqual(firstBits);
      }
    }, 60_000);
  }

  it('worker threads take part in the products', async () => {
    // The calling thread computes too, and on a loaded machine it may finish a product before
    // a worker wakes; so run products until a worker has claimed a chunk, within a deadline.
    const config = cases[3].config;
    const backend = await readyBackend(2);
    const before = Atomics.load(backend.control, controlWord.workerChunks);
    const session = new InferenceSession(wasmModel(config, 'mixed', 2, 7));
    const deadline = Date.now() + 20_000;
    let position = 0;
    while (Atomics.load(backend.control, controlWord.workerChunks) === before && Date.now() < deadline) {
      session.forward(position % config.vocabSize, position % 32);
      position++;
    }
    expect(Atomics.load(backend.control, controlWord.workerChunks), 'chunks computed by workers').toBeGreaterThan(before);
  }, 30_000);

  it('forwardBatch continues a session from any filled position, as forward would', () => {
    const { type, config } = cases[0];
    const model = wasmModel(config, type, 2, 3);
    const tokens = [5, 9, 1, 4, 4, 30, 2];
    const stepwise = new InferenceSession(model);
    let last = new Float32Array(0);
    for (let p = 0; p < tokens.length; p++) last = stepwise.forward(tokens[p], p).slice();
    const mixed = new InferenceSession(model);
    mixed.forwardBatch(tokens.slice(0, 3), 0);
    mixed.forward(tokens[3], 3);
    expect(bits(mixed.forwardBatch(tokens.slice(4), 4))).toEqual(bits(last));
    expect(mixed.length).toBe(tokens.length);
  });

  it('a closed session gives its KV cache back to the kernel memory, and refuses to run', () => {
    const { type, config } = cases[0];
    const model = wasmModel(config, type, 1, 4);
    const memory = model.backend!.memory;
    const first = new InferenceSession(model);
    first.forward(1, 0);
    const used = memory.usedBytes;
    first.close();
    expect(() => first.forward(2, 1)).toThrow(/the session was closed/);
    const second = new InferenceSession(model);
    expect(memory.usedBytes).toBe(used);
    second.close();
  });

  it('generation with the same seed gives the same tokens on every run and any thread count', async () => {
    const config = testConfig({ dim: 32, headCount: 4, kvHeadCount: 2, hiddenDim: 64 });
    const run = async (threads: number) => {
      const steps = generate({ model: wasmModel(config, 'Q8_0', threads, 21), tokenizer: fakeTokenizer(), prompt: 'the', sampler: { temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, repetitionWindow: 0, seed: 5 }, maxTokens: 20 });
      const ids: number[] = [];
      for await (const step of steps) if (step.kind === 'token') ids.push(step.id);
      return ids;
    };
    const first = await run(2);
    expect(first).toHaveLength(20);
    expect(await run(2)).toEqual(first);
    expect(await run(1)).toEqual(first);
  });
});

describe('threads', () => {
  it('cut every product into chunks of whole cache lines of outputs, few enough for the claim word', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 1, max: 64 }), (rows, threadCount) => {
        const chunkRows = chunkRowsOf(rows, threadCount);
        expect(chunkRows % chunkRowAlignment).toBe(0);
        expect(chunkRows).toBeGreaterThan(0);
        expect(Math.ceil(rows / chunkRows) * taskCountMax).toBeLessThan(0xffff);
      }),
    );
  });

  it('refuses a thread count outside 1..64 with a clear error', () => {
    for (const bad of [0, -1, 65, 1.5, Number.NaN]) expect(() => checkThreadCount(bad)).toThrow(ThreadCountError);
    expect(() => checkThreadCount(0)).toThrow(/--threads must be an integer from 1 to 64, got 0/);
    expect(() => createKernelBackend(KernelMemory.create(), { threads: 100 })).toThrow(/from 1 to 64, got 100/);
    const parse = (value: string) => addSamplingOptions(new Command().exitOverride().configureOutput({ writeErr: () => {} }).action(() => {})).parse(['--threads', value], { from: 'user' });
    expect(() => parse('0')).toThrow(/--threads must be between 1 and 64, got 0/);
    expect(() => parse('two')).toThrow(/--threads must be an integer, got 'two'/);
    expect(parse('3').opts().threads).toBe(3);
  });

  it('a product that fails on any thread fails the call, and the threads go on working', () => {
    const backend = backendOf(2);
    const memory = backend.memory;
    const [rows, cols] = [8, 4];
    const weights = memory.floats(rows * cols).fill(1);
    const x = memory.floats(cols).fill(2);
    const out = memory.floats(rows);
    const run = (outAddress: number) => {
      writeTask(backend.control, 0, kernelIndex('F32', false), outAddress, weights.byteOffset, x.byteOffset, rows, cols, cols * 4, 1, rows * 4, cols * 4);
      backend.run(1);
    };
    // Rows 0-3 fit below the end of the memory; rows 4-7 lie beyond it. Either thread may claim them.
    expect(() => run(memory.buffer.byteLength - 16)).toThrow(/a kernel product failed: (thread 1|the calling thread): RuntimeError: memory access out of bounds/);
    run(out.byteOffset);
    expect([...out]).toEqual(new Array(rows).fill(8));
  });

  it('a closed model refuses to compute', async () => {
    const { type, config } = cases[0];
    const backend = createKernelBackend(KernelMemory.create(), { threads: 2, execArgv });
    const model = Transformer.fromTensors(config, tensorsOf(config, type, 1), 'closing', { backend });
    const session = new InferenceSession(model);
    session.forward(1, 0);
    await model.close();
    expect(() => session.forward(2, 1)).toThrow(/closed/);
  });

  it('a process that computed on worker threads exits promptly, whether or not it closed its models', () => {
    const script = fileURLToPath(new URL('./support/forward-then-exit.ts', import.meta.url));
    const result = spawnSync(process.execPath, ['--import', loader, script], { encoding: 'utf8', timeout: 20_000 });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('logits 40\nlogits 40\n');
    expect(result.status).toBe(0);
  });
});
