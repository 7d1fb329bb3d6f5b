/**
 * One session's KV cache and the attention over it, in two implementations with one
 * interface: in TypeScript over plain arrays (the reference), and on the WebAssembly
 * kernels with the cache in kernel memory, where every head's scores (q . k for each
 * cached position) and weighted values are products the threads share. The softmax
 * between them stays in TypeScript (WebAssembly has no exp).
 */
import { ContextLengthError } from './errors.js';
import { type HeadSlice, attendHead, attentionScale, softmaxInPlace } from './kernels/index.js';
import { columnsKernelIndex, kernelIndex } from './kernels/wasm/index.js';
import type { KernelBackend } from './parallel/backend.js';
import { taskCountMax, writeTask } from './parallel/control-block.js';

/** The KV cache of one session may not exceed this; a longer context needs a smaller model or a shorter window. */
export const kvCacheBytesMax = 4 * 1024 * 1024 * 1024;

export interface AttentionShape {
  layerCount: number;
  headCount: number;
  kvHeadCount: number;
  headDim: number;
  contextLength: number;
}

export interface AttentionCache {
  /** Caches one position's key and value (kvHeadCount * headDim each) for a layer. */
  store(layer: number, key: Float32Array, value: Float32Array, position: number): void;
  /**
   * out (headCount * headDim) = for every query head h, the softmax over positions
   * 0..position of q_h . k_t / sqrt(headDim), applied to the values v_t of h's kv head.
   */
  attend(layer: number, query: Float32Array, out: Float32Array, position: number): void;
  /** Gives the cache's memory back; the cache must not be used afterwards. */
  release(): void;
}

/** Bytes of the cache for `shape`, refused over kvCacheBytesMax with the context length that would fit. */
export function checkCacheBytes(shape: AttentionShape): number {
  const kvDim = shape.kvHeadCount * shape.headDim;
  const cacheBytes = 2 * shape.layerCount * shape.contextLength * kvDim * Float32Array.BYTES_PER_ELEMENT;
  if (cacheBytes > kvCacheBytesMax) {
    const fitting = Math.floor(kvCacheBytesMax / (2 * shape.layerCount * kvDim * Float32Array.BYTES_PER_ELEMENT));
    throw new ContextLengthError(shape.contextLength, fitting, `a KV cache for ${shape.contextLength} positions takes ${cacheBytes} bytes, more than the ${kvCacheBytesMax}-byte limit; ask for a context length of at most ${fitting}`);
  }
  return cacheBytes;
}

export class TypeScriptAttentionCache implements AttentionCache {
  private readonly keyCache: Float32Array[]; // (layer) -> (contextLength, kvHeadCount * headDim)
  private readonly valueCache: Float32Array[]; // (layer) -> (contextLength, kvHeadCount * headDim)
  private readonly scores: Float32Array; // (contextLength) one head's attention over the positions
  private readonly headSlice: HeadSlice;

  constructor(private readonly shape: AttentionShape) {
    const kvDim = shape.kvHeadCount * shape.headDim;
    this.keyCache = Array.from({ length: shape.layerCount }, () => new Float32Array(shape.contextLength * kvDim));
    this.valueCache = Array.from({ length: shape.layerCount }, () => new Float32Array(shape.contextLength * kvDim));
    this.scores = new Float32Array(shape.contextLength);
    this.headSlice = { headDim: shape.headDim, queryOffset: 0, kvOffset: 0, kvStride: kvDim };
  }

  store(layer: number, key: Float32Array, value: Float32Array, position: number): void {
    this.keyCache[layer].set(key, position * this.headSlice.kvStride);
    this.valueCache[layer].set(value, position * this.headSlice.kvStride);
  }

  attend(layer: number, query: Float32Array, out: Float32Array, position: number): void {
    const { headCount, kvHeadCount, headDim } = this.shape;
    const queriesPerKvHead = headCount / kvHeadCount;
    for (let h = 0; h < headCount; h++) {
      this.headSlice.queryOffset = h * headDim;
      this.headSlice.kvOffset = Math.floor(h / queriesPerKvHead) * headDim;
      attendHead(out, query, this.keyCache[layer], this.valueCache[layer], position + 1, this.headSlice, this.scores);
    }
  }

  release(): void {}
}

/** Frees the kernel memory of caches whose sessions were dropped without release(). */
const unreleased = new FinalizationRegistry<() => void>((release) => release());

export class WasmAttentionCache implements AttentionCache {
  private readonly address: number;
  private readonly keyCache: Float32Array[]; // (layer) -> (contextLength, kvHeadCount * headDim), in kernel memory
  private readonly valueCache: Float32Array[]; // (layer) -> (contextLength, kvHeadCount * headDim), in kernel memory
  private readonly scores: Float32Array[]; // (headCount) -> (contextLength), in kernel memory
  private released = false;

  /** Throws KernelMemoryError when the kernel memory cannot hold the cache (the caller then uses TypeScriptAttentionCache). */
  constructor(
    private readonly shape: AttentionShape,
    private readonly backend: KernelBackend,
  ) {
    const { layerCount, contextLength, headCount, kvHeadCount, headDim } = shape;
    const layerFloats = contextLength * kvHeadCount * headDim;
    const all = backend.memory.floats(2 * layerCount * layerFloats + headCount * contextLength, true);
    this.address = all.byteOffset;
    this.keyCache = Array.from({ length: layerCount }, (_, l) => all.subarray(l * layerFloats, (l + 1) * layerFloats));
    this.valueCache = Array.from({ length: layerCount }, (_, l) => all.subarray((layerCount + l) * layerFloats, (layerCount + l + 1) * layerFloats));
    const scoresStart = 2 * layerCount * layerFloats;
    this.scores = Array.from({ length: headCount }, (_, h) => all.subarray(scoresStart + h * contextLength, scoresStart + (h + 1) * contextLength));
    const memory = backend.memory;
    const address = this.address;
    unreleased.register(this, () => memory.release(address), this);
  }

  store(layer: number, key: Float32Array, value: Float32Array, position: number): void {
    const kvDim = this.shape.kvHeadCount * this.shape.headDim;
    this.keyCache[layer].set(key, position * kvDim);
    this.valueCache[layer].set(value, position * kvDim);
  }

  attend(layer: number, query: Float32Array, out: Float32Array, position: number): void {
    const { headCount, kvHeadCount, headDim } = this.shape;
    const kvRowBytes = kvHeadCount * headDim * 4;
    const queriesPerKvHead = headCount / kvHeadCount;
    const positions = position + 1;
    const control = this.backend.control;
    const scale = attentionScale(headDim);
    for (let first = 0; first < headCount; first += taskCountMax) {
      const heads = Math.min(taskCountMax, headCount - first);
      // Scores: scores_h[t] = q_h . k_t, a product with the cached keys of h's kv head as its rows.
      for (let i = 0; i < heads; i++) {
        const h = first + i;
        const kvOffsetBytes = Math.floor(h / queriesPerKvHead) * headDim * 4;
        writeTask(control, i, kernelIndex('F32', false), this.scores[h].byteOffset, this.keyCache[layer].byteOffset + kvOffsetBytes, query.byteOffset + h * headDim * 4, positions, headDim, kvRowBytes, 1, positions * 4, headDim * 4);
      }
      this.backend.run(heads);
      // Probabilities: softmax of the scaled scores.
      for (let h = first; h < first + heads; h++) {
        softmaxInPlace(this.scores[h], positions, scale);
      }
      // Output: out_h = sum_t p_t v_t, the columns kernel over the cached values of h's kv head.
      for (let i = 0; i < heads; i++) {
        const h = first + i;
        const kvOffsetBytes = Math.floor(h / queriesPerKvHead) * headDim * 4;
        writeTask(control, i, columnsKernelIndex, out.byteOffset + h * headDim * 4, this.valueCache[layer].byteOffset + kvOffsetBytes, this.scores[h].byteOffset, headDim, positions, kvRowBytes, 1, headDim * 4, positions * 4);
      }
      this.backend.run(heads);
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    unreleased.unregister(this);
    this.backend.memory.release(this.address);
  }
}
