/**
 * The activation buffers of the forward pass, allocated once: every buffer holds
 * `rowsMax` tokens' rows, each row a view made here, so that the pass allocates nothing.
 *
 * On the TypeScript kernels each session has its own workspace of one row. On the
 * WebAssembly kernels the buffers must lie in the kernel memory, which never shrinks, so
 * the model makes one workspace of prefillTokensMax rows that all its sessions share:
 * a forward pass runs start to finish without yielding, so two sessions never use it at
 * the same time, and each copies its logits out before returning.
 */
import { type ModelConfig, headDimOf } from './config.js';

/** Tokens of a prompt computed together (matrix-matrix products) by forwardBatch; longer prompts go in several batches. */
export const prefillTokensMax = 32;

export class ForwardWorkspace {
  readonly x: Float32Array[]; // (rowsMax) -> (dim) the residual stream
  readonly normed: Float32Array[]; // (rowsMax) -> (dim) x after RMSNorm
  readonly query: Float32Array[]; // (rowsMax) -> (headCount * headDim)
  readonly key: Float32Array[]; // (rowsMax) -> (kvHeadCount * headDim)
  readonly value: Float32Array[]; // (rowsMax) -> (kvHeadCount * headDim)
  readonly attention: Float32Array[]; // (rowsMax) -> (headCount * headDim) the heads' outputs, concatenated
  readonly projected: Float32Array[]; // (rowsMax) -> (dim) a block's contribution to the residual stream
  readonly gate: Float32Array[]; // (rowsMax) -> (hiddenDim)
  readonly up: Float32Array[]; // (rowsMax) -> (hiddenDim)
  readonly logits: Float32Array; // (vocab) the last token's
  readonly logitsRow: Float32Array[]; // [logits], for the product interface

  /** @param allocate returns a zeroed float32 array of `count` elements (in kernel memory, for the WebAssembly kernels) */
  constructor(
    config: ModelConfig,
    readonly rowsMax: number,
    allocate: (count: number) => Float32Array,
  ) {
    const headDim = headDimOf(config);
    const rows = (width: number): Float32Array[] => {
      const block = allocate(rowsMax * width);
      return Array.from({ length: rowsMax }, (_, i) => block.subarray(i * width, (i + 1) * width));
    };
    this.x = rows(config.dim);
    this.normed = rows(config.dim);
    this.query = rows(config.headCount * headDim);
    this.key = rows(config.kvHeadCount * headDim);
    this.value = rows(config.kvHeadCount * headDim);
    this.attention = rows(config.headCount * headDim);
    this.projected = rows(config.dim);
    this.gate = rows(config.hiddenDim);
    this.up = rows(config.hiddenDim);
    this.logits = allocate(config.vocabSize);
    this.logitsRow = [this.logits];
  }
}
