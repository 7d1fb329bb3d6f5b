/**
 * A gradient engine computes the loss and its gradient for one batch, and owns the
 * memory the weights live in. The local engine does the work on the calling thread; the
 * worker-pool engine (worker-pool-shell.ts) splits the batch into shards, one per thread,
 * and sums their gradients in shard order, so that its result never depends on which
 * thread finishes first.
 *
 * Kernel memory, one shared WebAssembly memory per engine, is laid out as
 *   [parameters | shard 0: gradients, kernel panel, activations | shard 1: ... ]
 * so every thread reads the same weights and writes only its own shard.
 */
import { assert } from '../../core/assert.js';
import type { ModelLayout } from './parameters.js';
import { alignedFloatCount, createKernelMemory, Float32Arena, kernelStripColumns, SimdMultiplier, simdAvailable, type KernelMemory } from './simd-kernel.js';
import { TrainingWorkspace, workspaceFloatCount } from './training-pass.js';

export interface GradientEngine {
  /** The weights (flat order), in memory the engine's threads share; the optimizer updates them in place between steps. */
  readonly parameters: Float32Array;
  /** How many threads share the work (1 for the local engine); recorded in reports. */
  readonly threadCount: number;
  /** The most sequences `evaluate` takes at once. */
  readonly evaluationBatchMax: number;
  /**
   * Computes d(mean loss)/d(parameters) for the batch into `gradients` (overwritten) and
   * returns the summed loss in nats over its batch x seqLen targets.
   */
  computeGradients(inputs: Int32Array, targets: Int32Array, batch: number, seqLen: number, gradients: Float32Array): Promise<number>;
  /** The summed loss in nats of a forward pass only (for evaluation). */
  evaluate(inputs: Int32Array, targets: Int32Array, batch: number, seqLen: number): number;
  close(): Promise<void>;
}

export type GradientEngineFactory = (layout: ModelLayout, maxBatch: number, seqLen: number) => Promise<GradientEngine>;

/** Where one shard's buffers start in kernel memory, in floats. */
export interface ShardRegion {
  maxBatch: number;
  gradientsStart: number;
  arenaStart: number;
  arenaEnd: number;
  innerMax: number;
}

export interface KernelMemoryPlan {
  totalFloats: number;
  shards: ShardRegion[];
}

/** Lays out kernel memory for shards of the given batch sizes. */
export function planKernelMemory(layout: ModelLayout, shardBatches: number[], seqLen: number): KernelMemoryPlan {
  let next = alignedFloatCount(layout.parameterCount);
  const shards = shardBatches.map((maxBatch) => {
    const gradientsStart = next;
    next += alignedFloatCount(layout.parameterCount);
    const { floats, innerMax } = workspaceFloatCount(layout, maxBatch, seqLen, alignedFloatCount);
    const arenaStart = next;
    next += floats + alignedFloatCount(innerMax * kernelStripColumns);
    return { maxBatch, gradientsStart, arenaStart, arenaEnd: next, innerMax };
  });
  return { totalFloats: next, shards };
}

/** One thread's share of the work: its gradient buffer, its activations and its instance of the kernel. */
export class Shard {
  constructor(
    readonly gradients: Float32Array,
    readonly workspace: TrainingWorkspace,
  ) {}

  /** A shard whose buffers are its region of kernel memory, multiplied by its own instance of the SIMD kernel. */
  static inKernelMemory(layout: ModelLayout, memory: KernelMemory, region: ShardRegion, seqLen: number): Shard {
    const buffer = memory.buffer;
    const parameters = new Float32Array(buffer, 0, layout.parameterCount);
    const gradients = new Float32Array(buffer, region.gradientsStart * 4, layout.parameterCount);
    const arena = new Float32Arena(buffer, region.arenaStart, region.arenaEnd);
    const multiplier = new SimdMultiplier(memory, arena, region.innerMax);
    return new Shard(gradients, new TrainingWorkspace(layout, parameters, gradients, region.maxBatch, seqLen, multiplier, (count) => arena.allocate(count)));
  }

  /** The pass over `batch` sequences, its gradient scaled by lossScale, left in this.gradients; returns summed nats. */
  compute(inputs: Int32Array, targets: Int32Array, batch: number, seqLen: number, lossScale: number): number {
    const count = batch * seqLen;
    this.workspace.inputs.set(inputs.subarray(0, count));
    this.workspace.targets.set(targets.subarray(0, count));
    const nats = this.workspace.forward(batch, seqLen, lossScale, true);
    this.workspace.backward();
    return nats;
  }

  evaluate(inputs: Int32Array, targets: Int32Array, batch: number, seqLen: number): number {
    const count = batch * seqLen;
    this.workspace.inputs.set(inputs.subarray(0, count));
    this.workspace.targets.set(targets.subarray(0, count));
    return this.workspace.forward(batch, seqLen, 1, false);
  }
}

/** Splits a batch into `shardCount` nearly equal runs of sequences, the larger ones first. */
export function shardBatches(batch: number, shardCount: number): number[] {
  assert(shardCount >= 1 && shardCount <= batch, 'each shard needs at least one sequence');
  return Array.from({ length: shardCount }, (_, index) => Math.floor(batch / shardCount) + (index < batch % shardCount ? 1 : 0));
}

/** Runs every pass on the calling thread: on the SIMD kernel when WebAssembly has it, else on the TypeScript product. */
export class LocalGradientEngine implements GradientEngine {
  readonly threadCount = 1;
  readonly evaluationBatchMax: number;
  readonly parameters: Float32Array;
  private readonly shard: Shard;

  constructor(layout: ModelLayout, maxBatch: number, seqLen: number, useSimd = simdAvailable()) {
    this.evaluationBatchMax = maxBatch;
    if (useSimd) {
      const plan = planKernelMemory(layout, [maxBatch], seqLen);
      const memory = createKernelMemory(plan.totalFloats);
      this.parameters = new Float32Array(memory.buffer, 0, layout.parameterCount);
      this.shard = Shard.inKernelMemory(layout, memory, plan.shards[0], seqLen);
    } else {
      this.parameters = new Float32Array(layout.parameterCount);
      const gradients = new Float32Array(layout.parameterCount);
      this.shard = new Shard(gradients, new TrainingWorkspace(layout, this.parameters, gradients, maxBatch, seqLen));
    }
  }

  async computeGradients(inputs: Int32Array, targets: Int32Array, batch: number, seqLen: number, gradients: Float32Array): Promise<number> {
    const nats = this.shard.compute(inputs, targets, batch, seqLen, 1 / (batch * seqLen));
    gradients.set(this.shard.gradients);
    return nats;
  }

  evaluate(inputs: Int32Array, targets: Int32Array, batch: number, seqLen: number): number {
    return this.shard.evaluate(inputs, targets, batch, seqLen);
  }

  async close(): Promise<void> {}
}

export const localEngineFactory: GradientEngineFactory = async (layout, maxBatch, seqLen) => new LocalGradientEngine(layout, maxBatch, seqLen);
