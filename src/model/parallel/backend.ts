/**
 * What the forward pass needs from the WebAssembly kernels: a memory to keep weights and
 * activations in, a control block to write product tasks into, and `run`, which computes
 * them all (on one thread here; on several in thread-pool-shell.ts) before it returns.
 */
import { KernelMemory, instantiateKernels, kernelFunctions } from '../kernels/wasm/index.js';
import { type KernelFunction, type KernelParameters, controlWord, controlWords, runAll } from './control-block.js';
import { SessionClosedError } from '../errors.js';

/** More threads than this is a mistake, not a machine. */
export const inferenceThreadsMax = 64;

export interface KernelBackend {
  readonly memory: KernelMemory;
  /** Threads computing every product, the calling one included. */
  readonly threadCount: number;
  /** Where writeTask puts the tasks of the next run. */
  readonly control: Int32Array;
  /** Computes the first `taskCount` tasks written into the control block; returns when all are done. */
  run(taskCount: number): void;
  /**
   * Runs kernel number `kernel` once, on the calling thread, with the product kernels'
   * parameters: the activation quantizers, whose output the next job's products read.
   */
  runHere(kernel: number, ...parameters: KernelParameters): void;
  /** Stops the worker threads, if any. The backend must not be used afterwards. */
  close(): Promise<void>;
}

/** The kernels on the calling thread alone. */
export class SingleThreadBackend implements KernelBackend {
  readonly threadCount = 1;
  readonly control: Int32Array;
  private readonly kernels: KernelFunction[];
  private closed = false;

  constructor(readonly memory: KernelMemory) {
    this.control = controlWords(memory.buffer);
    this.kernels = kernelFunctions(instantiateKernels(memory.memory));
  }

  run(taskCount: number): void {
    if (this.closed) throw new SessionClosedError('the model');
    this.control[controlWord.taskCount] = taskCount;
    this.control[controlWord.threadCount] = 1;
    runAll(this.kernels, this.control);
  }

  runHere(kernel: number, ...parameters: KernelParameters): void {
    if (this.closed) throw new SessionClosedError('the model');
    this.kernels[kernel](...parameters);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
