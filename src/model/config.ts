/**
 * The contract shared by every part of the model: the hyper-parameters of a Llama-style
 * transformer, the GGUF names of its weights, and the layout of each weight.
 *
 * Layout: a GGUF tensor lists its dimensions innermost first (`ne[0]` varies fastest).
 * A linear layer that maps `in` features to `out` features is stored row-major as
 * (out, in), so its GGUF dims are `[in, out]`, and `y[o] = sum_i W[o * in + i] * x[i]`.
 *
 * Rotary position embedding: the `llama` architecture rotates adjacent pairs
 * (x[2i], x[2i+1]) of each head (llama.cpp's LLAMA_ROPE_TYPE_NORM); `qwen2` rotates
 * (x[i], x[i + headDim/2]) (LLAMA_ROPE_TYPE_NEOX). Frequencies: theta_i = pos * base^(-2i/ropeDim).
 */

export type Architecture = 'llama' | 'qwen2';

export interface ModelConfig {
  architecture: Architecture;
  /** Number of tokens in the vocabulary. */
  vocabSize: number;
  /** Width of the residual stream (llama.embedding_length). */
  dim: number;
  /** Width of the SwiGLU hidden layer (llama.feed_forward_length). */
  hiddenDim: number;
  /** Number of transformer blocks (llama.block_count). */
  layerCount: number;
  /** Query heads (llama.attention.head_count). */
  headCount: number;
  /** Key/value heads; fewer than headCount means grouped-query attention (llama.attention.head_count_kv). */
  kvHeadCount: number;
  /** Maximum positions (llama.context_length). */
  contextLength: number;
  /** RoPE base (llama.rope.freq_base). */
  ropeFreqBase: number;
  /** RMSNorm epsilon (llama.attention.layer_norm_rms_epsilon). */
  normEpsilon: number;
  /** True when there is no `output.weight` and the token embedding doubles as the output projection. */
  tiedEmbeddings: boolean;
}

/** headDim = dim / headCount. */
export function headDimOf(config: ModelConfig): number {
  return config.dim / config.headCount;
}

/** Checks the relationships between hyper-parameters; returns a list of problems (empty when valid). */
export function configProblems(config: ModelConfig): string[] {
  const problems: string[] = [];
  const positive = ['vocabSize', 'dim', 'hiddenDim', 'layerCount', 'headCount', 'kvHeadCount', 'contextLength'] as const;
  for (const key of positive) {
    if (!Number.isInteger(config[key]) || config[key] <= 0) problems.push(`${key} must be a positive integer, got ${config[key]}`);
  }
  if (problems.length > 0) return problems;
  if (config.dim % config.headCount !== 0) problems.push(`dim ${config.dim} is not divisible by headCount ${config.headCount}`);
  if (config.headCount % config.kvHeadCount !== 0) problems.push(`headCount ${config.headCount} is not divisible by kvHeadCount ${config.kvHeadCount}`);
  if ((config.dim / config.headCount) % 2 !== 0) problems.push(`head dimension ${config.dim / config.headCount} must be even for rotary embeddings`);
  if (!(config.ropeFreqBase > 0)) problems.push(`ropeFreqBase must be positive, got ${config.ropeFreqBase}`);
  if (!(config.normEpsilon > 0)) problems.push(`normEpsilon must be positive, got ${config.normEpsilon}`);
  return problems;
}

/** GGUF tensor names, as llama.cpp spells them. */
export const tensorNames = {
  tokenEmbedding: 'token_embd.weight', // (vocab, dim) -> dims [dim, vocab]
  outputNorm: 'output_norm.weight', // (dim)
  output: 'output.weight', // (vocab, dim) -> dims [dim, vocab]; absent when tied
  attentionNorm: (layer: number) => `blk.${layer}.attn_norm.weight`, // (dim)
  query: (layer: number) => `blk.${layer}.attn_q.weight`, // (headCount * headDim, dim)
  key: (layer: number) => `blk.${layer}.attn_k.weight`, // (kvHeadCount * headDim, dim)
  value: (layer: number) => `blk.${layer}.attn_v.weight`, // (kvHeadCount * headDim, dim)
  queryBias: (layer: number) => `blk.${layer}.attn_q.bias`, // qwen2 only: (headCount * headDim)
  keyBias: (layer: number) => `blk.${layer}.attn_k.bias`, // qwen2 only: (kvHeadCount * headDim)
  valueBias: (layer: number) => `blk.${layer}.attn_v.bias`, // qwen2 only: (kvHeadCount * headDim)
  attentionOutput: (layer: number) => `blk.${layer}.attn_output.weight`, // (dim, headCount * headDim)
  feedForwardNorm: (layer: number) => `blk.${layer}.ffn_norm.weight`, // (dim)
  gate: (layer: number) => `blk.${layer}.ffn_gate.weight`, // (hiddenDim, dim)
  up: (layer: number) => `blk.${layer}.ffn_up.weight`, // (hiddenDim, dim)
  down: (layer: number) => `blk.${layer}.ffn_down.weight`, // (dim, hiddenDim)
} as const;

/** The expected (rows, cols) of every weight, keyed by GGUF name; 1-D weights have rows = 1. */
export function expectedShapes(config: ModelConfig): Map<string, { rows: number; cols: number }> {
  const headDim = headDimOf(config);
  const shapes = new Map<string, { rows: number; cols: number }>();
  shapes.set(tensorNames.tokenEmbedding, { rows: config.vocabSize, cols: config.dim });
  shapes.set(tensorNames.outputNorm, { rows: 1, cols: config.dim });
  if (!config.tiedEmbeddings) shapes.set(tensorNames.output, { rows: config.vocabSize, cols: config.dim });
  for (let l = 0; l < config.layerCount; l++) {
    shapes.set(tensorNames.attentionNorm(l), { rows: 1, cols: config.dim });
    shapes.set(tensorNames.query(l), { rows: config.headCount * headDim, cols: config.dim });
    shapes.set(tensorNames.key(l), { rows: config.kvHeadCount * headDim, cols: config.dim });
    shapes.set(tensorNames.value(l), { rows: config.kvHeadCount * headDim, cols: config.dim });
    if (config.architecture === 'qwen2') {
      shapes.set(tensorNames.queryBias(l), { rows: 1, cols: config.headCount * headDim });
      shapes.set(tensorNames.keyBias(l), { rows: 1, cols: config.kvHeadCount * headDim });
      shapes.set(tensorNames.valueBias(l), { rows: 1, cols: config.kvHeadCount * headDim });
    }
    shapes.set(tensorNames.attentionOutput(l), { rows: config.dim, cols: config.headCount * headDim });
    shapes.set(tensorNames.feedForwardNorm(l), { rows: 1, cols: config.dim });
    shapes.set(tensorNames.gate(l), { rows: config.hiddenDim, cols: config.dim });
    shapes.set(tensorNames.up(l), { rows: config.hiddenDim, cols: config.dim });
    shapes.set(tensorNames.down(l), { rows: config.dim, cols: config.hiddenDim });
  }
  return shapes;
}
