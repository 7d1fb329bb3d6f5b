/**
 * The dumbest correct forward pass we could write: Float64 everywhere, nested loops, no
 * buffers reused, the weights decoded by the tests' own decoder. The real forward pass is
 * checked against it.
 *
 * Like llama.cpp (and nines), it multiplies Q8_0 weights by activations rounded to Q8_0
 * blocks: per 32, the scale d = max|x| / 127 rounded to a half, and q = x * (127 / max|x|)
 * rounded to the nearest integer, ties to even, in float32; the product then sees d * q.
 */
import { type ModelConfig, tensorNames } from '../../src/model/config.js';
import type { WeightTensor } from '../../src/model/transformer.js';
import { type TestTensorType, decodeTensor, halfBits, halfValue } from './helpers.js';

type Matrix = { type: TestTensorType; rows: number; cols: number; values: Float64Array };

function load(tensors: ReadonlyMap<string, WeightTensor>, name: string): Matrix {
  const tensor = tensors.get(name)!;
  const cols = tensor.dims[0];
  const rows = tensor.dims[1] ?? 1;
  const type = tensor.type as TestTensorType;
  return { type, rows, cols, values: decodeTensor(type, tensor.data, rows * cols) };
}

/** x as a Q8_0 activation: d * q per block of 32 (see the file comment). */
function roundedToQ8_0(x: number[]): number[] {
  const out: number[] = [];
  for (let start = 0; start < x.length; start += 32) {
    const block = x.slice(start, start + 32).map(Math.fround);
    const amax = Math.max(...block.map(Math.abs));
    const d = halfValue(halfBits(Math.fround(amax / 127)));
    const multiplier = amax === 0 ? 0 : Math.fround(127 / amax);
    for (const value of block) {
      const scaled = Math.fround(value * multiplier);
      const nearest = Math.abs(scaled % 1) === 0.5 ? 2 * Math.round(scaled / 2) : Math.round(scaled);
      out.push(d * nearest);
    }
  }
  return out;
}

function multiply(matrix: Matrix, input: number[]): number[] {
  const x = matrix.type === 'Q8_0' ? roundedToQ8_0(input) : input;
  const out: number[] = [];
  for (let r = 0; r < matrix.rows; r++) {
    let sum = 0;
    for (let c = 0; c < matrix.cols; c++) sum += matrix.values[r * matrix.cols + c] * x[c];
    out.push(sum);
  }
  return out;
}

function rmsNorm(x: number[], weight: Matrix, epsilon: number): number[] {
  const meanSquare = x.reduce((sum, value) => sum + value * value, 0) / x.length;
  return x.map((value, i) => (value / Math.sqrt(meanSquare + epsilon)) * weight.values[i]);
}

function rotate(vector: number[], heads: number, headDim: number, position: number, base: number, adjacentPairs: boolean): void {
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < headDim / 2; i++) {
      const angle = position / Math.pow(base, (2 * i) / headDim);
      const a = h * headDim + (adjacentPairs ? 2 * i : i);
      const b = adjacentPairs ? a + 1 : a + headDim / 2;
      const [x0, x1] = [vector[a], vector[b]];
      vector[a] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
      vector[b] = x0 * Math.sin(angle) + x1 * Math.cos(angle);
    }
  }
}

/** The logits after each token of `tokens`, fed at positions 0, 1, 2, ... */
export function referenceLogits(config: ModelConfig, tensors: ReadonlyMap<string, WeightTensor>, tokens: number[]): number[][] {
  const headDim = config.dim / config.headCount;
  const embedding = load(tensors, tensorNames.tokenEmbedding);
  const output = config.tiedEmbeddings ? embedding : load(tensors, tensorNames.output);
  const keys: number[][][] = Array.from({ length: config.layerCount }, () => []); // (layer, position, kvHeads * headDim)
  const values: number[][][] = Array.from({ length: config.layerCount }, () => []);
  const result: number[][] = [];
  tokens.forEach((token, position) => {
    let x = Array.from(embedding.values.subarray(token * config.dim, (token + 1) * config.dim));
    for (let l = 0; l < config.layerCount; l++) {
      const h = rmsNorm(x, load(tensors, tensorNames.attentionNorm(l)), config.normEpsilon);
      const q = multiply(load(tensors, tensorNames.query(l)), h);
      const k = multiply(load(tensors, tensorNames.key(l)), h);
      const v = multiply(load(tensors, tensorNames.value(l)), h);
      if (config.architecture === 'qwen2') {
        const [qb, kb, vb] = [tensorNames.queryBias(l), tensorNames.keyBias(l), tensorNames.valueBias(l)].map((name) => load(tensors, name).values);
        q.forEach((_, i) => (q[i] += qb[i]));
        k.forEach((_, i) => (k[i] += kb[i]));
        v.forEach((_, i) => (v[i] += vb[i]));
      }
      rotate(q, config.headCount, headDim, position, config.ropeFreqBase, config.architecture === 'llama');
      rotate(k, config.kvHeadCount, headDim, position, config.ropeFreqBase, config.architecture === 'llama');
      keys[l].push(k);
      values[l].push(v);
      const attention = new Array<number>(config.dim).fill(0);
      for (let head = 0; head < config.headCount; head++) {
        const group = Math.floor((head * config.kvHeadCount) / config.headCount);
        const scores = keys[l].map((key) => {
          let dot = 0;
          for (let i = 0; i < headDim; i++) dot += q[head * headDim + i] * key[group * headDim + i];
          return dot / Math.sqrt(headDim);
        });
        const maximum = Math.max(...scores);
        const exps = scores.map((score) => Math.exp(score - maximum));
        const total = exps.reduce((a, b) => a + b, 0);
        exps.forEach((e, t) => {
          for (let i = 0; i < headDim; i++) attention[head * headDim + i] += (e / total) * values[l][t][group * headDim + i];
        });
      }
      x = multiply(load(tensors, tensorNames.attentionOutput(l)), attention).map((value, i) => x[i] + value);
      const f = rmsNorm(x, load(tensors, tensorNames.feedForwardNorm(l)), config.normEpsilon);
      const gate = multiply(load(tensors, tensorNames.gate(l)), f);
      const up = multiply(load(tensors, tensorNames.up(l)), f);
      const hidden = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      x = multiply(load(tensors, tensorNames.down(l)), hidden).map((value, i) => x[i] + value);
    }
    result.push(multiply(output, rmsNorm(x, load(tensors, tensorNames.outputNorm), config.normEpsilon)));
  });
  return result;
}
