/**
 * Data-parallel training over threads: the batch is cut into one shard of sequences per
 * thread; the calling thread computes the first shard while worker threads compute the
 * others, each into its own gradient buffer in the shared kernel memory; then the
 * gradients are summed in shard order (0 + 1 + 2 ...), so the result is the same
 * whichever thread finishes first. The weights are read by every thread from the same
 * shared memory, so an optimizer step is visible to all of them at the next batch.
 *
 * With T threads a run's numbers differ in the last bits from a run with another T
 * (the per-shard sums round differently); with the same T they repeat exactly.
 */
import { Worker } from 'node:worker_threads';
import { assert } from '../../core/assert.js';
import { planKernelMemory, Shard, shardBatches, type GradientEngine, type GradientEngineFactory } from './engine.js';
import type { ModelLayout } from './parameters.js';
import { createKernelMemory, simdAvailable } from './simd-kernel.js';
import { TrainingConfigError } from './errors.js';
import type { ShardRequest, ShardResponse, WorkerSetup } from './gradient-worker-shell.js';

/** More threads than this is a mistake, not a machine. */
export const trainingThreadsMax = 64;

export interface WorkerPoolOptions {
  /** Threads in all, the calling one included (2 on a 2-core machine). */
  threadCount: number;
  /** The worker's entry module; by default gradient-worker-shell next to this file. */
  workerUrl?: URL;
  /** Node options for the workers (tests pass a TypeScript loader here). */
  execArgv?: string[];
}

interface PendingReply {
  resolve(nats: number): void;
  reject(error: Error): void;
}

class PoolWorker {
  private pending: PendingReply | undefined;
  private failure: Error | undefined;

  constructor(
    readonly worker: Worker,
    readonly tokens: Int32Array, // [inputs (maxBatch x seqLen) | targets (maxBatch x seqLen)]
    readonly tokenCapacity: number,
  ) {
    worker.on('message', (message: ShardResponse) => {
      const pending = this.pending;
      this.pending = undefined;
      if (pending === undefined) return;
      if (message.error !== undefined) pending.reject(new Error(`training worker failed: ${message.error}`));
      else pending.resolve(message.nats);
    });
    const fail = (error: Error): void => {
      this.failure = error;
      this.pending?.reject(error);
      this.pending = undefined;
    };
    worker.on('error', (error) => fail(new Error(`training worker crashed: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(`training worker exited with code ${code}`)));
  }

  /** Sends one shard; resolves with its summed nats. */
  run(inputs: Int32Array, targets: Int32Array, request: ShardRequest): Promise<number> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    assert(this.pending === undefined, 'a pool worker runs one shard at a time');
    const count = request.batch * request.seqLen;
    this.tokens.set(inputs.subarray(0, count), 0);
    this.tokens.set(targets.subarray(0, count), this.tokenCapacity);
    return new Promise<number>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(request);
    });
  }
}

export class WorkerPoolEngine implements GradientEngine {
  readonly threadCount: number;
  readonly evaluationBatchMax: number;

  private constructor(
    readonly parameters: Float32Array,
    private readonly local: Shard,
    private readonly workers: PoolWorker[],
    private readonly workerGradients: Float32Array[],
  ) {
    this.threadCount = workers.length + 1;
    this.evaluationBatchMax = local.workspace.maxBatch;
  }

  static async create(layout: ModelLayout, maxBatch: number, seqLen: number, options: WorkerPoolOptions): Promise<WorkerPoolEngine> {
    const { threadCount } = options;
    if (!Number.isInteger(threadCount) || threadCount < 1 || threadCount > trainingThreadsMax) throw new TrainingConfigError(`threads must be an integer from 1 to ${trainingThreadsMax}, got ${threadCount}`);
    if (threadCount > maxBatch) throw new TrainingConfigError(`${threadCount} threads need a batch of at least ${threadCount} sequences, got ${maxBatch}`);
    if (!simdAvailable()) throw new TrainingConfigError('training on several threads needs WebAssembly SIMD and shared memory, which this Node lacks; use one thread');
    const batches = shardBatches(maxBatch, threadCount);
    const plan = planKernelMemory(layout, batches, seqLen);
    const memory = createKernelMemory(plan.totalFloats);
    const parameters = new Float32Array(memory.buffer, 0, layout.parameterCount);
    const local = Shard.inKernelMemory(layout, memory, plan.shards[0], seqLen);
    const workerUrl = options.workerUrl ?? new URL(import.meta.url.endsWith('.ts') ? './gradient-worker-shell.ts' : './gradient-worker-shell.js', import.meta.url);
    const workers: PoolWorker[] = [];
    const workerGradients: Float32Array[] = [];
    for (const region of plan.shards.slice(1)) {
      const tokenCapacity = region.maxBatch * seqLen;
      const tokens = new Int32Array(new SharedArrayBuffer(2 * tokenCapacity * 4));
      const setup: WorkerSetup = { config: layout.config, memory, region, seqLen, tokens, tokenCapacity };
      const worker = new Worker(workerUrl, { workerData: setup, execArgv: options.execArgv });
      workers.push(new PoolWorker(worker, tokens, tokenCapacity));
      workerGradients.push(new Float32Array(memory.buffer, region.gradientsStart * 4, layout.parameterCount));
    }
    const engine = new WorkerPoolEngine(parameters, local, workers, workerGradients);
    await engine.waitUntilReady();
    return engine;
  }

  /** A first empty round trip, so that a worker that cannot start fails here with its reason rather than mid-training. */
  private async waitUntilReady(): Promise<void> {
    try {
      await Promise.all(this.workers.map((worker) => worker.run(new Int32Array(0), new Int32Array(0), { batch: 0, seqLen: 0, lossScale: 0 })));
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async computeGradients(inputs: Int32Array, targets: Int32Array, batch: number, seqLen: number, gradients: Float32Array): Promise<number> {
    const batches = shardBatches(batch, Math.min(this.threadCount, batch));
    const lossScale = 1 / (batch * seqLen);
    const replies: Array<Promise<number>> = [];
    let first = batches[0];
    for (let index = 1; index < batches.length; index++) {
      const from = first * seqLen;
      const to = (first + batches[index]) * seqLen;
      replies.push(this.workers[index - 1].run(inputs.subarray(from, to), targets.subarray(from, to), { batch: batches[index], seqLen, lossScale }));
      first += batches[index];
    }
    let nats = this.local.compute(inputs, targets, batches[0], seqLen, lossScale);
    const workerNats = await Promise.all(replies);
    for (const value of workerNats) nats += value;
    // Sum in shard order: gradients = shard 0 + shard 1 + ...
    gradients.set(this.local.gradients);
    for (let index = 1; index < batches.length; index++) {
      const shardGradients = this.workerGradients[index - 1];
      for (let i = 0; i < gradients.length; i++) gradients[i] += shardGradients[i];
    }
    return nats;
  }

  evaluate(inputs: Int32Array, targets: Int32Array, batch: number, seqLen: number): number {
    return this.local.evaluate(inputs, targets, batch, seqLen);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.worker.terminate()));
  }
}

/** An engine factory for Trainer.create / Trainer.resume that trains on `threadCount` threads. */
export function workerPoolEngineFactory(options: WorkerPoolOptions): GradientEngineFactory {
  return (layout, maxBatch, seqLen) => WorkerPoolEngine.create(layout, maxBatch, seqLen, options);
}
