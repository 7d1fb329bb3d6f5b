import { describe, expect, it } from 'vitest';
import { AffineFitter, fitSymmetricLevels, nearestInt, q4KAffineSearch } from '../../../src/model/quant/level-search.js';

describe('nearestInt', () => {
  it('rounds to nearest with ties to even, as ggml’s nearest_int does', () => {
    const cases: Array<[number, number]> = [[0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, 0], [-1.5, -2], [-2.5, -2], [2.4999, 2], [3.7, 4], [-3.7, -4], [15, 15]];
    for (const [value, expected] of cases) expect(nearestInt(value) + 0, String(value)).toBe(expected);
  });

  it('agrees with a plain rounding over a wide range of magnitudes', () => {
    for (let exponent = -3; exponent <= 50; exponent++) {
      for (const fraction of [0.25, 0.5, 0.75, 0.4999999, 0.5000001]) {
        for (const sign of [1, -1]) {
          const value = sign * (2 ** exponent + fraction);
          const floor = Math.floor(value);
          const plain = value - floor === 0.5 ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(value);
          expect(nearestInt(value) + 0, String(value)).toBe(plain + 0);
        }
      }
    }
  });
});

describe('the level searches', () => {
  it('the affine fit reproduces values that lie on its grid exactly', () => {
    const fitter = new AffineFitter(32, 15, q4KAffineSearch);
    const grid = Array.from({ length: 32 }, (_, i) => (i * 7) % 16); // every level 0..15 appears
    grid.forEach((level, i) => {
      fitter.values[i] = 0.25 * level - 1.5;
      fitter.weights[i] = 1;
    });
    const levels = new Uint8Array(32);
    fitter.fit(levels, 0);
    expect(fitter.scale).toBeCloseTo(0.25, 12);
    expect(fitter.min).toBeCloseTo(1.5, 12);
    expect(Array.from(levels)).toEqual(grid);
  });

  it('the affine fit never adds an offset (min >= 0, as the format subtracts it), and handles a constant sub-block', () => {
    const fitter = new AffineFitter(4, 15, q4KAffineSearch);
    fitter.values.set([1, 2, 3, 4]);
    fitter.weights.fill(1);
    const levels = new Uint8Array(4);
    fitter.fit(levels, 0);
    expect(fitter.min).toBeGreaterThanOrEqual(0);
    levels.forEach((level, i) => expect(Math.abs(fitter.scale * level - fitter.min - fitter.values[i])).toBeLessThanOrEqual(fitter.scale / 2));
    fitter.values.fill(-2);
    fitter.fit(levels, 0);
    expect([fitter.scale, fitter.min, ...levels]).toEqual([0, 2, 0, 0, 0, 0]);
  });

  it('the symmetric fit maps the extreme value to the end of the range with the extra step, and zeros to level 0', () => {
    const values = Float32Array.from([0.1, -0.2, 0.35, 0.05, -0.01, 0.2, 0.3, -0.3, 0, 0.15, -0.05, 0.25, 0.12, -0.18, 0.07, 0.33]);
    const levels = new Uint8Array(16);
    const scale = fitSymmetricLevels(values, 0, 16, 32, levels, 0);
    // 0.35 is the largest: it goes to -32 (stored 0), so the scale is negative.
    expect(scale).toBeLessThan(0);
    expect(levels[2]).toBe(0);
    const restored = Array.from(levels, (level) => scale * (level - 32));
    restored.forEach((value, i) => expect(Math.abs(value - values[i])).toBeLessThan(Math.abs(scale)));
    expect(fitSymmetricLevels(new Float32Array(16), 0, 16, 32, levels, 0)).toBe(0);
    expect(Array.from(levels).every((level) => level === 0)).toBe(true);
  });
});
