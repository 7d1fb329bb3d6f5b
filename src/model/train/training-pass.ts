/**
 * One forward and backward pass of the transformer over a batch of token sequences,
 * exactly the inference architecture, with every activation the backward pass needs
 * kept in buffers allocated once (per model, batch size and sequence length) and
 * reused by every step.
 *
 * Reads top to bottom like the recipe it is: embed; per layer, attention then the
 * feed-forward block, each on an RMSNorm of the residual stream and added back to it;
 * final RMSNorm; logits; cross-entropy. `backward` walks the same steps in reverse.
 */
import { assert } from '../../core/assert.js';
import { attentionBackward, attentionForward, ropeRotate, ropeTable, type AttentionShape, type RopeTable } from './attention.js';
import { add, crossEntropy, embeddingBackward, embeddingForward, rmsNormBackward, rmsNormForward, swigluBackward, swigluForward } from './layers.js';
import { linearBackward, linearForward, plainMultiplier, type MatrixMultiplier } from './multiply.js';
import type { FloatArray, LayerLayout, ModelLayout } from './parameters.js';

/** Makes a zeroed buffer of `count` floats (from a kernel arena, or a plain typed array). */
export type Allocate = (count: number) => FloatArray;

/** Views of one block's weights (or of their gradients) in a flat array. */
interface LayerTensors {
  attentionNorm: FloatArray; // (dim)
  queryKeyValue: FloatArray; // (qDim + 2 kvDim, dim)
  attentionOutput: FloatArray; // (dim, qDim)
  feedForwardNorm: FloatArray; // (dim)
  gateUp: FloatArray; // (2 hiddenDim, dim)
  down: FloatArray; // (dim, hiddenDim)
}

interface ModelTensors {
  tokenEmbedding: FloatArray; // (vocab, dim)
  outputNorm: FloatArray; // (dim)
  output: FloatArray; // (vocab, dim), the same memory as tokenEmbedding when tied
  layers: LayerTensors[];
}

/** What one block keeps from the forward pass for the backward pass; n = batch x seqLen rows. */
interface LayerActivations {
  attentionNormed: FloatArray; // (n, dim)
  attentionInverseRms: FloatArray; // (n)
  queryKeyValue: FloatArray; // (n, qDim + 2 kvDim), q and k rotated
  probabilities: FloatArray; // (batch, headCount, seqLen, seqLen)
  attentionMixed: FloatArray; // (n, qDim): attention's output before attn_output
  feedForwardNormed: FloatArray; // (n, dim)
  feedForwardInverseRms: FloatArray; // (n)
  gateUp: FloatArray; // (n, 2 hiddenDim)
  gateSigmoid: FloatArray; // (n, hiddenDim): sigmoid(gate)
  activation: FloatArray; // (n, hiddenDim): silu(gate) * up
}

function tensorsOf(layout: ModelLayout, flat: FloatArray): ModelTensors {
  const { dim, vocabSize, hiddenDim } = layout.config;
  const view = (offset: number, size: number): FloatArray => flat.subarray(offset, offset + size);
  const rowWidth = layout.queryDim + 2 * layout.keyValueDim;
  const layer = (offsets: LayerLayout): LayerTensors => ({
    attentionNorm: view(offsets.attentionNorm, dim),
    queryKeyValue: view(offsets.queryKeyValue, rowWidth * dim),
    attentionOutput: view(offsets.attentionOutput, dim * layout.queryDim),
    feedForwardNorm: view(offsets.feedForwardNorm, dim),
    gateUp: view(offsets.gateUp, 2 * hiddenDim * dim),
    down: view(offsets.down, dim * hiddenDim),
  });
  return {
    tokenEmbedding: view(layout.tokenEmbedding, vocabSize * dim),
    outputNorm: view(layout.outputNorm, dim),
    output: view(layout.output, vocabSize * dim),
    layers: layout.layers.map(layer),
  };
}

/**
 * The size of every buffer a workspace allocates, in allocation order: the single source
 * for both the constructor and workspaceFloatCount (which sizes kernel memory up front).
 */
function bufferSizes(layout: ModelLayout, maxBatch: number, maxSeqLen: number) {
  const { dim, hiddenDim, vocabSize, headCount, layerCount } = layout.config;
  const n = maxBatch * maxSeqLen;
  const rowWidth = layout.queryDim + 2 * layout.keyValueDim;
  const layer = {
    attentionNormed: n * dim,
    attentionInverseRms: n,
    queryKeyValue: n * rowWidth,
    probabilities: maxBatch * headCount * maxSeqLen * maxSeqLen,
    attentionMixed: n * layout.queryDim,
    feedForwardNormed: n * dim,
    feedForwardInverseRms: n,
    gateUp: n * 2 * hiddenDim,
    gateSigmoid: n * hiddenDim,
    activation: n * hiddenDim,
  };
  const outWidthMax = Math.max(rowWidth, dim, 2 * hiddenDim, vocabSize);
  const inWidthMax = Math.max(dim, layout.queryDim, hiddenDim);
  const single = {
    finalNormed: n * dim,
    finalInverseRms: n,
    logits: n * vocabSize,
    projection: n * dim,
    residualGradient: n * dim,
    normedGradient: n * dim,
    queryKeyValueGradient: n * rowWidth,
    mixedGradient: n * layout.queryDim,
    gateUpGradient: n * 2 * hiddenDim,
    activationGradient: n * hiddenDim,
    scoreGradient: maxSeqLen * maxSeqLen,
  };
  return { residual: n * dim, residualCount: 2 * layerCount + 1, layer, single, innerMax: Math.max(n, outWidthMax, inWidthMax, maxSeqLen) };
}

/**
 * Floats a workspace takes from an arena (each buffer rounded up by `align`), and the
 * largest inner dimension of its products (which sizes the kernel's panel).
 */
export function workspaceFloatCount(layout: ModelLayout, maxBatch: number, maxSeqLen: number, align: (count: number) => number): { floats: number; innerMax: number } {
  const sizes = bufferSizes(layout, maxBatch, maxSeqLen);
  const sum = (record: Record<string, number>): number => Object.values(record).reduce((total, size) => total + align(size), 0);
  const floats = sizes.residualCount * align(sizes.residual) + layout.config.layerCount * sum(sizes.layer) + sum(sizes.single);
  return { floats, innerMax: sizes.innerMax };
}

export class TrainingWorkspace {
  readonly maxBatch: number;
  readonly maxSeqLen: number;
  readonly inputs: Int32Array; // (maxBatch * maxSeqLen) token ids
  readonly targets: Int32Array; // (maxBatch * maxSeqLen) next-token ids
  private readonly weights: ModelTensors;
  private readonly gradients: ModelTensors;
  private readonly gradientFlat: FloatArray;
  private readonly shape: AttentionShape;
  private readonly rope: RopeTable;
  private readonly residuals: FloatArray[]; // 2 layerCount + 1 of (n, dim): before each block's attention and feed-forward, and the final stream
  private readonly layers: LayerActivations[];
  private readonly finalNormed: FloatArray; // (n, dim)
  private readonly finalInverseRms: FloatArray; // (n)
  private readonly logits: FloatArray; // (n, vocab), overwritten by its gradient in a training pass
  private readonly projection: FloatArray; // (n, dim): attn_output's or ffn_down's output before the residual addition
  private readonly residualGradient: FloatArray; // (n, dim)
  private readonly normedGradient: FloatArray; // (n, dim)
  private readonly queryKeyValueGradient: FloatArray; // (n, qDim + 2 kvDim)
  private readonly mixedGradient: FloatArray; // (n, qDim)
  private readonly gateUpGradient: FloatArray; // (n, 2 hiddenDim)
  private readonly activationGradient: FloatArray; // (n, hiddenDim)
  private readonly scoreGradient: FloatArray; // (seqLen, seqLen) of one head
  private lastPass: { batch: number; seqLen: number } | undefined;

  /**
   * @param parameters the flat weights the passes read (may be shared with other threads)
   * @param gradients the flat array `backward` overwrites with d(lossScale * total loss)/d(weights)
   * @param allocate where the activations live (kernel memory for the SIMD multiplier); plain typed arrays of the parameters' kind by default
   */
  constructor(
    readonly layout: ModelLayout,
    readonly parameters: FloatArray,
    gradients: FloatArray,
    maxBatch: number,
    maxSeqLen: number,
    private readonly multiplier: MatrixMultiplier = plainMultiplier,
    allocate: Allocate = (count) => (parameters instanceof Float64Array ? new Float64Array(count) : new Float32Array(count)),
  ) {
    const { headCount, kvHeadCount, layerCount, contextLength } = layout.config;
    assert(Number.isInteger(maxBatch) && maxBatch > 0, 'maxBatch must be a positive integer');
    assert(Number.isInteger(maxSeqLen) && maxSeqLen > 0 && maxSeqLen <= contextLength, 'maxSeqLen must be in [1, contextLength]');
    assert(parameters.length === layout.parameterCount && gradients.length === layout.parameterCount, 'flat arrays must match the layout');
    this.maxBatch = maxBatch;
    this.maxSeqLen = maxSeqLen;
    this.inputs = new Int32Array(maxBatch * maxSeqLen);
    this.targets = new Int32Array(maxBatch * maxSeqLen);
    this.weights = tensorsOf(layout, parameters);
    this.gradients = tensorsOf(layout, gradients);
    this.gradientFlat = gradients;
    this.shape = { headCount, kvHeadCount, headDim: layout.headDim, queryDim: layout.queryDim, keyValueDim: layout.keyValueDim };
    this.rope = ropeTable(maxSeqLen, layout.headDim, layout.config.ropeFreqBase);
    const sizes = bufferSizes(layout, maxBatch, maxSeqLen);
    this.residuals = Array.from({ length: sizes.residualCount }, () => allocate(sizes.residual));
    this.layers = Array.from({ length: layerCount }, () => {
      const made = {} as Record<string, FloatArray>;
      for (const [name, size] of Object.entries(sizes.layer)) made[name] = allocate(size);
      return made as unknown as LayerActivations;
    });
    const single = sizes.single;
    this.finalNormed = allocate(single.finalNormed);
    this.finalInverseRms = allocate(single.finalInverseRms);
    this.logits = allocate(single.logits);
    this.projection = allocate(single.projection);
    this.residualGradient = allocate(single.residualGradient);
    this.normedGradient = allocate(single.normedGradient);
    this.queryKeyValueGradient = allocate(single.queryKeyValueGradient);
    this.mixedGradient = allocate(single.mixedGradient);
    this.gateUpGradient = allocate(single.gateUpGradient);
    this.activationGradient = allocate(single.activationGradient);
    this.scoreGradient = allocate(single.scoreGradient);
  }

  /**
   * Runs the model on `inputs` (batch sequences of seqLen tokens, row-major) and returns
   * the summed cross-entropy against `targets` in nats. With `forTraining`, keeps what
   * `backward` needs, with the loss gradient scaled by lossScale (1 / the number of
   * targets in the whole batch, which may span several workers).
   */
  forward(batch: number, seqLen: number, lossScale: number, forTraining: boolean): number {
    assert(batch >= 1 && batch <= this.maxBatch && seqLen >= 1 && seqLen <= this.maxSeqLen, 'batch and seqLen must fit the workspace');
    const { dim, hiddenDim, vocabSize, layerCount, normEpsilon, headCount, kvHeadCount } = this.layout.config;
    const { queryDim } = this.layout;
    const rowWidth = queryDim + 2 * this.layout.keyValueDim;
    const n = batch * seqLen;
    const weights = this.weights;
    const multiplier = this.multiplier;
    embeddingForward(this.residuals[0], weights.tokenEmbedding, this.inputs, n, dim);
    for (let layer = 0; layer < layerCount; layer++) {
      const w = weights.layers[layer];
      const a = this.layers[layer];
      const streamIn = this.residuals[2 * layer];
      const streamMid = this.residuals[2 * layer + 1];
      // Attention block: x += attn_output(attention(rope(q), rope(k), v)) on RMSNorm(x) * attn_norm.
      rmsNormForward(a.attentionNormed, a.attentionInverseRms, streamIn, w.attentionNorm, n, dim, normEpsilon);
      linearForward(multiplier, a.queryKeyValue, a.attentionNormed, w.queryKeyValue, n, rowWidth, dim);
      ropeRotate(a.queryKeyValue, n, seqLen, rowWidth, headCount + kvHeadCount, this.rope, false);
      attentionForward(multiplier, a.attentionMixed, a.probabilities, a.queryKeyValue, batch, seqLen, this.shape);
      linearForward(multiplier, this.projection, a.attentionMixed, w.attentionOutput, n, dim, queryDim);
      add(streamMid, streamIn, this.projection, n * dim);
      // Feed-forward block: x += ffn_down(silu(ffn_gate(h)) * ffn_up(h)), h = RMSNorm(x) * ffn_norm.
      rmsNormForward(a.feedForwardNormed, a.feedForwardInverseRms, streamMid, w.feedForwardNorm, n, dim, normEpsilon);
      linearForward(multiplier, a.gateUp, a.feedForwardNormed, w.gateUp, n, 2 * hiddenDim, dim);
      swigluForward(a.activation, a.gateSigmoid, a.gateUp, n, hiddenDim);
      linearForward(multiplier, this.projection, a.activation, w.down, n, dim, hiddenDim);
      add(this.residuals[2 * layer + 2], streamMid, this.projection, n * dim);
    }
    // Head: final RMSNorm, logits, cross-entropy (whose gradient replaces the logits when training).
    rmsNormForward(this.finalNormed, this.finalInverseRms, this.residuals[2 * layerCount], weights.outputNorm, n, dim, normEpsilon);
    linearForward(multiplier, this.logits, this.finalNormed, weights.output, n, vocabSize, dim);
    const nats = crossEntropy(this.logits, this.targets, n, vocabSize, lossScale, forTraining);
    this.lastPass = forTraining ? { batch, seqLen } : undefined;
    return nats;
  }

  /** Overwrites the gradient array with the gradient of the last training forward pass. */
  backward(): void {
    assert(this.lastPass !== undefined, 'backward needs a forward pass made with forTraining');
    const { batch, seqLen } = this.lastPass;
    this.lastPass = undefined;
    const { dim, hiddenDim, vocabSize, layerCount, headCount, kvHeadCount } = this.layout.config;
    const { queryDim } = this.layout;
    const rowWidth = queryDim + 2 * this.layout.keyValueDim;
    const n = batch * seqLen;
    const weights = this.weights;
    const gradients = this.gradients;
    const multiplier = this.multiplier;
    // Norm weights and the embedding accumulate their gradients; everything starts at zero.
    this.gradientFlat.fill(0);
    // Head: the logits' gradient flows into the output projection and the final norm.
    linearBackward(multiplier, gradients.output, this.normedGradient, this.logits, this.finalNormed, weights.output, n, vocabSize, dim);
    this.residualGradient.fill(0, 0, n * dim);
    rmsNormBackward(this.residualGradient, gradients.outputNorm, this.normedGradient, this.residuals[2 * layerCount], weights.outputNorm, this.finalInverseRms, n, dim);
    for (let layer = layerCount - 1; layer >= 0; layer--) {
      const w = weights.layers[layer];
      const g = gradients.layers[layer];
      const a = this.layers[layer];
      // Feed-forward block, in reverse; the residual gradient passes through unchanged and gains the block's.
      linearBackward(multiplier, g.down, this.activationGradient, this.residualGradient, a.activation, w.down, n, dim, hiddenDim);
      swigluBackward(this.gateUpGradient, this.activationGradient, a.gateUp, a.gateSigmoid, n, hiddenDim);
      linearBackward(multiplier, g.gateUp, this.normedGradient, this.gateUpGradient, a.feedForwardNormed, w.gateUp, n, 2 * hiddenDim, dim);
      rmsNormBackward(this.residualGradient, g.feedForwardNorm, this.normedGradient, this.residuals[2 * layer + 1], w.feedForwardNorm, a.feedForwardInverseRms, n, dim);
      // Attention block, in reverse.
      linearBackward(multiplier, g.attentionOutput, this.mixedGradient, this.residualGradient, a.attentionMixed, w.attentionOutput, n, dim, queryDim);
      attentionBackward(multiplier, this.queryKeyValueGradient, this.mixedGradient, a.probabilities, a.queryKeyValue, batch, seqLen, this.shape, this.scoreGradient);
      ropeRotate(this.queryKeyValueGradient, n, seqLen, rowWidth, headCount + kvHeadCount, this.rope, true);
      linearBackward(multiplier, g.queryKeyValue, this.normedGradient, this.queryKeyValueGradient, a.attentionNormed, w.queryKeyValue, n, rowWidth, dim);
      rmsNormBackward(this.residualGradient, g.attentionNorm, this.normedGradient, this.residuals[2 * layer], w.attentionNorm, a.attentionInverseRms, n, dim);
    }
    // Embedding: adds to the output projection's gradient when the two are tied.
    embeddingBackward(gradients.tokenEmbedding, this.residualGradient, this.inputs, n, dim);
  }
}
