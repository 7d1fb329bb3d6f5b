/**
 * The element-wise and per-row steps of the transformer, each with its backward pass
 * next to it: token embedding, RMSNorm, SwiGLU, residual addition and cross-entropy.
 * Rows are tokens: a buffer of shape (n, width) holds token r's values at r * width.
 * Backward functions say whether they overwrite (=) or accumulate (+=) their outputs.
 */
import type { FloatArray } from './parameters.js';

/** out (n, dim) = rows of the embedding (vocab, dim) picked by the token ids. */
export function embeddingForward(out: FloatArray, embedding: FloatArray, tokens: Int32Array, n: number, dim: number): void {
  for (let row = 0; row < n; row++) {
    const source = tokens[row] * dim;
    out.set(embedding.subarray(source, source + dim), row * dim);
  }
}

/** embeddingGradient (vocab, dim) += the gradient of each row, at its token's row. */
export function embeddingBackward(embeddingGradient: FloatArray, outGradient: FloatArray, tokens: Int32Array, n: number, dim: number): void {
  for (let row = 0; row < n; row++) {
    const target = tokens[row] * dim;
    const source = row * dim;
    for (let i = 0; i < dim; i++) embeddingGradient[target + i] += outGradient[source + i];
  }
}

/**
 * out = x / sqrt(mean(x^2) + epsilon) * weight, per row; keeps 1 / sqrt(mean(x^2) + epsilon)
 * of each row in inverseRms (n) for the backward pass.
 */
export function rmsNormForward(
  out: FloatArray, // (n, dim)
  inverseRms: FloatArray, // (n)
  input: FloatArray, // (n, dim)
  weight: FloatArray, // (dim)
  n: number,
  dim: number,
  epsilon: number,
): void {
  for (let row = 0; row < n; row++) {
    const base = row * dim;
    let sumOfSquares = 0;
    for (let i = 0; i < dim; i++) sumOfSquares += input[base + i] * input[base + i];
    const inverse = 1 / Math.sqrt(sumOfSquares / dim + epsilon);
    inverseRms[row] = inverse;
    for (let i = 0; i < dim; i++) out[base + i] = input[base + i] * inverse * weight[i];
  }
}

/**
 * With r = inverseRms and y_i = w_i x_i r, where dr/dx_j = -r^3 x_j / dim:
 * dx_j = dy_j w_j r - r^3 x_j / dim * sum_i dy_i w_i x_i, and dw_i = sum over rows of dy_i x_i r.
 * Both accumulate (+=): the input's gradient joins the residual stream's.
 */
export function rmsNormBackward(
  inputGradient: FloatArray, // (n, dim) +=
  weightGradient: FloatArray, // (dim) +=
  outGradient: FloatArray, // (n, dim)
  input: FloatArray, // (n, dim)
  weight: FloatArray, // (dim)
  inverseRms: FloatArray, // (n)
  n: number,
  dim: number,
): void {
  for (let row = 0; row < n; row++) {
    const base = row * dim;
    const inverse = inverseRms[row];
    let projection = 0;
    for (let i = 0; i < dim; i++) projection += outGradient[base + i] * weight[i] * input[base + i];
    const coefficient = (inverse * inverse * inverse * projection) / dim;
    for (let i = 0; i < dim; i++) {
      const gradient = outGradient[base + i];
      inputGradient[base + i] += gradient * weight[i] * inverse - input[base + i] * coefficient;
      weightGradient[i] += gradient * input[base + i] * inverse;
    }
  }
}

/** out = a + b, element-wise over count elements (the residual connection). */
export function add(out: FloatArray, a: FloatArray, b: FloatArray, count: number): void {
  for (let i = 0; i < count; i++) out[i] = a[i] + b[i];
}

/**
 * SwiGLU: out (n, hidden) = silu(gate) * up, where gateUp (n, 2 hidden) holds [gate | up]
 * per row and silu(g) = g sigmoid(g). Keeps sigmoid(gate) (n, hidden) for the backward
 * pass, which then needs no exponential of its own.
 */
export function swigluForward(out: FloatArray, gateSigmoid: FloatArray, gateUp: FloatArray, n: number, hidden: number): void {
  for (let row = 0; row < n; row++) {
    const source = row * 2 * hidden;
    const target = row * hidden;
    for (let i = 0; i < hidden; i++) {
      const gate = gateUp[source + i];
      const sigmoid = 1 / (1 + Math.exp(-gate));
      gateSigmoid[target + i] = sigmoid;
      out[target + i] = gate * sigmoid * gateUp[source + hidden + i];
    }
  }
}

/**
 * With s = sigmoid(g): d silu(g)/dg = s (1 + g (1 - s)), so
 * dgate = dout * up * s (1 + g (1 - s)) and dup = dout * g s. Overwrites gateUpGradient (n, 2 hidden).
 */
export function swigluBackward(gateUpGradient: FloatArray, outGradient: FloatArray, gateUp: FloatArray, gateSigmoid: FloatArray, n: number, hidden: number): void {
  for (let row = 0; row < n; row++) {
    const base = row * 2 * hidden;
    const source = row * hidden;
    for (let i = 0; i < hidden; i++) {
      const gate = gateUp[base + i];
      const up = gateUp[base + hidden + i];
      const sigmoid = gateSigmoid[source + i];
      const gradient = outGradient[source + i];
      gateUpGradient[base + i] = gradient * up * sigmoid * (1 + gate * (1 - sigmoid));
      gateUpGradient[base + hidden + i] = gradient * gate * sigmoid;
    }
  }
}

/**
 * Cross-entropy of each row's softmax(logits) against its target; returns the summed
 * loss in nats. Overwrites the logits: with d(lossScale * summed loss)/dlogits =
 * lossScale * (softmax - onehot(target)) when `gradient` is set, else with scratch.
 */
export function crossEntropy(
  logits: FloatArray, // (n, vocab)
  targets: Int32Array, // (n)
  n: number,
  vocab: number,
  lossScale: number,
  gradient: boolean,
): number {
  let totalNats = 0;
  for (let row = 0; row < n; row++) {
    const base = row * vocab;
    const target = targets[row];
    let max = -Infinity;
    for (let i = 0; i < vocab; i++) if (logits[base + i] > max) max = logits[base + i];
    const targetLogit = logits[base + target];
    let sum = 0;
    for (let i = 0; i < vocab; i++) {
      const weight = Math.exp(logits[base + i] - max);
      logits[base + i] = weight;
      sum += weight;
    }
    totalNats += Math.log(sum) + max - targetLogit;
    if (!gradient) continue;
    const scale = lossScale / sum;
    for (let i = 0; i < vocab; i++) logits[base + i] *= scale;
    logits[base + target] -= lossScale;
  }
  return totalNats;
}
