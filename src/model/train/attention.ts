/**
 * Rotary position embedding and causal grouped-query attention, forward and backward.
 *
 * The fused projection buffer holds one row per token: [q (headCount x headDim) |
 * k (kvHeadCount x headDim) | v (kvHeadCount x headDim)]. Rows are ordered by sequence,
 * then position: token (b, t) is row b * seqLen + t.
 *
 * Each head's work is matrix products over its slice of those rows (scores = Q K^T,
 * out = P V, and their gradients), so it runs on the same fast kernel as the linear
 * layers. The causal mask makes the score matrix triangular; the products go by blocks
 * of causalBlockRows rows and skip the blocks wholly above the diagonal, which leaves
 * (for 4 blocks) 5/8 of the full square's arithmetic while keeping long, regular loops.
 */
import { byRows, transposed, type MatrixMultiplier } from './multiply.js';
import type { FloatArray } from './parameters.js';

/** Rows per block of the causal products: a multiple of the kernel's tile, small enough to skip most of the masked triangle. */
export const causalBlockRows = 32;

export interface AttentionShape {
  headCount: number;
  kvHeadCount: number;
  headDim: number;
  queryDim: number; // headCount * headDim
  keyValueDim: number; // kvHeadCount * headDim
}


/** cos and sin of theta_i = position * base^(-2i / headDim), each (positions, headDim / 2). */
export interface RopeTable {
  cos: Float64Array;
  sin: Float64Array;
  halfHeadDim: number;
}

export function ropeTable(positions: number, headDim: number, base: number): RopeTable {
  const halfHeadDim = headDim / 2;
  const cos = new Float64Array(positions * halfHeadDim);
  const sin = new Float64Array(positions * halfHeadDim);
  for (let position = 0; position < positions; position++) {
    for (let i = 0; i < halfHeadDim; i++) {
      const theta = position * Math.pow(base, (-2 * i) / headDim);
      cos[position * halfHeadDim + i] = Math.cos(theta);
      sin[position * halfHeadDim + i] = Math.sin(theta);
    }
  }
  return { cos, sin, halfHeadDim };
}

/**
 * Rotates the adjacent pairs (x[2i], x[2i+1]) of every query and key head in place, as
 * llama does. The rotation's transpose is its inverse, so the backward pass is the same
 * call with `inverse` set: it turns gradients with respect to the rotated q and k into
 * gradients with respect to the projections.
 */
export function ropeRotate(queryKeyValue: FloatArray, n: number, seqLen: number, rowWidth: number, rotatedHeads: number, table: RopeTable, inverse: boolean): void {
  const half = table.halfHeadDim;
  const direction = inverse ? -1 : 1;
  for (let row = 0; row < n; row++) {
    const tableBase = (row % seqLen) * half;
    for (let head = 0; head < rotatedHeads; head++) {
      const base = row * rowWidth + head * 2 * half;
      for (let i = 0; i < half; i++) {
        const cos = table.cos[tableBase + i];
        const sin = direction * table.sin[tableBase + i];
        const x0 = queryKeyValue[base + 2 * i];
        const x1 = queryKeyValue[base + 2 * i + 1];
        queryKeyValue[base + 2 * i] = x0 * cos - x1 * sin;
        queryKeyValue[base + 2 * i + 1] = x0 * sin + x1 * cos;
      }
    }
  }
}

/** Where head `head` of sequence `b` lies in the buffers. */
function headPlace(shape: AttentionShape, b: number, head: number, seqLen: number) {
  const { headCount, kvHeadCount, headDim, queryDim, keyValueDim } = shape;
  const rowWidth = queryDim + 2 * keyValueDim;
  const kvHead = Math.floor(head / (headCount / kvHeadCount));
  const rowBase = b * seqLen * rowWidth;
  return {
    rowWidth,
    query: rowBase + head * headDim,
    key: rowBase + queryDim + kvHead * headDim,
    value: rowBase + queryDim + keyValueDim + kvHead * headDim,
    out: b * seqLen * queryDim + head * headDim, // in (n, queryDim) buffers
    probabilities: (b * headCount + head) * seqLen * seqLen,
  };
}

/**
 * out (n, queryDim) = per head: softmax(q k^T / sqrt(headDim), causal) v, where query
 * head h reads key/value head floor(h / (headCount / kvHeadCount)). Keeps the
 * probabilities (batch, headCount, seqLen, seqLen), zero above the diagonal.
 */
export function attentionForward(
  multiplier: MatrixMultiplier,
  out: FloatArray,
  probabilities: FloatArray,
  queryKeyValue: FloatArray,
  batch: number,
  seqLen: number,
  shape: AttentionShape,
): void {
  const { headCount, headDim, queryDim } = shape;
  const scale = 1 / Math.sqrt(headDim);
  for (let b = 0; b < batch; b++) {
    for (let head = 0; head < headCount; head++) {
      const place = headPlace(shape, b, head, seqLen);
      // Per block of query rows [first, end): scores = Q K^T over keys [0, end), the rest of each row being masked.
      for (let first = 0; first < seqLen; first += causalBlockRows) {
        const end = Math.min(seqLen, first + causalBlockRows);
        const scores = byRows(probabilities, place.probabilities + first * seqLen, seqLen);
        multiplier.multiply(scores, byRows(queryKeyValue, place.query + first * place.rowWidth, place.rowWidth), transposed(queryKeyValue, place.key, place.rowWidth), end - first, end, headDim, false);
      }
      causalSoftmax(probabilities, place.probabilities, seqLen, scale);
      // out = P V, where row block [first, end) needs the values [0, end) only.
      for (let first = 0; first < seqLen; first += causalBlockRows) {
        const end = Math.min(seqLen, first + causalBlockRows);
        const weights = byRows(probabilities, place.probabilities + first * seqLen, seqLen);
        multiplier.multiply(byRows(out, place.out + first * queryDim, queryDim), weights, byRows(queryKeyValue, place.value, place.rowWidth), end - first, headDim, end, false);
      }
    }
  }
}

/** Row t becomes softmax(scale * scores[t][0..t]) followed by zeros. */
function causalSoftmax(values: FloatArray, offset: number, seqLen: number, scale: number): void {
  for (let t = 0; t < seqLen; t++) {
    const row = offset + t * seqLen;
    let max = -Infinity;
    for (let s = 0; s <= t; s++) max = Math.max(max, values[row + s] * scale);
    let sum = 0;
    for (let s = 0; s <= t; s++) {
      const weight = Math.exp(values[row + s] * scale - max);
      values[row + s] = weight;
      sum += weight;
    }
    const inverseSum = 1 / sum;
    for (let s = 0; s <= t; s++) values[row + s] *= inverseSum;
    values.fill(0, row + t + 1, row + seqLen);
  }
}

/**
 * The gradients of attention with respect to the rotated q, k and v, written into
 * queryKeyValueGradient (n, qDim + 2 kvDim), which this overwrites. Per head:
 * dP = dOut V^T; dS = P * (dP - rowsum(P * dP)) / sqrt(headDim) (zero above the diagonal);
 * dQ = dS K; dK += dS^T Q; dV += P^T dOut. Key/value heads shared by several query heads
 * sum their gradients.
 */
export function attentionBackward(
  multiplier: MatrixMultiplier,
  queryKeyValueGradient: FloatArray,
  outGradient: FloatArray, // (n, queryDim)
  probabilities: FloatArray,
  queryKeyValue: FloatArray,
  batch: number,
  seqLen: number,
  shape: AttentionShape,
  scoreGradient: FloatArray, // scratch (seqLen, seqLen)
): void {
  const { headCount, headDim, queryDim } = shape;
  const scale = 1 / Math.sqrt(headDim);
  const rowWidth = queryDim + 2 * shape.keyValueDim;
  queryKeyValueGradient.fill(0, 0, batch * seqLen * rowWidth);
  for (let b = 0; b < batch; b++) {
    for (let head = 0; head < headCount; head++) {
      const place = headPlace(shape, b, head, seqLen);
      // dP = dOut V^T and dQ = dS K for query rows [first, end) need keys and values [0, end) only.
      for (let first = 0; first < seqLen; first += causalBlockRows) {
        const end = Math.min(seqLen, first + causalBlockRows);
        const dOut = byRows(outGradient, place.out + first * queryDim, queryDim);
        multiplier.multiply(byRows(scoreGradient, first * seqLen, seqLen), dOut, transposed(queryKeyValue, place.value, rowWidth), end - first, end, headDim, false);
      }
      softmaxBackward(scoreGradient, probabilities, place.probabilities, seqLen, scale);
      for (let first = 0; first < seqLen; first += causalBlockRows) {
        const end = Math.min(seqLen, first + causalBlockRows);
        multiplier.multiply(byRows(queryKeyValueGradient, place.query + first * rowWidth, rowWidth), byRows(scoreGradient, first * seqLen, seqLen), byRows(queryKeyValue, place.key, rowWidth), end - first, headDim, end, false);
      }
      // dK += dS^T Q and dV += P^T dOut for key rows [first, end) gather from query rows [first, seqLen) only.
      for (let first = 0; first < seqLen; first += causalBlockRows) {
        const end = Math.min(seqLen, first + causalBlockRows);
        const diagonal = first * seqLen + first;
        multiplier.multiply(byRows(queryKeyValueGradient, place.key + first * rowWidth, rowWidth), transposed(scoreGradient, diagonal, seqLen), byRows(queryKeyValue, place.query + first * rowWidth, rowWidth), end - first, headDim, seqLen - first, true);
        multiplier.multiply(byRows(queryKeyValueGradient, place.value + first * rowWidth, rowWidth), transposed(probabilities, place.probabilities + diagonal, seqLen), byRows(outGradient, place.out + first * queryDim, queryDim), end - first, headDim, seqLen - first, true);
      }
    }
  }
}

/** gradient (seqLen, seqLen) holds dP on entry and dS = P * (dP - sum_s P dP) * scale on exit, zero above the diagonal. */
function softmaxBackward(gradient: FloatArray, probabilities: FloatArray, offset: number, seqLen: number, scale: number): void {
  for (let t = 0; t < seqLen; t++) {
    const row = t * seqLen;
    const probabilityRow = offset + t * seqLen;
    let expected = 0;
    for (let s = 0; s <= t; s++) expected += probabilities[probabilityRow + s] * gradient[row + s];
    for (let s = 0; s <= t; s++) gradient[row + s] = probabilities[probabilityRow + s] * (gradient[row + s] - expected) * scale;
    gradient.fill(0, row + t + 1, row + seqLen);
  }
}
