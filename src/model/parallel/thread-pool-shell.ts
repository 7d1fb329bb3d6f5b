/**
 * The products of inference on several threads: worker threads that instantiate the
 * same kernel module over the same shared memory and wait on the control block.
 *
 * A job costs no message: the caller writes its tasks into the control block, bumps the
 * generation word and notifies; each worker (spinning briefly first, since the next job
 * usually follows within microseconds, then asleep in Atomics.wait) claims chunks of rows
 * alongside the caller, and the caller returns when every chunk is complete.
 * postMessage per product would cost more than a small product itself.
 *
 * Workers are unref'd, so a process that forgets close() still exits.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type KernelMemory, inferenceModule, instantiateKernels, kernelFunctions } from '../kernels/wasm/index.js';
import { type KernelBackend, SingleThreadBackend, inferenceThreadsMax } from './backend.js';
import { type KernelFunction, type KernelParameters, chunkCountOf, claimChunks, closeJob, controlWord, controlWords, failureMessage, multiplyAddsOf, openJob, runAll } from './control-block.js';
import { ThreadCountError } from './errors.js';
import { ThreadPolicy } from './thread-policy.js';
import type { KernelWorkerSetup } from './kernel-worker-shell.js';
import type { WasmModule } from '../wasm/api.js';
import { ComputeWorkerError, SessionClosedError } from '../errors.js';

/** A job whose workers stay silent this long has lost a worker; the caller gets an error rather than a hang. */
export const workerSilenceMsMax = 120_000;
/** How long the caller spins on the completed count before it sleeps (a product usually finishes sooner). */
export const callerSpinMs = 2;
/** How long a worker spins for the next job before it sleeps (the next product usually follows within microseconds). */
export const workerSpinMs = 1;
/** Slices of the caller's sleep, between which it checks the silence limit. */
const callerWaitSliceMs = 50;
/**
 * A job smaller than this many multiply-adds runs on the calling thread alone: it takes
 * a few microseconds, about what handing out its chunks would cost. (The results are the
 * same bits either way.)
 */
export const parallelMultiplyAddsMin = 32768;

export interface ThreadOptions {
  /** Threads in all, the calling one included; by default the machine's available parallelism. */
  threads?: number;
  /** The worker's entry module; by default kernel-worker-shell next to this file. */
  workerUrl?: URL;
  /** Node options for the workers (tests pass a TypeScript loader here). */
  execArgv?: string[];
  /** Jobs of fewer multiply-adds run on the calling thread alone (default parallelMultiplyAddsMin; tests pass 0). */
  parallelMultiplyAddsMin?: number;
  /** How long a worker spins for the next job before it sleeps, and the caller for the last chunks (defaults: workerSpinMs, callerSpinMs). */
  workerSpinMs?: number;
  callerSpinMs?: number;
  /** False: always use the threads, even when measured slower than the calling thread alone (see thread-policy.ts); for tests. */
  adaptive?: boolean;
}

/** The default thread count: the cores this process may use. */
export function defaultThreadCount(): number {
  return Math.min(inferenceThreadsMax, Math.max(1, availableParallelism()));
}

/** Throws ThreadCountError unless `threads` is an integer from 1 to inferenceThreadsMax. */
export function checkThreadCount(threads: number): number {
  if (!Number.isInteger(threads) || threads < 1 || threads > inferenceThreadsMax) {
    throw new ThreadCountError(`--threads must be an integer from 1 to ${inferenceThreadsMax}, got ${threads}; this machine has ${availableParallelism()} cores`);
  }
  return threads;
}

class ThreadPoolBackend implements KernelBackend {
  readonly control: Int32Array;
  private readonly kernels: KernelFunction[];
  private readonly workers: Worker[] = [];
  private readonly module: WasmModule;
  private readonly policy = new ThreadPolicy();
  private lostWorker: string | undefined;
  private closed = false;

  constructor(
    readonly memory: KernelMemory,
    readonly threadCount: number,
    private readonly options: ThreadOptions,
  ) {
    this.control = controlWords(memory.buffer);
    closeJob(this.control, Atomics.load(this.control, controlWord.generation));
    this.module = inferenceModule();
    this.kernels = kernelFunctions(instantiateKernels(memory.memory, this.module));
  }

  /**
   * Starts the workers, on the first product rather than at load time, so that loading a
   * model only to read its tokenizer or metadata starts no threads. A worker needs no
   * help from this thread's event loop to start, so the caller may wait for it in Atomics.wait.
   */
  private startWorkers(): void {
    const workerUrl = this.options.workerUrl ?? new URL(import.meta.url.endsWith('.ts') ? './kernel-worker-shell.ts' : './kernel-worker-shell.js', import.meta.url);
    for (let index = 1; index < this.threadCount; index++) {
      const setup: KernelWorkerSetup = { memory: this.memory.memory, module: this.module, threadIndex: index, generation: Atomics.load(this.control, controlWord.generation), spinMs: this.options.workerSpinMs ?? workerSpinMs };
      const worker = new Worker(workerUrl, { workerData: setup, execArgv: this.options.execArgv });
      worker.unref();
      worker.on('error', (error) => (this.lostWorker ??= `kernel worker ${index} crashed: ${error.message}`));
      worker.on('exit', (code) => {
        if (!this.closed) this.lostWorker ??= `kernel worker ${index} exited with code ${code}`;
      });
      this.workers.push(worker);
    }
  }

  run(taskCount: number): void {
    if (this.closed) throw new SessionClosedError('the model');
    if (this.lostWorker !== undefined) throw new ComputeWorkerError(`${this.lostWorker}; run with --threads 1 to compute without workers`);
    if (this.workers.length === 0) this.startWorkers();
    const control = this.control;
    control[controlWord.taskCount] = taskCount;
    control[controlWord.threadCount] = this.threadCount;
    const multiplyAdds = multiplyAddsOf(control);
    if (multiplyAdds < (this.options.parallelMultiplyAddsMin ?? parallelMultiplyAddsMin)) {
      runAll(this.kernels, control);
      return;
    }
    const threaded = this.options.adaptive === false || this.policy.useThreads();
    const start = performance.now();
    if (threaded) this.runThreaded();
    else runAll(this.kernels, control);
    this.policy.record(threaded, multiplyAdds, performance.now() - start);
  }

  runHere(kernel: number, ...parameters: KernelParameters): void {
    if (this.closed) throw new SessionClosedError('the model');
    this.kernels[kernel](...parameters);
  }

  /** Runs the job written in the control block on every thread. */
  private runThreaded(): void {
    const control = this.control;
    const chunkCount = chunkCountOf(control);
    const generation = (control[controlWord.generation] + 1) | 0;
    openJob(control, generation);
    Atomics.store(control, controlWord.generation, generation);
    Atomics.notify(control, controlWord.generation);
    try {
      claimChunks(this.kernels, control, generation, chunkCount, 'the calling thread');
    } finally {
      // Even when a chunk failed here, the job's other chunks must be complete before the control block is written again.
      this.waitForChunks(chunkCount);
      closeJob(control, generation);
    }
    if (Atomics.load(control, controlWord.failed) !== 0) {
      const message = failureMessage(control);
      Atomics.store(control, controlWord.failed, 0);
      throw new ComputeWorkerError(`a kernel product failed: ${message}`);
    }
  }

  /** Waits until the workers have completed the chunks they claimed: spinning a moment, then asleep in slices. */
  private waitForChunks(chunkCount: number): void {
    const control = this.control;
    const spinUntil = performance.now() + (this.options.callerSpinMs ?? callerSpinMs);
    let completed = Atomics.load(control, controlWord.completed);
    while (completed < chunkCount && performance.now() < spinUntil) completed = Atomics.load(control, controlWord.completed);
    let silentSince = performance.now();
    while (completed < chunkCount) {
      Atomics.wait(control, controlWord.completed, completed, callerWaitSliceMs);
      const now = Atomics.load(control, controlWord.completed);
      if (now !== completed) silentSince = performance.now();
      else if (performance.now() - silentSince > workerSilenceMsMax) {
        this.lostWorker ??= `kernel workers did not finish a product within ${workerSilenceMsMax / 1000} s`;
        throw new ComputeWorkerError(`${this.lostWorker}; run with --threads 1 to compute without workers`);
      }
      completed = now;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, controlWord.stop, 1);
    Atomics.add(this.control, controlWord.generation, 1);
    Atomics.notify(this.control, controlWord.generation);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/** The kernels on `options.threads` threads over `memory` (workers only when more than one). */
export function createKernelBackend(memory: KernelMemory, options: ThreadOptions = {}): KernelBackend {
  const threads = checkThreadCount(options.threads ?? defaultThreadCount());
  return threads === 1 ? new SingleThreadBackend(memory) : new ThreadPoolBackend(memory, threads, options);
}
