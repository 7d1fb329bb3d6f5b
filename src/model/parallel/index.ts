/**
 * Inference on several threads: the control block that carries product tasks to worker
 * threads over shared memory, and the backends that run them (one thread here; worker
 * threads in thread-pool-shell.ts, which only shells may import).
 */
export { type KernelBackend, SingleThreadBackend, inferenceThreadsMax } from './backend.js';
export { type KernelFunction, type KernelParameters, type ProductTask, chunkCountOf, chunkRowAlignment, chunkRowsOf, claimChunks, closeJob, controlWord, controlWords, failureMessage, openJob, readTask, recordFailure, runAll, taskCountMax, writeTask } from './control-block.js';
export { ThreadCountError } from './errors.js';
