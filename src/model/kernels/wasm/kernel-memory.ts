/**
 * The one WebAssembly memory that inference computes in: the weights, copied in once at
 * load time, and the activations, so that a kernel reads and writes nothing outside it
 * and worker threads see the same bytes. It is shared (a SharedArrayBuffer underneath)
 * and grows as weights arrive; views made before a growth stay valid.
 *
 * Layout: the half-to-float table at address 0 (the kernels' F16 scales), a control
 * block for the worker threads, then allocations in order, each 64-byte aligned (a
 * cache line, so two threads never write the same line through neighbouring buffers).
 */
import { assert } from '../../../core/assert.js';
import { halfToFloatTable } from '../f16.js';
import { type WasmMemory, wasmPageBytes, wasmPagesMax, webAssembly } from '../../wasm/api.js';
import { halfTableAddress, halfTableBytes } from './formats.js';

/** Where the threads' control block starts, and its size (see ../../parallel/control-block.ts). */
export const controlBlockAddress = halfTableAddress + halfTableBytes;
export const controlBlockBytes = 8192;
const firstAllocationAddress = controlBlockAddress + controlBlockBytes;
/** Every allocation starts on a cache line. */
export const allocationAlignmentBytes = 64;
/** The most a 32-bit WebAssembly memory can address. */
export const kernelMemoryBytesMax = wasmPagesMax * wasmPageBytes;

/** A request for more memory than a 32-bit WebAssembly memory holds. */
export class KernelMemoryError extends Error {
  override name = 'KernelMemoryError';
  readonly code = 'KERNEL_MEMORY';
}

export class KernelMemory {
  private next = firstAllocationAddress;
  private readonly owned = new WeakSet<object>();
  /** Bytes of each allocation that may be released (see allocate), by address. */
  private readonly releasable = new Map<number, number>();
  /** Released ranges below `next`, as [address, bytes], sorted and never adjacent. */
  private readonly freeRanges: Array<[number, number]> = [];

  private constructor(readonly memory: WasmMemory) {
    new Float32Array(memory.buffer, halfTableAddress, halfTableBytes / 4).set(halfToFloatTable);
  }

  /** A fresh memory with room for `bytesHint` bytes of allocations (it grows beyond that if asked). */
  static create(bytesHint = 0): KernelMemory {
    assert(webAssembly !== undefined, 'KernelMemory needs WebAssembly; check wasmKernelsAvailable() first');
    const pages = Math.ceil((firstAllocationAddress + bytesHint) / wasmPageBytes);
    if (pages > wasmPagesMax) throw new KernelMemoryError(KernelMemory.tooLarge(firstAllocationAddress + bytesHint));
    return new KernelMemory(new webAssembly.Memory({ initial: pages, maximum: wasmPagesMax, shared: true }));
  }

  private static tooLarge(bytes: number): string {
    return `the WebAssembly kernels need ${(bytes / 2 ** 30).toFixed(2)} GiB of memory for this model, more than the 4 GiB a WebAssembly memory holds; use the TypeScript kernels (--kernels js) or a smaller model`;
  }

  /** The memory's current bytes; a view of it stays valid after the memory grows. */
  get buffer(): ArrayBufferLike {
    return this.memory.buffer;
  }

  /** Bytes handed out so far, from address 0. */
  get usedBytes(): number {
    return this.next;
  }

  /**
   * Reserves `bytes` bytes and returns their address. Weights and the model's workspace
   * stay for the model's life; a `releasable` allocation (a session's KV cache) may be
   * given back with release() and its bytes then serve a later one.
   */
  allocate(bytes: number, releasable = false): number {
    assert(Number.isInteger(bytes) && bytes >= 0, `allocate: ${bytes} is not a byte count`);
    const size = Math.ceil(bytes / allocationAlignmentBytes) * allocationAlignmentBytes;
    const reused = releasable ? this.takeFreeRange(size) : undefined;
    if (reused !== undefined) {
      this.releasable.set(reused, size);
      return reused;
    }
    const address = this.next;
    const end = address + size;
    if (end > kernelMemoryBytesMax) throw new KernelMemoryError(KernelMemory.tooLarge(end));
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / wasmPageBytes));
    this.next = end;
    if (releasable) this.releasable.set(address, size);
    return address;
  }

  /** The first released range of at least `size` bytes, cut to size; undefined when none fits. */
  private takeFreeRange(size: number): number | undefined {
    const index = this.freeRanges.findIndex(([, bytes]) => bytes >= size);
    if (index < 0) return undefined;
    const [address, bytes] = this.freeRanges[index];
    if (bytes === size) this.freeRanges.splice(index, 1);
    else this.freeRanges[index] = [address + size, bytes - size];
    return address;
  }

  /** Gives back a releasable allocation; neighbouring free ranges merge, and a free range at the top returns to the bump pointer. */
  release(address: number): void {
    const size = this.releasable.get(address);
    assert(size !== undefined, `release: no releasable allocation at ${address}`);
    this.releasable.delete(address);
    let index = this.freeRanges.findIndex(([start]) => start > address);
    if (index < 0) index = this.freeRanges.length;
    this.freeRanges.splice(index, 0, [address, size]);
    const next = this.freeRanges[index + 1];
    if (next !== undefined && address + size === next[0]) this.freeRanges.splice(index, 2, [address, size + next[1]]);
    const previous = this.freeRanges[index - 1];
    if (previous !== undefined && previous[0] + previous[1] === address) this.freeRanges.splice(index - 1, 2, [previous[0], previous[1] + this.freeRanges[index][1]]);
    const last = this.freeRanges[this.freeRanges.length - 1];
    if (last[0] + last[1] === this.next) {
      this.next = last[0];
      this.freeRanges.pop();
    }
  }

  /** A zeroed float32 array of `count` elements inside the memory (releasable: see allocate). */
  floats(count: number, releasable = false): Float32Array {
    const address = this.allocate(count * 4, releasable); // first: allocating may grow the memory, and this.buffer with it
    const view = new Float32Array(this.buffer, address, count);
    view.fill(0); // released bytes come back as they were left
    this.owned.add(view);
    return view;
  }

  /** Copies `bytes` in (once: a tensor read from a file is then dropped by its reader) and returns the copy. */
  copyIn(bytes: Uint8Array): Uint8Array {
    const address = this.allocate(bytes.byteLength); // first: allocating may grow the memory, and this.buffer with it
    const view = new Uint8Array(this.buffer, address, bytes.byteLength);
    view.set(bytes);
    this.owned.add(view);
    return view;
  }

  /** Whether `view` is one this memory handed out (and so has a kernel address: its byteOffset). */
  owns(view: object): boolean {
    return this.owned.has(view);
  }
}
