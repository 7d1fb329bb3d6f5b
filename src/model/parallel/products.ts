/**
 * The matrix products of one forward pass, behind one small interface so that the
 * recipe in ../inference-session.ts is written once: queue products with `add` (several
 * that share an input, such as q, k and v, go in one job), then `run` them.
 *
 * TypeScriptProducts computes each product at once with the TypeScript kernels (the
 * reference). WasmProducts writes each as a task into the control block of a
 * KernelBackend and runs them together on its threads; its arrays must live in the
 * backend's memory, where a view's byteOffset is its kernel address. A product with
 * quantized weights reads its input quantized to 8 bits (../kernels/activations.ts):
 * WasmProducts quantizes each input once per job, on the calling thread, when the first
 * product that needs it is added, so x must hold its values by then (as it must for
 * TypeScriptProducts, which computes at once).
 */
import { assert } from '../../core/assert.js';
import { type KernelMatrix, activationKinds, matVec, rowBytesOf } from '../kernels/index.js';
import { activationRowBytes, hasWasmKernel, kernelIndex, quantizeKernelIndex } from '../kernels/wasm/index.js';
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

/** One input of the current job, quantized: where from, how, and where to. */
interface QuantizedInput {
  x: number;
  xStride: number;
  count: number;
  cols: number;
  kind: 'Q8_0' | 'Q8_K';
  address: number;
  rowBytes: number;
}

export class WasmProducts implements Products {
  private queued = 0;
  /** The inputs quantized for the current job, in the order they came. */
  private readonly inputs: QuantizedInput[] = [];
  /** Kernel memory for the i-th quantized input of a job, as [address, bytes]; grown (released and allocated again) when too small. */
  private readonly buffers: Array<[number, number]> = [];

  constructor(private readonly backend: KernelBackend) {}

  add(out: readonly Float32Array[], weight: KernelMatrix, x: readonly Float32Array[], count: number): void {
    assert(hasWasmKernel(weight.type), `no WebAssembly kernel for ${weight.type} matrices`);
    assert(this.queued < taskCountMax, `a job holds at most ${taskCountMax} products`);
    assert(count >= 1 && out.length >= count && x.length >= count, `add: ${count} rows asked of ${out.length} outputs and ${x.length} inputs`);
    const outStride = count > 1 ? out[1].byteOffset - out[0].byteOffset : weight.rows * 4;
    let xAddress = x[0].byteOffset;
    let xStride = count > 1 ? x[1].byteOffset - x[0].byteOffset : weight.cols * 4;
    const kind = activationKinds[weight.type];
    if (kind !== 'F32') {
      const input = this.quantized(xAddress, xStride, count, weight.cols, kind);
      xAddress = input.address;
      xStride = input.rowBytes;
    }
    writeTask(this.backend.control, this.queued++, kernelIndex(weight.type, count > 1), out[0].byteOffset, matrixBytesView(weight).byteOffset, xAddress, weight.rows, weight.cols, rowBytesOf(weight.type, weight.cols), count, outStride, xStride);
  }

  /** The input's quantization for this job: made now, unless an earlier product of the job made it already. */
  private quantized(x: number, xStride: number, count: number, cols: number, kind: 'Q8_0' | 'Q8_K'): QuantizedInput {
    const known = this.inputs.find((input) => input.x === x && input.xStride === xStride && input.count === count && input.cols === cols && input.kind === kind);
    if (known !== undefined) return known;
    const rowBytes = activationRowBytes(kind, cols);
    const input: QuantizedInput = { x, xStride, count, cols, kind, address: this.buffer(this.inputs.length, count * rowBytes), rowBytes };
    this.backend.runHere(quantizeKernelIndex[kind], input.address, 0, x, 0, count, cols, 0, 0, rowBytes, xStride);
    this.inputs.push(input);
    return input;
  }

  /** The address of buffer `index`, of at least `bytes` bytes. */
  private buffer(index: number, bytes: number): number {
    const memory = this.backend.memory;
    const current = this.buffers[index];
    if (current !== undefined && current[1] >= bytes) return current[0];
    if (current !== undefined) memory.release(current[0]);
    this.buffers[index] = [memory.allocate(bytes, true), bytes];
    return this.buffers[index][0];
  }

  run(): void {
    this.inputs.length = 0;
    if (this.queued === 0) return;
    const count = this.queued;
    this.queued = 0;
    this.backend.run(count);
  }
}
