/**
 * The matrix products of one forward pass, behind one small interface so that the
 * recipe in ../inference-session.ts is written once: queue products with `add` (several
 * that share an input, such as q, k and v, go in one job), then `run` them.
 *
 * TypeScriptProducts computes each product at once with the TypeScript kernels (the
 * reference). WasmProducts writes each as a task into the control block of a
 * KernelBackend and runs them together on its threads; its arrays must live in the
 * backend's memory, where a view's byteOffset is its kernel address.
 */
import { assert } from '../../core/assert.js';
import { type KernelMatrix, matVec, rowBytesOf } from '../kernels/index.js';
import { hasWasmKernel, kernelIndex } from '../kernels/wasm/index.js';
import type { KernelBackend } from './backend.js';
import { taskCountMax, writeTask } from './control-block.js';

export interface Products {
  /** Queues out[i] = weight · x[i] for the first `count` rows; out[i] and x[i] are views of rows evenly spaced in memory. */
  add(out: readonly Float32Array[], weight: KernelMatrix, x: readonly Float32Array[], count: number): void;
  /** Computes every queued product; when it returns, their outputs are written. */
  run(): void;
}

export class TypeScriptProducts implements Products {
  add(out: readonly Float32Array[], weight: KernelMatrix, x: readonly Float32Array[], count: number): void {
    for (let i = 0; i < count; i++) matVec(out[i], weight, x[i]);
  }

  run(): void {}
}

/** The bytes of a matrix, whose byteOffset is its address when it lives in kernel memory. */
export function matrixBytesView(weight: KernelMatrix): ArrayBufferView {
  switch (weight.type) {
    case 'F32':
      return weight.values;
    case 'F16':
      return weight.halves;
    case 'Q8_0':
      return weight.quants;
    default:
      return weight.bytes;
  }
}

export class WasmProducts implements Products {
  private queued = 0;

  constructor(private readonly backend: KernelBackend) {}

  add(out: readonly Float32Array[], weight: KernelMatrix, x: readonly Float32Array[], count: number): void {
    assert(hasWasmKernel(weight.type), `no WebAssembly kernel for ${weight.type} matrices`);
    assert(this.queued < taskCountMax, `a job holds at most ${taskCountMax} products`);
    assert(count >= 1 && out.length >= count && x.length >= count, `add: ${count} rows asked of ${out.length} outputs and ${x.length} inputs`);
    const outStride = count > 1 ? out[1].byteOffset - out[0].byteOffset : weight.rows * 4;
    const xStride = count > 1 ? x[1].byteOffset - x[0].byteOffset : weight.cols * 4;
    writeTask(this.backend.control, this.queued++, kernelIndex(weight.type, count > 1), out[0].byteOffset, matrixBytesView(weight).byteOffset, x[0].byteOffset, weight.rows, weight.cols, rowBytesOf(weight.type, weight.cols), count, outStride, xStride);
  }

  run(): void {
    if (this.queued === 0) return;
    const count = this.queued;
    this.queued = 0;
    this.backend.run(count);
  }
}
