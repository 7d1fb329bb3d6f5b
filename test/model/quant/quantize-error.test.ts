/**
 * How much each format loses: quantize, dequantize, and measure the error against the
 * float32 input. The bounds are the measured errors with some room (about 15%), so a
 * change that makes a quantizer worse fails here; the measured values are in the comments.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { dequantizeTensor, quantizeTensor, QuantizeInputError, type BlockTensorType } from '../../../src/model/quant/index.js';
import { AffineFitter, q4KAffineSearch } from '../../../src/model/quant/level-search.js';

const types: BlockTensorType[] = ['Q8_0', 'Q6_K', 'Q5_0', 'Q4_K', 'Q4_0'];

function roundTrip(type: BlockTensorType, values: Float32Array): Float32Array {
  return dequantizeTensor(type, quantizeTensor(type, values), values.length);
}

/** Root mean square error, relative to the root mean square of the values. */
function relativeRmse(values: Float32Array, restored: Float32Array): number {
  let error = 0;
  let power = 0;
  for (let i = 0; i < values.length; i++) {
    error += (restored[i] - values[i]) ** 2;
    power += values[i] ** 2;
  }
  return Math.sqrt(error / power);
}

const rng = new Rng(11);
const count = 256 * 32;
const distributions: Record<string, { draw: () => number; bounds: Record<BlockTensorType, number> }> = {
  // Measured: Q8_0 0.0053, Q6_K 0.0177, Q5_0 0.042, Q4_K 0.071, Q4_0 0.085.
  gaussian: { draw: () => rng.nextGaussian(), bounds: { Q8_0: 0.0062, Q6_K: 0.0205, Q5_0: 0.049, Q4_K: 0.081, Q4_0: 0.098 } },
  // Measured: 0.0038, 0.0133, 0.031, 0.054, 0.065.
  uniform: { draw: () => 2 * rng.nextFloat() - 1, bounds: { Q8_0: 0.0044, Q6_K: 0.0153, Q5_0: 0.036, Q4_K: 0.063, Q4_0: 0.075 } },
  // Heavy tails (Laplace). Measured: 0.0068, 0.0218, 0.053, 0.084, 0.108.
  laplace: {
    draw: () => {
      const u = rng.nextFloat() - 0.5;
      return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
    },
    bounds: { Q8_0: 0.0079, Q6_K: 0.025, Q5_0: 0.062, Q4_K: 0.097, Q4_0: 0.124 },
  },
  // All positive around 0.5, where Q4_K's min pays off: it beats Q4_0 by half. Measured: 0.0039, 0.0128, 0.030, 0.030, 0.061.
  offset: { draw: () => 0.5 + 0.2 * rng.nextGaussian(), bounds: { Q8_0: 0.0045, Q6_K: 0.0147, Q5_0: 0.035, Q4_K: 0.035, Q4_0: 0.07 } },
  // One weight in a hundred 20 times larger. Measured: 0.011, 0.032, 0.086, 0.096, 0.141.
  outliers: { draw: () => (rng.nextFloat() < 0.01 ? 20 : 1) * rng.nextGaussian(), bounds: { Q8_0: 0.0128, Q6_K: 0.037, Q5_0: 0.099, Q4_K: 0.11, Q4_0: 0.162 } },
};

describe('quantization error against the float32 weights', () => {
  for (const [name, { draw, bounds }] of Object.entries(distributions)) {
    it(`${name} values: every type within its bound, more bits never worse`, () => {
      const values = Float32Array.from({ length: count }, draw);
      const errors = types.map((type) => relativeRmse(values, roundTrip(type, values)));
      types.forEach((type, index) => expect(errors[index], type).toBeLessThan(bounds[type]));
      // More bits do better: Q8_0 (8.5 bits a weight) < Q6_K (6.56) < Q5_0 (5.5) and Q4_K (4.5) < Q4_0 (4.5).
      // (Q5_0 against Q4_K depends on the data: Q4_K's min wins on all-positive values.)
      const error = (type: BlockTensorType) => errors[types.indexOf(type)];
      for (const [better, worse] of [['Q8_0', 'Q6_K'], ['Q6_K', 'Q5_0'], ['Q6_K', 'Q4_K'], ['Q5_0', 'Q4_0'], ['Q4_K', 'Q4_0']] as const) {
        expect(error(better), `${better} vs ${worse}`).toBeLessThan(error(worse));
      }
    });
  }

  it('stays within the bound of llama.cpp’s own test (test-quantize-fns: sqrt(sum of squared errors) / n < 0.002 on 0.1 + 2 cos(i))', () => {
    const values = Float32Array.from({ length: 32 * 128 }, (_, i) => Math.fround(0.1 + 2 * Math.cos(i)));
    for (const type of types) {
      const restored = roundTrip(type, values);
      let sum = 0;
      for (let i = 0; i < values.length; i++) sum += (restored[i] - values[i]) ** 2;
      // Measured: Q8_0 0.000074, Q6_K 0.00026, Q5_0 0.00059, Q4_K 0.00098, Q4_0 0.0011.
      expect(Math.sqrt(sum) / values.length, type).toBeLessThan(0.002);
    }
  });

  // Not at any magnitude: Q6_K's d (about max / 4000) is an f16 subnormal for weights below
  // about 0.1, and loses relative precision below 0.01, in llama.cpp as here.
  it('is the same relative error at small and large magnitudes', () => {
    const base = Float32Array.from({ length: 256 * 4 }, () => rng.nextGaussian());
    for (const type of types) {
      const reference = relativeRmse(base, roundTrip(type, base));
      for (const magnitude of [0.05, 30]) {
        const scaled = base.map((value) => value * magnitude);
        expect(relativeRmse(scaled, roundTrip(type, scaled)), `${type} at ${magnitude}`).toBeLessThan(reference * 1.05);
      }
    }
  });
});

describe('Q4_K’s scale and min search', () => {
  it('never does worse than the plain min-to-max mapping, and does better on average', () => {
    const searched = new AffineFitter(32, 15, q4KAffineSearch);
    const plain = new AffineFitter(32, 15, { ...q4KAffineSearch, steps: -1 });
    const weightedError = (fitter: AffineFitter, found: Uint8Array) =>
      fitter.values.reduce((sum, value, i) => sum + fitter.weights[i] * (fitter.scale * found[i] - fitter.min - value) ** 2, 0);
    let searchedTotal = 0;
    let plainTotal = 0;
    for (let trial = 0; trial < 300; trial++) {
      const values = Float64Array.from({ length: 32 }, () => rng.nextGaussian() + (trial % 3 === 0 ? 1 : 0));
      const rms = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0) / 32);
      for (const fitter of [searched, plain]) {
        fitter.values.set(values);
        values.forEach((value, i) => (fitter.weights[i] = rms + Math.abs(value)));
      }
      const searchedLevels = new Uint8Array(32);
      const plainLevels = new Uint8Array(32);
      searched.fit(searchedLevels, 0);
      plain.fit(plainLevels, 0);
      const searchedError = weightedError(searched, searchedLevels);
      const plainError = weightedError(plain, plainLevels);
      expect(searchedError).toBeLessThanOrEqual(plainError * (1 + 1e-12));
      searchedTotal += searchedError;
      plainTotal += plainError;
    }
    // Measured: the search removes about a fifth of the weighted squared error (ratio 0.81).
    expect(searchedTotal / plainTotal).toBeLessThan(0.85);
  });
});

describe('edge cases of the block quantizers', () => {
  it('store all-zero blocks as scale 0 (decoding to zeros), and constant blocks nearly exactly', () => {
    for (const type of types) {
      const zeros = new Float32Array(256);
      expect(Array.from(roundTrip(type, zeros)).every((value) => value === 0), type).toBe(true);
      // Q4_0 and Q5_0 store q = 8 and 16 (value 0) under a zero scale; the others store zero bytes throughout.
      if (type !== 'Q4_0' && type !== 'Q5_0') expect(Array.from(quantizeTensor(type, zeros)).every((byte) => byte === 0), type).toBe(true);
      for (const constant of [1, -0.75]) {
        const restored = roundTrip(type, new Float32Array(256).fill(constant));
        for (const value of restored) expect(Math.abs(value - constant), `${type} ${constant}`).toBeLessThan(Math.abs(constant) * 2e-3);
      }
    }
  });

  it('refuse partial blocks, non-finite values, and magnitudes whose scales overflow f16', () => {
    expect(() => quantizeTensor('Q4_K', new Float32Array(128))).toThrow(/Q4_K: 128 values is not a whole number of 256-value blocks/);
    expect(() => quantizeTensor('Q6_K', new Float32Array(300))).toThrow(QuantizeInputError);
    expect(() => quantizeTensor('Q4_0', new Float32Array(33))).toThrow(/33 values is not a whole number of 32-value blocks/);
    expect(() => quantizeTensor('Q5_0', Float32Array.of(...new Array(31).fill(0), NaN))).toThrow(/value NaN at index 31 is not finite/);
    const huge = new Float32Array(256).fill(1);
    huge[300 % 256] = 3e9;
    for (const type of ['Q4_0', 'Q5_0', 'Q4_K', 'Q6_K'] as const) {
      expect(() => quantizeTensor(type, huge), type).toThrow(/block \d+ \(values \d+ to \d+\) needs a .* beyond f16's range/);
    }
  });

  it('refuse bytes that do not match the count (a truncated tensor)', () => {
    const bytes = quantizeTensor('Q4_K', new Float32Array(512).fill(1));
    expect(() => dequantizeTensor('Q4_K', bytes.subarray(0, 200), 512)).toThrow(/200 bytes, but 512 values take 288/);
    expect(() => dequantizeTensor('Q6_K', new Uint8Array(209), 256)).toThrow(QuantizeInputError);
    expect(() => dequantizeTensor('Q5_0', new Uint8Array(22), 16)).toThrow(/16 is not a whole number of 32-value blocks/);
  });
});
