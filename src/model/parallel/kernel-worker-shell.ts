/**
 * The body of a kernel worker thread (see thread-pool-shell.ts): it instantiates the
 * kernel module over the shared memory, then for every job claims and computes chunks of
 * the tasks in the control block until none are left. Between jobs it spins for a
 * moment, then sleeps in Atomics.wait until the generation word moves.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import type { WasmMemory, WasmModule } from '../wasm/api.js';
import { instantiateKernels, kernelFunctions } from '../kernels/wasm/index.js';
import { chunkCountOf, claimChunks, controlWord, controlWords } from './control-block.js';

export interface KernelWorkerSetup {
  memory: WasmMemory;
  module: WasmModule;
  /** This worker's share of every task (1 .. threads - 1; the caller takes 0). */
  threadIndex: number;
  /** The generation word when the worker was made: it waits for the next. */
  generation: number;
  /** How long the worker spins on the generation word before it sleeps. */
  spinMs: number;
}

function serve(setup: KernelWorkerSetup): void {
  const control = controlWords(setup.memory.buffer);
  const kernels = kernelFunctions(instantiateKernels(setup.memory, setup.module));
  Atomics.add(control, controlWord.ready, 1);
  let seen = setup.generation;
  for (;;) {
    const spinUntil = performance.now() + setup.spinMs;
    let spins = 0;
    while (Atomics.load(control, controlWord.generation) === seen) {
      if ((++spins & 255) === 0 && performance.now() >= spinUntil) Atomics.wait(control, controlWord.generation, seen);
    }
    seen = Atomics.load(control, controlWord.generation);
    if (Atomics.load(control, controlWord.stop) !== 0) return;
    // The chunk count read here may belong to a later job if this one is already over; claimChunks then finds the claims closed.
    const computed = claimChunks(kernels, control, seen, chunkCountOf(control), `thread ${setup.threadIndex}`);
    if (computed > 0) {
      Atomics.add(control, controlWord.workerChunks, computed);
      Atomics.notify(control, controlWord.completed);
    }
  }
}

if (!isMainThread && (workerData as KernelWorkerSetup | undefined)?.module !== undefined) serve(workerData as KernelWorkerSetup);
