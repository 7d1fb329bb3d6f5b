import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from '../../src/core/rng.js';

describe('Rng', () => {
  it('replays exactly from a seed', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (seed) => {
      const a = new Rng(seed);
      const b = new Rng(seed);
      for (let i = 0; i < 50; i++) expect(a.nextUint32()).toBe(b.nextUint32());
    }));
  });

  it('continues identically after its state is saved, serialised and restored', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 100 }), (seed, skip) => {
      const a = new Rng(seed);
      for (let i = 0; i < skip; i++) a.nextFloat();
      const b = new Rng(JSON.parse(JSON.stringify(a.state())));
      for (let i = 0; i < 20; i++) expect(b.nextFloat()).toBe(a.nextFloat());
    }));
  });

  it('gives different streams for different seeds, including seeds above 2^32', () => {
    expect(new Rng(1).nextUint32()).not.toBe(new Rng(2).nextUint32());
    expect(new Rng(5).nextUint32()).not.toBe(new Rng(5 + 2 ** 32).nextUint32());
  });

  it('keeps floats in [0, 1) and ints in [0, bound)', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 10_000; i++) {
      const f = rng.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
      const n = rng.nextInt(7);
      expect(n >= 0 && n < 7 && Number.isInteger(n)).toBe(true);
    }
  });

  it('is roughly uniform', () => {
    const rng = new Rng(11);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[rng.nextInt(10)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('refuses seeds that are not safe integers', () => {
    expect(() => new Rng(1.5)).toThrow(/safe integer/);
  });
});
