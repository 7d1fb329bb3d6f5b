/**
 * The activation quantizers (src/model/kernels/activations.ts) against the rules of
 * llama.cpp's quantize_row_q8_0 (x86) and quantize_row_q8_K_ref, written out again here
 * independently, on random rows and on the edge cases: all zeros, ties, halves that
 * round to subnormals or infinity, a largest element that is negative.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nearestEven, quantizeActivations, quantizedActivations } from '../../../src/model/kernels/index.js';
import { halfBits, halfValue } from '../helpers.js';

const f32 = Math.fround;

function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** ggml-cpu's x86 quantize_row_q8_0, one block: d = half(amax / 127), q = nearest(x * (127 / amax)). */
function specQ8_0(x: Float32Array): { quants: number[]; scale: number } {
  const amax = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const multiplier = amax === 0 ? 0 : f32(127 / amax);
  return { quants: Array.from(x, (v) => roundHalfToEven(f32(v * multiplier)) || 0), scale: halfValue(halfBits(f32(amax / 127))) };
}

/** ggml's quantize_row_q8_K_ref, one block: iscale = -127 / max (first of largest |x|), q = min(127, nearest(iscale x)), d = 1 / iscale. */
function specQ8_K(x: Float32Array): { quants: number[]; scale: number; sums: number[] } {
  let max = 0;
  for (const v of x) if (Math.abs(v) > Math.abs(max)) max = v;
  if (max === 0) return { quants: new Array<number>(256).fill(0), scale: 0, sums: new Array<number>(8).fill(0) };
  const inverse = f32(-127 / max);
  const quants = Array.from(x, (v) => Math.min(127, roundHalfToEven(f32(inverse * v))) || 0);
  const sums = Array.from({ length: 8 }, (_, j) => quants.slice(32 * j, 32 * j + 32).reduce((a, b) => a + b, 0));
  return { quants, scale: f32(1 / inverse), sums };
}

const floatRow = (length: number) => fc.array(fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e4, max: 1e4 }), fc.constantFrom(0, 0.5, -0.5, 1.5, 127, -127, 1e-9, 7e5)), { minLength: length, maxLength: length }).map((values) => Float32Array.from(values));

describe('activation quantizers', () => {
  it('nearestEven rounds ties to even', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 126.5, 2.4999, -3.6].map((value) => nearestEven(value) + 0)).toEqual([0, 2, 2, 0, -2, 126, 2, -4]);
  });

  it('Q8_0 follows ggml on any row of whole blocks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }).chain((blocks) => floatRow(32 * blocks)), (x) => {
        const out = quantizedActivations('Q8_0', x.length);
        quantizeActivations(out, x, x.length);
        for (let b = 0; b < x.length / 32; b++) {
          const spec = specQ8_0(x.subarray(32 * b, 32 * b + 32));
          expect(Array.from(out.quants.subarray(32 * b, 32 * b + 32))).toEqual(spec.quants);
          expect(out.scales[b]).toBe(spec.scale);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('Q8_K follows ggml on any row of whole blocks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 }).chain((blocks) => floatRow(256 * blocks)), (x) => {
        const out = quantizedActivations('Q8_K', x.length);
        quantizeActivations(out, x, x.length);
        for (let b = 0; b < x.length / 256; b++) {
          const spec = specQ8_K(x.subarray(256 * b, 256 * b + 256));
          expect(Array.from(out.quants.subarray(256 * b, 256 * b + 256))).toEqual(spec.quants);
          expect(out.scales[b]).toBe(spec.scale);
          expect(Array.from(out.sums.subarray(8 * b, 8 * b + 8))).toEqual(spec.sums);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('handles the edge cases: zeros, a half scale that is subnormal or infinite, a negative largest element', () => {
    const out = quantizedActivations('Q8_0', 96);
    const x = new Float32Array(96);
    x[33] = 1e-6; // d = 7.9e-9: a subnormal half
    x[64] = 1e7; // d = 78740: past the largest half, so infinite
    x[65] = -3;
    quantizeActivations(out, x, 96);
    expect(Array.from(out.scales)).toEqual([0, halfValue(halfBits(f32(1e-6 / 127))), Infinity]);
    expect(out.quants[33]).toBe(127);
    expect(out.quants[64]).toBe(127);
    const k = quantizedActivations('Q8_K', 256);
    const y = new Float32Array(256).fill(0.25);
    y[7] = -2;
    y[9] = 2; // as large, but later: the first one sets the sign
    quantizeActivations(k, y, 256);
    expect(k.scales[0]).toBe(f32(1 / f32(-127 / -2)));
    expect([k.quants[7], k.quants[9], k.quants[0]]).toEqual([-127, 127, 16]);
  });

  // Q8_0's scale is rounded to a half after the quants are made, which moves q * d by up to q * d * 2^-11 more.
  it('keeps each element within half a step of its value (plus the rounding of a Q8_0 scale to a half)', () => {
    const x = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
    for (const kind of ['Q8_0', 'Q8_K'] as const) {
      const out = quantizedActivations(kind, 512);
      quantizeActivations(out, x, 512);
      const blockSize = kind === 'Q8_0' ? 32 : 256;
      for (let i = 0; i < 512; i++) {
        const scale = out.scales[Math.floor(i / blockSize)];
        expect(Math.abs(out.quants[i] * scale - x[i]), `${kind} element ${i}`).toBeLessThanOrEqual(Math.abs(scale) * (0.5 + Math.abs(out.quants[i]) * 2 ** -11) + 1e-6 * Math.abs(x[i]));
      }
    }
  });
});
