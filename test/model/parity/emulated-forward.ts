/**
 * llama.cpp's CPU arithmetic, emulated: a plain float64 forward pass over the file's
 * dequantized weights that, before every matrix product, rounds the input vector the way
 * ggml does. ggml multiplies a weight row by an activation of its `vec_dot_type`:
 *
 *   weight type    activation becomes
 *   F32            F32 (unchanged)
 *   F16            F16 (round to nearest even)
 *   Q8_0, Q5_0, Q4_0  Q8_0: blocks of 32, d = max|x| / 127 stored as f16, q = round(x * 127 / max|x|)
 *   Q4_K, Q6_K     Q8_K: blocks of 256, d = max / -127 in f32 where max is the value of largest |x|, q = min(127, round(x / d))
 *
 * (ggml-cpu's type traits and quantize_row_q8_0 / quantize_row_q8_K_ref.) Attention reads a
 * float32 KV cache (the parity tests ask llama.cpp for one), so it rounds nothing.
 *
 * nines now applies the same rounding itself (src/model/kernels/activations.ts) and
 * multiplies integers, so its own forward pass agrees with this emulation to float32
 * noise; the emulation stays as the independent model of llama.cpp's arithmetic: a
 * float64 pass written without nines' kernels that llama.cpp is held to, so that a
 * difference between nines and llama.cpp can be told apart from a gap in the model.
 *
 * Measured against node-llama-cpp 3.21.1's prebuilt CPU backend (zen4 build) on the parity
 * tests' models, as the median over the first 96 prompt positions of the relative gap
 * error (parity.ts):
 *
 *   file            emulation
 *   F32             2e-7      (the emulation is then a plain float64 forward pass)
 *   Q4_K, Q6_K      1.5e-7    llama.cpp's arithmetic, modelled exactly
 *   Q8_0 (dim 64)   7.9e-8    likewise
 *   Q8_0 (dim 256)  2.3e-3    llama.cpp's arithmetic too, but from position 30 on an activation of
 *                             llama.cpp's lands on the other side of a rounding boundary (float32
 *                             noise), and the step it moves spreads through the keys and values
 *   F16             2.3e-4    only part: F16 rounding of the activations is not all llama.cpp does
 *
 * So the parity tests assert the emulation's agreement where it holds over those positions
 * (emulationIsExact), and only bound the differences elsewhere.
 */
import { openGguf } from '../../../src/model/gguf/gguf-file.js';
import type { GgmlType } from '../../../src/model/gguf/types.js';
import { type ModelConfig, expectedShapes, headDimOf, tensorNames } from '../../../src/model/config.js';
import { configFromGgufMetadata } from '../../../src/model/architecture.js';
import { dequantizeTensor, f16ToF32, f32ToF16 } from '../../../src/model/quant/index.js';

interface Weight {
  type: GgmlType;
  rows: number;
  cols: number;
  values: Float32Array; // (rows, cols)
}

/** The file types whose arithmetic in llama.cpp the emulation reproduces to float32 noise (see the table above). */
export function emulationIsExact(type: GgmlType): boolean {
  return type === 'F32' || type === 'Q4_K' || type === 'Q6_K';
}

function roundHalfToEven(value: number): number {
  const rounded = Math.round(value);
  return Math.abs(value % 1) === 0.5 ? 2 * Math.round(value / 2) : rounded;
}

/** The activation as ggml hands it to a dot product with a weight of `type`. */
export function roundActivation(type: GgmlType, x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  if (type === 'F32') out.set(x);
  else if (type === 'F16') for (let i = 0; i < x.length; i++) out[i] = f16ToF32(f32ToF16(Math.fround(x[i])));
  else if (type === 'Q8_0' || type === 'Q5_0' || type === 'Q4_0') {
    for (let start = 0; start < x.length; start += 32) {
      let amax = 0;
      for (let i = start; i < start + 32; i++) amax = Math.max(amax, Math.abs(Math.fround(x[i])));
      const d = f16ToF32(f32ToF16(Math.fround(amax / 127)));
      const inverse = amax === 0 ? 0 : Math.fround(127 / amax);
      for (let i = start; i < start + 32; i++) out[i] = d * roundHalfToEven(Math.fround(Math.fround(x[i]) * inverse));
    }
  } else if (type === 'Q4_K' || type === 'Q6_K') {
    for (let start = 0; start < x.length; start += 256) {
      let max = 0;
      for (let i = start; i < start + 256; i++) if (Math.abs(Math.fround(x[i])) > Math.abs(max)) max = Math.fround(x[i]);
      if (max === 0) continue;
      const inverseScale = Math.fround(-127 / max);
      const d = Math.fround(1 / inverseScale);
      for (let i = start; i < start + 256; i++) out[i] = d * Math.min(127, roundHalfToEven(Math.fround(inverseScale * Math.fround(x[i]))));
    }
  } else throw new Error(`no emulation of ggml's activation type for ${type} weights`);
  return out;
}

function multiply(weight: Weight, x: Float64Array): Float64Array {
  const input = roundActivation(weight.type, x);
  const out = new Float64Array(weight.rows);
  for (let row = 0; row < weight.rows; row++) {
    let sum = 0;
    for (let col = 0, offset = row * weight.cols; col < weight.cols; col++) sum += weight.values[offset + col] * input[col];
    out[row] = sum;
  }
  return out;
}

function rmsNorm(x: Float64Array, weight: Weight, epsilon: number): Float64Array {
  let sumOfSquares = 0;
  for (const value of x) sumOfSquares += value * value;
  const scale = 1 / Math.sqrt(sumOfSquares / x.length + epsilon);
  return x.map((value, i) => value * scale * weight.values[i]);
}

/** llama-style RoPE: adjacent pairs of each head rotated by pos * base^(-2i/headDim). */
function rotate(vector: Float64Array, heads: number, headDim: number, position: number, base: number): void {
  for (let head = 0; head < heads; head++) {
    for (let i = 0; i < headDim / 2; i++) {
      const angle = position * Math.pow(base, (-2 * i) / headDim);
      const a = head * headDim + 2 * i;
      const [x0, x1] = [vector[a], vector[a + 1]];
      vector[a] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
      vector[a + 1] = x0 * Math.sin(angle) + x1 * Math.cos(angle);
    }
  }
}

function readWeights(path: string): { config: ModelConfig; weights: Map<string, Weight> } {
  const file = openGguf(path);
  try {
    const config = configFromGgufMetadata(file.metadata, path, file.tensors.map((tensor) => tensor.name));
    if (config.architecture !== 'llama') throw new Error('the emulation implements the llama architecture only');
    const weights = new Map<string, Weight>();
    for (const [name, { rows, cols }] of expectedShapes(config)) {
      const info = file.tensor(name)!;
      weights.set(name, { type: info.type, rows, cols, values: dequantizeTensor(info.type, file.readTensor(name), rows * cols) });
    }
    return { config, weights };
  } finally {
    file.close();
  }
}

/** The logits (vocab) after each of `tokens`, computed as llama.cpp's CPU backend rounds. */
export function emulatedLogits(path: string, tokens: readonly number[]): Float64Array[] {
  const { config, weights } = readWeights(path);
  const weight = (name: string) => weights.get(name)!;
  const headDim = headDimOf(config);
  const groupSize = config.headCount / config.kvHeadCount;
  const keys: Float64Array[][] = Array.from({ length: config.layerCount }, () => []); // (layer, position) -> (kvHeadCount * headDim)
  const values: Float64Array[][] = Array.from({ length: config.layerCount }, () => []);
  const embedding = weight(tensorNames.tokenEmbedding);
  return tokens.map((token, position) => {
    let x = Float64Array.from(embedding.values.subarray(token * config.dim, (token + 1) * config.dim));
    for (let layer = 0; layer < config.layerCount; layer++) {
      const normed = rmsNorm(x, weight(tensorNames.attentionNorm(layer)), config.normEpsilon);
      const query = multiply(weight(tensorNames.query(layer)), normed);
      const key = multiply(weight(tensorNames.key(layer)), normed);
      rotate(query, config.headCount, headDim, position, config.ropeFreqBase);
      rotate(key, config.kvHeadCount, headDim, position, config.ropeFreqBase);
      keys[layer].push(key);
      values[layer].push(multiply(weight(tensorNames.value(layer)), normed));
      const attention = new Float64Array(config.headCount * headDim);
      for (let head = 0; head < config.headCount; head++) {
        const kvOffset = Math.floor(head / groupSize) * headDim;
        const scores = keys[layer].map((cached) => {
          let dot = 0;
          for (let i = 0; i < headDim; i++) dot += query[head * headDim + i] * cached[kvOffset + i];
          return dot / Math.sqrt(headDim);
        });
        const top = Math.max(...scores);
        const exponentials = scores.map((score) => Math.exp(score - top));
        const total = exponentials.reduce((sum, value) => sum + value, 0);
        exponentials.forEach((weightOfPosition, p) => {
          for (let i = 0; i < headDim; i++) attention[head * headDim + i] += (weightOfPosition / total) * values[layer][p][kvOffset + i];
        });
      }
      const projected = multiply(weight(tensorNames.attentionOutput(layer)), attention);
      x = x.map((value, i) => value + projected[i]);
      const ffnInput = rmsNorm(x, weight(tensorNames.feedForwardNorm(layer)), config.normEpsilon);
      const gate = multiply(weight(tensorNames.gate(layer)), ffnInput);
      const up = multiply(weight(tensorNames.up(layer)), ffnInput);
      const hidden = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      const down = multiply(weight(tensorNames.down(layer)), hidden);
      x = x.map((value, i) => value + down[i]);
    }
    const output = config.tiedEmbeddings ? embedding : weight(tensorNames.output);
    return multiply(output, rmsNorm(x, weight(tensorNames.outputNorm), config.normEpsilon));
  });
}
