/**
 * The element-wise and per-head steps of a transformer block: RMSNorm, residual adds,
 * SwiGLU, rotary embeddings and attention over the KV cache. They take offsets rather
 * than subarrays so that the forward pass allocates nothing.
 *
 * Each step computes in float32 the way llama.cpp's CPU backend does (ggml-arithmetic.ts),
 * not in float64: a last-bit difference here can move an activation across a rounding
 * boundary of the 8-bit quantization that follows, and that changes a whole step of it.
 */
import { fusedMultiplyAdd, ggmlExp, ggmlSilu, reduceLanes16 } from './ggml-arithmetic.js';

const f32 = Math.fround;

/**
 * out = x / sqrt(mean(x^2) + epsilon) * weight, over the first weight.length elements, as
 * ggml's rms_norm and mul: float32 squares summed in float64, the mean, its root and the
 * scale in float32, then (x * scale) * weight.
 */
export function rmsNorm(out: Float32Array, x: Float32Array, weight: Float32Array, epsilon: number): void {
  const size = weight.length;
  let sumOfSquares = 0;
  for (let i = 0; i < size; i++) sumOfSquares += f32(x[i] * x[i]);
  const mean = f32(sumOfSquares / size);
  const scale = f32(1 / f32(Math.sqrt(f32(mean + f32(epsilon)))));
  for (let i = 0; i < size; i++) out[i] = f32(x[i] * scale) * weight[i];
}

/** target += addend, over the first addend.length elements (residual connections, biases). */
export function addInPlace(target: Float32Array, addend: Float32Array): void {
  for (let i = 0; i < addend.length; i++) target[i] += addend[i];
}

/** gate = silu(gate) * up, with silu(g) = g * sigmoid(g): the SwiGLU activation (ggml's swiglu: its SiLU, then a float32 product). */
export function swiGlu(gate: Float32Array, up: Float32Array): void {
  for (let i = 0; i < up.length; i++) gate[i] = ggmlSilu(gate[i]) * up[i];
}

/** Lanes of one step of ggml's softmax sum (AVX-512: 16 floats). */
const laneCount = 16;
const lanes = new Float32Array(laneCount);

/**
 * values[0..length) = softmax(scale * values[0..length)), as ggml's soft_max: the scaled
 * values in float32, e^(v - max) with ggml's exp, summed 16 at a time (each 16 as a lane
 * tree, the sixteens in float64), then each times the float32 of 1 / sum.
 */
export function softmaxInPlace(values: Float32Array, length: number, scale = 1): void {
  let maximum = -Infinity;
  for (let i = 0; i < length; i++) {
    values[i] *= scale;
    if (values[i] > maximum) maximum = values[i];
  }
  let sum = 0;
  const whole = length - (length % laneCount);
  for (let start = 0; start < whole; start += laneCount) {
    for (let i = 0; i < laneCount; i++) {
      const e = ggmlExp(f32(values[start + i] - maximum));
      values[start + i] = e;
      lanes[i] = e;
    }
    sum += reduceLanes16(lanes);
  }
  if (whole < length) {
    // The last, partial sixteen: ggml's cache is padded with positions whose exp is 0.
    lanes.fill(0);
    for (let i = whole; i < length; i++) {
      const e = ggmlExp(f32(values[i] - maximum));
      values[i] = e;
      lanes[i - whole] = e;
    }
    sum += reduceLanes16(lanes);
  }
  const inverse = f32(1 / sum);
  for (let i = 0; i < length; i++) values[i] *= inverse;
}

/**
 * The rotation angles of one position, as ggml's rope cache: theta_0 = position and
 * theta_(i+1) = theta_i * thetaScale in float32, where thetaScale = base^(-2/headDim) in
 * float32 (ropeThetaScale); cos[i] = cos(theta_i) and likewise sin, for i < cos.length.
 * Every head shares them.
 */
export function ropeAngles(cos: Float32Array, sin: Float32Array, position: number, thetaScale: number): void {
  let theta = f32(position);
  for (let i = 0; i < cos.length; i++) {
    cos[i] = Math.cos(theta);
    sin[i] = Math.sin(theta);
    theta = f32(theta * thetaScale);
  }
}

/** ggml's theta_scale = powf(base, -2.0f / headDim): the float32 ratio of one pair's angle to the previous pair's. */
export function ropeThetaScale(base: number, headDim: number): number {
  return f32(Math.pow(f32(base), f32(-2 / headDim)));
}

/**
 * Rotates each head of `vector` (headCount heads of headDim) by the position's angles.
 * Pair i of a head is (x[2i], x[2i+1]) when `adjacentPairs` (llama, GGML's NORM mode) and
 * (x[i], x[i + headDim/2]) otherwise (qwen2, NEOX mode); either way it turns by angle i.
 * The compiler fuses ggml's x0 * cos - x1 * sin into one multiply-add of the rounded
 * x1 * sin, and likewise the other half, so nines does too.
 */
export function applyRope(vector: Float32Array, headCount: number, headDim: number, cos: Float32Array, sin: Float32Array, adjacentPairs: boolean): void {
  const half = headDim / 2;
  for (let h = 0; h < headCount; h++) {
    const base = h * headDim;
    for (let i = 0; i < half; i++) {
      const first = adjacentPairs ? base + 2 * i : base + i;
      const second = adjacentPairs ? first + 1 : first + half;
      const x0 = vector[first];
      const x1 = vector[second];
      vector[first] = fusedMultiplyAdd(x0, cos[i], -f32(x1 * sin[i]));
      vector[second] = fusedMultiplyAdd(x1, cos[i], f32(x0 * sin[i]));
    }
  }
}

/** Where one head's attention reads and writes: its query, its kv head in the cache, its output. */
export interface HeadSlice {
  headDim: number;
  /** Offset of the head's query in `query` and of its output in `out`. */
  queryOffset: number;
  /** Offset of the kv head within one cache row. */
  kvOffset: number;
  /** Width of one cache row: kvHeadCount * headDim. */
  kvStride: number;
}

/**
 * x[xOffset ..] . y[yOffset ..] over `length` elements in the float32 order of the
 * WebAssembly float kernel (wasm/dot-kernel.ts, F32 rows), so that the attention scores
 * are the same bits on either kernels: element e of the whole sixteens goes to lane e mod 4
 * of the even or odd accumulator by its chunk (e / 4) mod 2; the chunks of four after
 * them to the even one; the rest to a scalar; then (even + odd) summed as
 * (l0 + l1) + (l2 + l3), plus the scalar.
 */
function kernelOrderDot(length: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number): number {
  let [even0, even1, even2, even3, odd0, odd1, odd2, odd3] = [0, 0, 0, 0, 0, 0, 0, 0];
  const blockEnd = length - (length % 16);
  const chunkEnd = length - (length % 4);
  let e = 0;
  for (; e < blockEnd; e += 8) {
    const i = xOffset + e;
    const j = yOffset + e;
    even0 = f32(even0 + f32(x[i] * y[j]));
    even1 = f32(even1 + f32(x[i + 1] * y[j + 1]));
    even2 = f32(even2 + f32(x[i + 2] * y[j + 2]));
    even3 = f32(even3 + f32(x[i + 3] * y[j + 3]));
    odd0 = f32(odd0 + f32(x[i + 4] * y[j + 4]));
    odd1 = f32(odd1 + f32(x[i + 5] * y[j + 5]));
    odd2 = f32(odd2 + f32(x[i + 6] * y[j + 6]));
    odd3 = f32(odd3 + f32(x[i + 7] * y[j + 7]));
  }
  for (; e < chunkEnd; e += 4) {
    const i = xOffset + e;
    const j = yOffset + e;
    even0 = f32(even0 + f32(x[i] * y[j]));
    even1 = f32(even1 + f32(x[i + 1] * y[j + 1]));
    even2 = f32(even2 + f32(x[i + 2] * y[j + 2]));
    even3 = f32(even3 + f32(x[i + 3] * y[j + 3]));
  }
  let tail = 0;
  for (; e < length; e++) tail = f32(tail + f32(x[xOffset + e] * y[yOffset + e]));
  const sum = f32(f32(f32(even0 + odd0) + f32(even1 + odd1)) + f32(f32(even2 + odd2) + f32(even3 + odd3)));
  return f32(sum + tail);
}

/**
 * Causal attention of one query head over cache rows 0..positionCount-1:
 * out = sum_t softmax_t(q . k_t / sqrt(headDim)) * v_t. `scores` is scratch of at least
 * positionCount. The same bits as the WebAssembly attention (../attention-cache.ts): the
 * scores in the float kernel's order (kernelOrderDot), ggml's scale and softmax
 * (softmaxInPlace), and each output a float32 sum over the positions in order.
 *
 * ggml's own order differs: its scores are float32 sums in order for heads under 64
 * (ggml_vec_dot_f32's tail), and its weighted values four accumulators of 16 lanes with
 * fused multiply-adds over the KV cache padded to 256 positions (a single 16-lane one,
 * llamafile's tinyBLAS, for a prompt's batch). Measured on the default model's q8_0 file:
 * that order together with ggml's order for the Q8_0 products (eight lanes of four
 * consecutive elements, fused multiply-adds) gives llama.cpp's logits at every position
 * to float32 noise; either alone leaves a rounding flip in the prompt. Both kernels would
 * need it, and the WebAssembly ones have no fused multiply-add.
 */
export function attendHead(
  out: Float32Array,
  query: Float32Array,
  keyCache: Float32Array,
  valueCache: Float32Array,
  positionCount: number,
  slice: HeadSlice,
  scores: Float32Array,
): void {
  const { headDim, queryOffset, kvOffset, kvStride } = slice;
  for (let t = 0; t < positionCount; t++) scores[t] = kernelOrderDot(headDim, keyCache, t * kvStride + kvOffset, query, queryOffset);
  softmaxInPlace(scores, positionCount, attentionScale(headDim));
  // Output: the values weighted by the probabilities, each output a float32 sum in the order of t (out rounds every step).
  for (let i = 0; i < headDim; i++) out[queryOffset + i] = 0;
  for (let t = 0; t < positionCount; t++) {
    const valueBase = t * kvStride + kvOffset;
    const weight = scores[t];
    for (let i = 0; i < headDim; i++) out[queryOffset + i] += f32(weight * valueCache[valueBase + i]);
  }
}

/** llama.cpp's KQ scale: 1.0f / sqrtf(headDim), in float32. */
export function attentionScale(headDim: number): number {
  return f32(1 / f32(Math.sqrt(headDim)));
}
