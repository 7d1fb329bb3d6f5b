/**
 * The element-wise and per-head steps of a transformer block: RMSNorm, residual adds,
 * SwiGLU, rotary embeddings and attention over the KV cache. They take offsets rather
 * than subarrays so that the forward pass allocates nothing.
 */

/** out = x / sqrt(mean(x^2) + epsilon) * weight, over the first weight.length elements. */
export function rmsNorm(out: Float32Array, x: Float32Array, weight: Float32Array, epsilon: number): void {
  const size = weight.length;
  let sumOfSquares = 0;
  for (let i = 0; i < size; i++) sumOfSquares += x[i] * x[i];
  const scale = 1 / Math.sqrt(sumOfSquares / size + epsilon);
  for (let i = 0; i < size; i++) out[i] = x[i] * scale * weight[i];
}

/** target += addend, over the first addend.length elements (residual connections, biases). */
export function addInPlace(target: Float32Array, addend: Float32Array): void {
  for (let i = 0; i < addend.length; i++) target[i] += addend[i];
}

/** gate = silu(gate) * up, with silu(g) = g * sigmoid(g): the SwiGLU activation. */
export function swiGlu(gate: Float32Array, up: Float32Array): void {
  for (let i = 0; i < up.length; i++) {
    const g = gate[i];
    gate[i] = (g / (1 + Math.exp(-g))) * up[i];
  }
}

/** values[0..length) = softmax(values[0..length)), subtracting the maximum first so exp cannot overflow. */
export function softmaxInPlace(values: Float32Array, length: number): void {
  let maximum = -Infinity;
  for (let i = 0; i < length; i++) if (values[i] > maximum) maximum = values[i];
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const e = Math.exp(values[i] - maximum);
    values[i] = e;
    sum += e;
  }
  for (let i = 0; i < length; i++) values[i] /= sum;
}

/**
 * The rotation angles of one position: cos[i] = cos(position * base^(-2i/headDim)) and
 * likewise sin, for i < headDim / 2. Every head shares them.
 */
export function ropeAngles(cos: Float32Array, sin: Float32Array, position: number, inverseFrequencies: Float64Array): void {
  for (let i = 0; i < inverseFrequencies.length; i++) {
    const angle = position * inverseFrequencies[i];
    cos[i] = Math.cos(angle);
    sin[i] = Math.sin(angle);
  }
}

/**
 * Rotates each head of `vector` (headCount heads of headDim) by the position's angles.
 * Pair i of a head is (x[2i], x[2i+1]) when `adjacentPairs` (llama, GGML's NORM mode) and
 * (x[i], x[i + headDim/2]) otherwise (qwen2, NEOX mode); either way it turns by angle i.
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
      vector[first] = x0 * cos[i] - x1 * sin[i];
      vector[second] = x0 * sin[i] + x1 * cos[i];
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
 * Causal attention of one query head over cache rows 0..positionCount-1:
 * out = sum_t softmax_t(q . k_t / sqrt(headDim)) * v_t. `scores` is scratch of at least positionCount.
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
  const scale = 1 / Math.sqrt(headDim);
  // Scores: one dot product of the query with each cached key.
  for (let t = 0; t < positionCount; t++) {
    const keyBase = t * kvStride + kvOffset;
    let dot = 0;
    for (let i = 0; i < headDim; i++) dot += query[queryOffset + i] * keyCache[keyBase + i];
    scores[t] = dot * scale;
  }
  softmaxInPlace(scores, positionCount);
  // Output: the values weighted by the attention probabilities.
  for (let i = 0; i < headDim; i++) out[queryOffset + i] = 0;
  for (let t = 0; t < positionCount; t++) {
    const valueBase = t * kvStride + kvOffset;
    const weight = scores[t];
    for (let i = 0; i < headDim; i++) out[queryOffset + i] += weight * valueCache[valueBase + i];
  }
}
