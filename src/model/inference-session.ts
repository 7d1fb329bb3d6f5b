/**
 * One conversation's worth of inference state: the KV cache and every activation buffer,
 * allocated once, and the forward pass that reads one token and returns the logits of
 * the next. The forward pass reads top to bottom as the recipe of a Llama block.
 */
import { headDimOf } from './config.js';
import { ContextLengthError, InvalidTokenError, PositionError } from './errors.js';
import { type HeadSlice, addInPlace, applyRope, attendHead, matVec, rmsNorm, ropeAngles, rowToFloat32, swiGlu } from './kernels/index.js';
import type { Transformer } from './transformer.js';

/** The KV cache of one session may not exceed this; a longer context needs a smaller model or a shorter window. */
export const kvCacheBytesMax = 4 * 1024 * 1024 * 1024;

export interface InferenceSessionOptions {
  /** Positions this session can hold; at most (and by default) the model's context length. */
  contextLength?: number;
}

export class InferenceSession {
  readonly contextLength: number;
  /** Positions 0..filledPositions-1 hold valid keys and values. */
  private filledPositions = 0;

  // KV cache, one array per layer.
  private readonly keyCache: Float32Array[]; // (layer) -> (contextLength, kvHeadCount * headDim)
  private readonly valueCache: Float32Array[]; // (layer) -> (contextLength, kvHeadCount * headDim)

  // Activations, reused by every call.
  private readonly x: Float32Array; // (dim) the residual stream
  private readonly normed: Float32Array; // (dim) x after RMSNorm
  private readonly query: Float32Array; // (headCount * headDim)
  private readonly key: Float32Array; // (kvHeadCount * headDim)
  private readonly value: Float32Array; // (kvHeadCount * headDim)
  private readonly attention: Float32Array; // (headCount * headDim) the heads' outputs, concatenated
  private readonly projected: Float32Array; // (dim) a block's contribution to the residual stream
  private readonly gate: Float32Array; // (hiddenDim)
  private readonly up: Float32Array; // (hiddenDim)
  private readonly scores: Float32Array; // (contextLength) one head's attention over the positions
  private readonly logits: Float32Array; // (vocab)
  private readonly inverseFrequencies: Float64Array; // (headDim / 2) base^(-2i/headDim)
  private readonly cos: Float32Array; // (headDim / 2)
  private readonly sin: Float32Array; // (headDim / 2)
  private readonly headSlice: HeadSlice;

  constructor(
    readonly model: Transformer,
    options: InferenceSessionOptions = {},
  ) {
    const config = model.config;
    const headDim = headDimOf(config);
    const kvDim = config.kvHeadCount * headDim;
    const contextLength = options.contextLength ?? config.contextLength;
    if (!Number.isInteger(contextLength) || contextLength < 1 || contextLength > config.contextLength) {
      throw new ContextLengthError(contextLength, config.contextLength, `a session's context length must be an integer from 1 to the model's ${config.contextLength}, got ${contextLength}`);
    }
    const cacheBytes = 2 * config.layerCount * contextLength * kvDim * Float32Array.BYTES_PER_ELEMENT;
    if (cacheBytes > kvCacheBytesMax) {
      const fitting = Math.floor(kvCacheBytesMax / (2 * config.layerCount * kvDim * Float32Array.BYTES_PER_ELEMENT));
      throw new ContextLengthError(contextLength, fitting, `a KV cache for ${contextLength} positions takes ${cacheBytes} bytes, more than the ${kvCacheBytesMax}-byte limit; ask for a context length of at most ${fitting}`);
    }
    this.contextLength = contextLength;
    this.keyCache = Array.from({ length: config.layerCount }, () => new Float32Array(contextLength * kvDim));
    this.valueCache = Array.from({ length: config.layerCount }, () => new Float32Array(contextLength * kvDim));
    this.x = new Float32Array(config.dim);
    this.normed = new Float32Array(config.dim);
    this.query = new Float32Array(config.headCount * headDim);
    this.key = new Float32Array(kvDim);
    this.value = new Float32Array(kvDim);
    this.attention = new Float32Array(config.headCount * headDim);
    this.projected = new Float32Array(config.dim);
    this.gate = new Float32Array(config.hiddenDim);
    this.up = new Float32Array(config.hiddenDim);
    this.scores = new Float32Array(contextLength);
    this.logits = new Float32Array(config.vocabSize);
    this.inverseFrequencies = new Float64Array(headDim / 2);
    for (let i = 0; i < headDim / 2; i++) this.inverseFrequencies[i] = config.ropeFreqBase ** ((-2 * i) / headDim);
    this.cos = new Float32Array(headDim / 2);
    this.sin = new Float32Array(headDim / 2);
    this.headSlice = { headDim, queryOffset: 0, kvOffset: 0, kvStride: kvDim };
  }

  /** How many positions (from 0) the KV cache holds; the next forward may use any position up to this. */
  get length(): number {
    return this.filledPositions;
  }

  /**
   * Runs `token` at `position` and returns the logits (vocab) for the token after it.
   * `position` may be at most `length`: positions are filled in order, and going back
   * overwrites (and forgets everything after it). The returned array is reused by the next call.
   */
  forward(token: number, position: number): Float32Array {
    this.checkInput(token, position);
    const config = this.model.config;
    const weights = this.model.weights;
    const { x, normed, query, key, value, attention, projected, gate, up, logits } = this;
    const headDim = this.headSlice.headDim;
    const kvDim = this.headSlice.kvStride;
    const queriesPerKvHead = config.headCount / config.kvHeadCount;
    const adjacentPairs = config.architecture === 'llama';

    // Embedding: x = token_embd[token]. x: (dim)
    rowToFloat32(weights.tokenEmbedding, token, x);
    // Rotation angles of this position, shared by every layer and head. cos, sin: (headDim / 2)
    ropeAngles(this.cos, this.sin, position, this.inverseFrequencies);

    for (let l = 0; l < config.layerCount; l++) {
      const layer = weights.layers[l];
      // Attention input: normed = RMSNorm(x) * attn_norm. normed: (dim)
      rmsNorm(normed, x, layer.attentionNorm, config.normEpsilon);
      // Projections: q = Wq normed, k = Wk normed, v = Wv normed, plus biases (qwen2).
      // query: (headCount * headDim), key and value: (kvHeadCount * headDim)
      matVec(query, layer.query, normed);
      matVec(key, layer.key, normed);
      matVec(value, layer.value, normed);
      if (layer.queryBias !== undefined) addInPlace(query, layer.queryBias);
      if (layer.keyBias !== undefined) addInPlace(key, layer.keyBias);
      if (layer.valueBias !== undefined) addInPlace(value, layer.valueBias);
      // Position: rotate every query and key head (llama: adjacent pairs; qwen2: halves).
      applyRope(query, config.headCount, headDim, this.cos, this.sin, adjacentPairs);
      applyRope(key, config.kvHeadCount, headDim, this.cos, this.sin, adjacentPairs);
      // Cache: this position's key and value become row `position` of the layer's cache.
      this.keyCache[l].set(key, position * kvDim);
      this.valueCache[l].set(value, position * kvDim);
      // Attention: query head h looks at positions 0..position through kv head h / queriesPerKvHead,
      // with scores q.k / sqrt(headDim) and a softmax. attention: (headCount * headDim)
      for (let h = 0; h < config.headCount; h++) {
        this.headSlice.queryOffset = h * headDim;
        this.headSlice.kvOffset = Math.floor(h / queriesPerKvHead) * headDim;
        attendHead(attention, query, this.keyCache[l], this.valueCache[l], position + 1, this.headSlice, this.scores);
      }
      // Output projection and residual: x += Wo attention. projected: (dim)
      matVec(projected, layer.attentionOutput, attention);
      addInPlace(x, projected);
      // Feed-forward input: normed = RMSNorm(x) * ffn_norm. normed: (dim)
      rmsNorm(normed, x, layer.feedForwardNorm, config.normEpsilon);
      // SwiGLU: gate = silu(Wgate normed) * (Wup normed). gate, up: (hiddenDim)
      matVec(gate, layer.gate, normed);
      matVec(up, layer.up, normed);
      swiGlu(gate, up);
      // Down projection and residual: x += Wdown gate. projected: (dim)
      matVec(projected, layer.down, gate);
      addInPlace(x, projected);
    }

    // Final norm: normed = RMSNorm(x) * output_norm. normed: (dim)
    rmsNorm(normed, x, weights.outputNorm, config.normEpsilon);
    // Logits: one score per vocabulary entry, from output.weight (or token_embd when tied). logits: (vocab)
    matVec(logits, weights.output, normed);
    this.filledPositions = position + 1;
    return logits;
  }

  private checkInput(token: number, position: number): void {
    const vocabSize = this.model.config.vocabSize;
    if (!Number.isInteger(token) || token < 0 || token >= vocabSize) throw new InvalidTokenError(token, vocabSize, 'forward');
    if (!Number.isInteger(position) || position < 0) throw new PositionError(`forward: position must be a non-negative integer, got ${position}`);
    if (position >= this.contextLength) {
      throw new ContextLengthError(position + 1, this.contextLength, `forward: position ${position} is outside the context window of ${this.contextLength} positions (0 to ${this.contextLength - 1})`);
    }
    if (position > this.filledPositions) {
      throw new PositionError(`forward: position ${position} skips ahead; the KV cache holds positions 0 to ${this.filledPositions - 1}, so the next position is at most ${this.filledPositions}`);
    }
  }
}
