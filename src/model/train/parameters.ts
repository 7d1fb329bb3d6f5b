/**
 * The trainable parameters: every GGUF tensor of a `llama` model, packed into one flat
 * array so that the optimizer, gradient clipping, checkpoints and worker threads can
 * treat "all the weights" as a single buffer, while the forward and backward passes
 * see each tensor as a view.
 *
 * The flat order puts the query, key and value weights of a layer next to each other,
 * and the gate and up weights next to each other. Because every weight is stored
 * row-major as (out, in), two adjacent weights with the same `in` form one taller
 * matrix: the three attention projections become a single (qDim + 2 kvDim, dim)
 * matrix product and the two feed-forward projections a single (2 hiddenDim, dim) one.
 * Bigger products run faster, and the gradients land in the same fused places.
 */
import { assert } from '../../core/assert.js';
import type { Rng } from '../../core/rng.js';
import { configProblems, expectedShapes, headDimOf, tensorNames, type ModelConfig } from '../config.js';
import { TrainingConfigError } from './errors.js';

/** Float32Array for training; Float64Array only for checking gradients against finite differences. */
export type FloatArray = Float32Array | Float64Array;
export type Precision = 'float32' | 'float64';

/** Standard deviation of the initial weights (GPT-2's choice). */
export const initialWeightStandardDeviation = 0.02;

export interface ParameterTensor {
  name: string;
  /** (rows, cols) as in expectedShapes: a linear layer is (out, in); a 1-D weight has rows = 1. */
  rows: number;
  cols: number;
  /** Index of the first element in the flat array. */
  offset: number;
  size: number;
  /** Weight decay applies to 2-D matrices only, never to norm weights. */
  isMatrix: boolean;
}

/** Offsets into the flat array of one transformer block's weights. */
export interface LayerLayout {
  attentionNorm: number; // (dim)
  queryKeyValue: number; // fused (qDim + 2 kvDim, dim): attn_q, attn_k, attn_v in that order
  attentionOutput: number; // (dim, qDim)
  feedForwardNorm: number; // (dim)
  gateUp: number; // fused (2 hiddenDim, dim): ffn_gate then ffn_up
  down: number; // (dim, hiddenDim)
}

export interface ModelLayout {
  config: ModelConfig;
  headDim: number;
  queryDim: number; // headCount * headDim
  keyValueDim: number; // kvHeadCount * headDim
  tensors: ParameterTensor[];
  byName: Map<string, ParameterTensor>;
  parameterCount: number;
  tokenEmbedding: number; // (vocab, dim)
  outputNorm: number; // (dim)
  /** Offset of the output projection (vocab, dim): token_embd's offset when the embeddings are tied. */
  output: number;
  layers: LayerLayout[];
}

/** The trainer supports what it can reproduce exactly at inference: the llama architecture. */
export function layoutOf(config: ModelConfig): ModelLayout {
  const problems = configProblems(config);
  if (config.architecture !== 'llama') problems.push(`architecture must be 'llama' for training, got '${config.architecture}'`);
  if (problems.length > 0) throw new TrainingConfigError(`the model configuration is not trainable: ${problems.join('; ')}`);
  const shapes = expectedShapes(config);
  const tensors: ParameterTensor[] = [];
  const byName = new Map<string, ParameterTensor>();
  let offset = 0;
  const add = (name: string): number => {
    const shape = shapes.get(name);
    assert(shape !== undefined, `expectedShapes has no tensor ${name}`);
    const tensor = { name, rows: shape.rows, cols: shape.cols, offset, size: shape.rows * shape.cols, isMatrix: shape.rows > 1 };
    tensors.push(tensor);
    byName.set(name, tensor);
    offset += tensor.size;
    return tensor.offset;
  };
  const tokenEmbedding = add(tensorNames.tokenEmbedding);
  const layers: LayerLayout[] = [];
  for (let layer = 0; layer < config.layerCount; layer++) {
    const attentionNorm = add(tensorNames.attentionNorm(layer));
    const queryKeyValue = add(tensorNames.query(layer));
    add(tensorNames.key(layer));
    add(tensorNames.value(layer));
    const attentionOutput = add(tensorNames.attentionOutput(layer));
    const feedForwardNorm = add(tensorNames.feedForwardNorm(layer));
    const gateUp = add(tensorNames.gate(layer));
    add(tensorNames.up(layer));
    const down = add(tensorNames.down(layer));
    layers.push({ attentionNorm, queryKeyValue, attentionOutput, feedForwardNorm, gateUp, down });
  }
  const outputNorm = add(tensorNames.outputNorm);
  const output = config.tiedEmbeddings ? tokenEmbedding : add(tensorNames.output);
  assert(tensors.length === shapes.size, 'the layout must hold every tensor of expectedShapes');
  const headDim = headDimOf(config);
  return {
    config,
    headDim,
    queryDim: config.headCount * headDim,
    keyValueDim: config.kvHeadCount * headDim,
    tensors,
    byName,
    parameterCount: offset,
    tokenEmbedding,
    outputNorm,
    output,
    layers,
  };
}

/** A flat array of `parameterCount` values in the given precision, optionally on shared memory for worker threads. */
export function allocateFlat(layout: ModelLayout, precision: Precision, shared = false): FloatArray {
  const count = layout.parameterCount;
  if (precision === 'float64') return shared ? new Float64Array(new SharedArrayBuffer(count * 8)) : new Float64Array(count);
  return shared ? new Float32Array(new SharedArrayBuffer(count * 4)) : new Float32Array(count);
}

/**
 * Fills `values` with the initial weights, in flat order from `rng`: norm weights 1,
 * matrices normal(0, 0.02), and the two projections that write into the residual stream
 * (attn_output, ffn_down) scaled down by 1/sqrt(2 layerCount) so that the stream's
 * variance does not grow with depth (GPT-2's scheme).
 */
export function initializeParameters(layout: ModelLayout, values: FloatArray, rng: Rng): void {
  assert(values.length === layout.parameterCount, 'the flat array must match the layout');
  const residualScale = 1 / Math.sqrt(2 * layout.config.layerCount);
  for (const tensor of layout.tensors) {
    const view = values.subarray(tensor.offset, tensor.offset + tensor.size);
    if (!tensor.isMatrix) {
      view.fill(1);
      continue;
    }
    const isResidualProjection = tensor.name.endsWith('.attn_output.weight') || tensor.name.endsWith('.ffn_down.weight');
    const standardDeviation = initialWeightStandardDeviation * (isResidualProjection ? residualScale : 1);
    for (let i = 0; i < view.length; i++) view[i] = rng.nextGaussian() * standardDeviation;
  }
}

/** One tensor of a flat array, as a view (no copy). */
export function tensorView(layout: ModelLayout, values: FloatArray, name: string): FloatArray {
  const tensor = layout.byName.get(name);
  if (tensor === undefined) throw new TrainingConfigError(`the model has no tensor named ${name}`);
  return values.subarray(tensor.offset, tensor.offset + tensor.size);
}
