/**
 * One conversation's worth of inference state: the KV cache, allocated once, and the
 * forward pass that reads tokens and returns the logits of the next. The pass reads top
 * to bottom as the recipe of a Llama block, for a batch of tokens at once (the prompt)
 * or for one (each generated token); both give the same bits for the same token.
 */
import { type AttentionCache, type AttentionShape, TypeScriptAttentionCache, WasmAttentionCache, checkCacheBytes, kvCacheBytesMax } from './attention-cache.js';
import { headDimOf } from './config.js';
import { ContextLengthError, InvalidTokenError, PositionError, SessionClosedError } from './errors.js';
import { ForwardWorkspace, prefillTokensMax } from './forward-workspace.js';
import { addInPlace, applyRope, rmsNorm, ropeAngles, ropeThetaScale, rowToFloat32, swiGlu } from './kernels/index.js';
import { KernelMemoryError } from './kernels/wasm/index.js';
import type { Transformer } from './transformer.js';

export interface InferenceSessionOptions {
  /** Positions this session can hold; at most (and by default) the model's context length. */
  contextLength?: number;
}

export class InferenceSession {
  readonly contextLength: number;
  /** Positions 0..filledPositions-1 hold valid keys and values. */
  private filledPositions = 0;

  private readonly cache: AttentionCache; // the KV cache, (layer, contextLength, kvHeadCount * headDim) for keys and for values
  private readonly workspace: ForwardWorkspace; // activations; the model's shared one on the WebAssembly kernels
  private readonly logits: Float32Array; // (vocab) what forward returns
  private readonly ropeThetaScale: number; // base^(-2/headDim) in float32: each pair's angle over the previous pair's
  private readonly cos: Float32Array; // (headDim / 2)
  private readonly sin: Float32Array; // (headDim / 2)
  private readonly headDim: number;
  private readonly oneToken = [0];
  private closed = false;
  private readonly lastNormed: Float32Array[] = [new Float32Array(0)]; // [normed row of the last token], for the logits product

  constructor(
    readonly model: Transformer,
    options: InferenceSessionOptions = {},
  ) {
    const config = model.config;
    const headDim = headDimOf(config);
    const contextLength = options.contextLength ?? config.contextLength;
    if (!Number.isInteger(contextLength) || contextLength < 1 || contextLength > config.contextLength) {
      throw new ContextLengthError(contextLength, config.contextLength, `a session's context length must be an integer from 1 to the model's ${config.contextLength}, got ${contextLength}`);
    }
    const shape: AttentionShape = { layerCount: config.layerCount, headCount: config.headCount, kvHeadCount: config.kvHeadCount, headDim, contextLength };
    checkCacheBytes(shape);
    this.contextLength = contextLength;
    this.cache = InferenceSession.cacheFor(model, shape);
    this.workspace = model.sharedWorkspace ?? new ForwardWorkspace(config, 1, (count) => new Float32Array(count));
    this.logits = model.sharedWorkspace === undefined ? this.workspace.logits : new Float32Array(config.vocabSize);
    this.headDim = headDim;
    this.ropeThetaScale = ropeThetaScale(config.ropeFreqBase, headDim);
    this.cos = new Float32Array(headDim / 2);
    this.sin = new Float32Array(headDim / 2);
  }

  /** On the WebAssembly kernels, a cache in kernel memory; if that memory cannot hold one more, or on the TypeScript kernels, plain arrays. */
  private static cacheFor(model: Transformer, shape: AttentionShape): AttentionCache {
    if (model.backend !== undefined) {
      try {
        return new WasmAttentionCache(shape, model.backend);
      } catch (error) {
        if (!(error instanceof KernelMemoryError)) throw error;
      }
    }
    return new TypeScriptAttentionCache(shape);
  }

  /** Gives the KV cache's memory back (on the WebAssembly kernels it lives in the model's memory). The session cannot run afterwards. */
  close(): void {
    this.closed = true;
    this.cache.release();
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
    this.checkInput([token], position, 'forward');
    this.oneToken[0] = token;
    this.runTokens(this.oneToken, 0, 1, position);
    return this.logits;
  }

  /**
   * Runs `tokens` at positions startPosition, startPosition + 1, ... and returns the logits
   * for the token after the last: the same bits as calling forward for each in turn, but
   * the tokens share each pass over the weights (matrix-matrix products), which makes a
   * prompt many times faster on the WebAssembly kernels.
   */
  forwardBatch(tokens: readonly number[], startPosition: number): Float32Array {
    this.checkInput(tokens, startPosition, 'forwardBatch');
    const rowsMax = this.workspace.rowsMax;
    for (let first = 0; first < tokens.length; first += rowsMax) {
      this.runTokens(tokens, first, Math.min(rowsMax, tokens.length - first), startPosition + first);
    }
    return this.logits;
  }

  /** The recipe, for tokens[first .. first + count) at positions position, position + 1, ... */
  private runTokens(tokens: readonly number[], first: number, count: number, position: number): void {
    const config = this.model.config;
    const weights = this.model.weights;
    const products = this.model.products;
    const { x, normed, query, key, value, attention, projected, gate, up } = this.workspace;
    const last = count - 1;

    // Embedding: x[i] = token_embd[token i]. x: (count, dim)
    for (let i = 0; i < count; i++) rowToFloat32(weights.tokenEmbedding, tokens[first + i], x[i]);

    for (let l = 0; l < config.layerCount; l++) {
      const layer = weights.layers[l];
      // Attention input: normed = RMSNorm(x) * attn_norm. normed: (count, dim)
      for (let i = 0; i < count; i++) rmsNorm(normed[i], x[i], layer.attentionNorm, config.normEpsilon);
      // Projections: q = Wq normed, k = Wk normed, v = Wv normed, in one job.
      // query: (count, headCount * headDim), key and value: (count, kvHeadCount * headDim)
      products.add(query, layer.query, normed, count);
      products.add(key, layer.key, normed, count);
      products.add(value, layer.value, normed, count);
      products.run();
      // Biases (qwen2), rotary position, then the keys and values into the cache at their positions.
      for (let i = 0; i < count; i++) this.positionAndCache(l, query[i], key[i], value[i], position + i);
      // Attention: each token looks at the positions up to its own. attention: (count, headCount * headDim)
      for (let i = 0; i < count; i++) this.cache.attend(l, query[i], attention[i], position + i);
      // Output projection and residual: x += Wo attention. projected: (count, dim)
      products.add(projected, layer.attentionOutput, attention, count);
      products.run();
      for (let i = 0; i < count; i++) addInPlace(x[i], projected[i]);
      // Feed-forward input: normed = RMSNorm(x) * ffn_norm. normed: (count, dim)
      for (let i = 0; i < count; i++) rmsNorm(normed[i], x[i], layer.feedForwardNorm, config.normEpsilon);
      // SwiGLU: gate = silu(Wgate normed) * (Wup normed). gate, up: (count, hiddenDim)
      products.add(gate, layer.gate, normed, count);
      products.add(up, layer.up, normed, count);
      products.run();
      for (let i = 0; i < count; i++) swiGlu(gate[i], up[i]);
      // Down projection and residual: x += Wdown gate. projected: (count, dim)
      products.add(projected, layer.down, gate, count);
      products.run();
      for (let i = 0; i < count; i++) addInPlace(x[i], projected[i]);
    }

    // Final norm of the last token: normed = RMSNorm(x) * output_norm. normed: (dim)
    rmsNorm(normed[last], x[last], weights.outputNorm, config.normEpsilon);
    // Logits: one score per vocabulary entry, from output.weight (or token_embd when tied). logits: (vocab)
    this.lastNormed[0] = normed[last];
    products.add(this.workspace.logitsRow, weights.output, this.lastNormed, 1);
    products.run();
    if (this.logits !== this.workspace.logits) this.logits.set(this.workspace.logits);
    this.filledPositions = position + count;
  }

  /** Adds the biases (qwen2), rotates query and key heads (llama: adjacent pairs; qwen2: halves), and caches key and value at `position`. */
  private positionAndCache(layerIndex: number, query: Float32Array, key: Float32Array, value: Float32Array, position: number): void {
    const config = this.model.config;
    const layer = this.model.weights.layers[layerIndex];
    if (layer.queryBias !== undefined) addInPlace(query, layer.queryBias);
    if (layer.keyBias !== undefined) addInPlace(key, layer.keyBias);
    if (layer.valueBias !== undefined) addInPlace(value, layer.valueBias);
    // Rotation angles of this position, shared by every head. cos, sin: (headDim / 2)
    ropeAngles(this.cos, this.sin, position, this.ropeThetaScale);
    const adjacentPairs = config.architecture === 'llama';
    applyRope(query, config.headCount, this.headDim, this.cos, this.sin, adjacentPairs);
    applyRope(key, config.kvHeadCount, this.headDim, this.cos, this.sin, adjacentPairs);
    this.cache.store(layerIndex, key, value, position);
  }

  private checkInput(tokens: readonly number[], position: number, caller: string): void {
    if (this.closed) throw new SessionClosedError(caller);
    const vocabSize = this.model.config.vocabSize;
    if (tokens.length === 0) throw new PositionError(`${caller}: no tokens given; pass at least one`);
    for (const token of tokens) if (!Number.isInteger(token) || token < 0 || token >= vocabSize) throw new InvalidTokenError(token, vocabSize, caller);
    if (!Number.isInteger(position) || position < 0) throw new PositionError(`${caller}: position must be a non-negative integer, got ${position}`);
    const end = position + tokens.length - 1;
    if (end >= this.contextLength) {
      throw new ContextLengthError(end + 1, this.contextLength, `${caller}: position ${end} is outside the context window of ${this.contextLength} positions (0 to ${this.contextLength - 1})`);
    }
    if (position > this.filledPositions) {
      throw new PositionError(`${caller}: position ${position} skips ahead; the KV cache holds positions 0 to ${this.filledPositions - 1}, so the next position is at most ${this.filledPositions}`);
    }
  }
}

export { kvCacheBytesMax, prefillTokensMax };
