/**
 * Test helpers for inference, written independently of src/model/quant and src/model/gguf
 * (other parts, built at the same time): encoders and dumb decoders for F32, F16 and
 * Q8_0, random models, and a fake byte tokenizer.
 */
import { Rng } from '../../src/core/rng.js';
import { type ModelConfig, expectedShapes } from '../../src/model/config.js';
import type { WeightTensor } from '../../src/model/transformer.js';
import type { GenerationTokenizer } from '../../src/model/generate.js';

export type TestTensorType = 'F32' | 'F16' | 'Q8_0';

/** float -> IEEE half bits, rounding to nearest even (via the float32 bits, as hardware does). */
export function halfBits(value: number): number {
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let half = full >>> shift;
    const remainder = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** IEEE half bits -> value, spelled out differently from the kernel (powers of two by Math.pow). */
export function halfValue(bits: number): number {
  const negative = (bits & 0x8000) !== 0;
  const exponent = (bits >> 10) & 31;
  const fraction = bits & 1023;
  let magnitude: number;
  if (exponent === 31) magnitude = fraction === 0 ? Infinity : NaN;
  else if (exponent === 0) magnitude = Math.pow(2, -14) * (fraction / 1024);
  else magnitude = Math.pow(2, exponent - 15) * (1 + fraction / 1024);
  return negative ? -magnitude : magnitude;
}

/** Encodes values as GGUF tensor bytes. Q8_0: per 32-element block d = max|x| / 127, q = round(x / d). */
export function encodeTensor(type: TestTensorType, values: ArrayLike<number>): Uint8Array {
  const count = values.length;
  if (type === 'F32') return new Uint8Array(Float32Array.from(values).buffer);
  const bytes = new Uint8Array(type === 'F16' ? count * 2 : (count / 32) * 34);
  const view = new DataView(bytes.buffer);
  if (type === 'F16') {
    for (let i = 0; i < count; i++) view.setUint16(i * 2, halfBits(values[i]), true);
    return bytes;
  }
  if (count % 32 !== 0) throw new Error(`Q8_0 needs a multiple of 32 values, got ${count}`);
  for (let block = 0; block < count / 32; block++) {
    let maximum = 0;
    for (let j = 0; j < 32; j++) maximum = Math.max(maximum, Math.abs(values[block * 32 + j]));
    const scale = maximum / 127;
    view.setUint16(block * 34, halfBits(scale), true);
    for (let j = 0; j < 32; j++) {
      const q = scale === 0 ? 0 : Math.round(values[block * 32 + j] / scale);
      view.setInt8(block * 34 + 2 + j, Math.max(-127, Math.min(127, q)));
    }
  }
  return bytes;
}

/** The dumb way back: every element of the tensor as a float64. */
export function decodeTensor(type: TestTensorType, bytes: Uint8Array, count: number): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    if (type === 'F32') out[i] = view.getFloat32(i * 4, true);
    else if (type === 'F16') out[i] = halfValue(view.getUint16(i * 2, true));
    else {
      const block = Math.floor(i / 32);
      out[i] = halfValue(view.getUint16(block * 34, true)) * view.getInt8(block * 34 + 2 + (i % 32));
    }
  }
  return out;
}

/** Random Gaussian values times `scale`. */
export function randomValues(rng: Rng, count: number, scale: number, offset = 0): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = offset + scale * rng.nextGaussian();
  return out;
}

/** A complete random weight set for `config`: matrices of `matrixType`, norms near 1 and biases in F32. */
export function randomTensors(config: ModelConfig, rng: Rng, matrixType: TestTensorType): Map<string, WeightTensor> {
  const tensors = new Map<string, WeightTensor>();
  for (const [name, { rows, cols }] of expectedShapes(config)) {
    const isVector = rows === 1;
    const values = name.endsWith('norm.weight') ? randomValues(rng, cols, 0.2, 1) : randomValues(rng, rows * cols, isVector ? 0.3 : 1 / Math.sqrt(cols));
    const type = isVector ? 'F32' : matrixType;
    tensors.set(name, { type, dims: isVector ? [cols] : [cols, rows], data: encodeTensor(type, values) });
  }
  return tensors;
}

export function testConfig(overrides: Partial<ModelConfig>): ModelConfig {
  return {
    architecture: 'llama',
    vocabSize: 40,
    dim: 16,
    hiddenDim: 32,
    layerCount: 2,
    headCount: 2,
    kvHeadCount: 1,
    contextLength: 64,
    ropeFreqBase: 10000,
    normEpsilon: 1e-5,
    tiedEmbeddings: false,
    ...overrides,
  };
}

/**
 * A tokenizer over a fixed 40-token vocabulary: letters, a space, whole and split UTF-8
 * characters (é as 2 tokens, € as 1+1), a few multi-letter tokens and an <eos> control token.
 */
export function fakeTokenizer(options: { eosTokenId?: number; bosTokenId?: number } = {}): GenerationTokenizer & { tokens: Uint8Array[] } {
  const encoder = new TextEncoder();
  const tokens: Uint8Array[] = [];
  for (let c = 0; c < 26; c++) tokens.push(encoder.encode(String.fromCharCode(97 + c))); // 0..25
  tokens.push(encoder.encode(' ')); // 26
  tokens.push(new Uint8Array([0xc3])); // 27: first byte of é
  tokens.push(new Uint8Array([0xa9])); // 28: second byte of é
  tokens.push(encoder.encode('é')); // 29
  tokens.push(encoder.encode('€')); // 30
  tokens.push(new Uint8Array([0xe2])); // 31: first byte of €
  tokens.push(new Uint8Array([0x82, 0xac])); // 32: rest of €
  for (const text of ['th', 'he ', '.', '\n', '', 'ab', 'ba']) tokens.push(encoder.encode(text)); // 33..39; 37 is <eos>
  const decoder = new TextDecoder();
  return {
    tokens,
    eosTokenId: options.eosTokenId,
    bosTokenId: options.bosTokenId,
    encode(text: string): number[] {
      // Greedy longest match over the vocabulary's bytes.
      const bytes = encoder.encode(text);
      const ids: number[] = [];
      for (let i = 0; i < bytes.length; ) {
        let best = -1;
        for (let id = 0; id < tokens.length; id++) {
          const token = tokens[id];
          if (token.length === 0 || (best >= 0 && token.length <= tokens[best].length)) continue;
          if (token.every((byte, j) => bytes[i + j] === byte)) best = id;
        }
        if (best < 0) throw new Error(`fake tokenizer cannot encode byte ${bytes[i]}`);
        ids.push(best);
        i += tokens[best].length;
      }
      return ids;
    },
    decodeBytes(ids: readonly number[]): Uint8Array {
      const parts = ids.map((id) => tokens[id]);
      const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
      let offset = 0;
      for (const part of parts) {
        out.set(part, offset);
        offset += part.length;
      }
      return out;
    },
    tokenText(id: number): string {
      return id === 37 ? '<eos>' : decoder.decode(tokens[id]);
    },
  };
}
