import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { f16IsNonFinite, f16ToF32, f32BitsToF16, f32ToF16, QuantizeInputError } from '../../../src/model/quant/index.js';

const reference = JSON.parse(readFileSync(new URL('./testdata/reference.json', import.meta.url), 'utf8')) as { f32ToF16: [number, number][] };

/** The half's value by the textbook formula, independently of the code under test. */
function halfValue(bits: number): number {
  const sign = bits >= 0x8000 ? -1 : 1;
  const exponent = Math.floor(bits / 1024) % 32;
  const mantissa = bits % 1024;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * Math.pow(2, -14) * (mantissa / 1024);
  return sign * Math.pow(2, exponent - 15) * (1 + mantissa / 1024);
}

/** The nearest half by binary search over all positive halves (ties to even), the slow and obvious way. */
function referenceToHalf(value: number): number {
  if (Number.isNaN(value)) return -1;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  // Positive finite halves 0..0x7bff increase with their bits; past 65504 the next step (were the exponent unbounded) is 65536, i.e. infinity.
  const valueOf = (bits: number) => (bits === 0x7c00 ? 65536 : halfValue(bits));
  if (magnitude >= 65536) return sign | 0x7c00;
  let low = 0;
  let high = 0x7c00;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (valueOf(middle) <= magnitude) low = middle;
    else high = middle;
  }
  const below = magnitude - valueOf(low);
  const above = valueOf(high) - magnitude;
  if (below === 0) return sign | low;
  if (below < above) return sign | low;
  if (above < below) return sign | high;
  return sign | (low % 2 === 0 ? low : high);
}

function float32FromBits(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits);
  return view.getFloat32(0);
}

describe('f16ToF32', () => {
  it('decodes every one of the 65536 halves to its textbook value', () => {
    for (let bits = 0; bits < 0x1_0000; bits++) {
      const expected = halfValue(bits);
      const actual = f16ToF32(bits);
      if (Number.isNaN(expected)) expect(actual).toBeNaN();
      else expect(Object.is(actual, expected), `bits 0x${bits.toString(16)}: ${actual} vs ${expected}`).toBe(true);
    }
  });

  it('refuses anything that is not 16 bits', () => {
    expect(() => f16ToF32(0x1_0000)).toThrow(QuantizeInputError);
    expect(() => f16ToF32(-1)).toThrow(/not the bits of a half/);
    expect(() => f16ToF32(1.5)).toThrow(QuantizeInputError);
  });
});

describe('f32ToF16', () => {
  it('round-trips every half exactly, and keeps NaN a NaN', () => {
    for (let bits = 0; bits < 0x1_0000; bits++) {
      const result = f32ToF16(f16ToF32(bits));
      if (f16IsNonFinite(bits) && bits % 1024 !== 0) {
        // A NaN's sign and payload do not survive a JavaScript number; that it stays NaN is what matters.
        expect(f16IsNonFinite(result) && result % 1024 !== 0).toBe(true);
      } else {
        expect(result).toBe(bits);
      }
    }
  });

  it('matches the slow reference on random float32 bit patterns and on near-ties', () => {
    const rng = new Rng(16);
    for (let trial = 0; trial < 60_000; trial++) {
      let bits: number;
      if (trial % 2 === 0) {
        bits = rng.nextUint32();
      } else {
        // The exact midpoint between two neighbouring halves, nudged by -1, 0 or +1 float32 ulp.
        const half = rng.nextInt(0x7bff);
        const middle = Math.fround((halfValue(half) + halfValue(half + 1)) / 2);
        const view = new DataView(new ArrayBuffer(4));
        view.setFloat32(0, middle);
        bits = (view.getUint32(0) + rng.nextInt(3) - 1) | (rng.nextInt(2) << 31);
        bits >>>= 0;
      }
      const value = float32FromBits(bits);
      if (Number.isNaN(value)) continue;
      expect(f32BitsToF16(bits), `float32 0x${bits.toString(16)} (${value})`).toBe(referenceToHalf(value));
    }
  });

  it('agrees with the C compiler’s _Float16 conversion (testdata/reference.c)', () => {
    for (const [bits, half] of reference.f32ToF16) expect(f32BitsToF16(bits), `float32 0x${bits.toString(16)}`).toBe(half);
  });

  it('handles the edges: signed zero, subnormals, overflow, infinities, NaN', () => {
    expect(f32ToF16(0)).toBe(0x0000);
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(2 ** -24)).toBe(0x0001); // the smallest subnormal
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // exactly half of it: ties to even, so zero
    expect(f32ToF16(1.5 * 2 ** -25)).toBe(0x0001);
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // 1.5 subnormal steps: ties to even, up to 2
    expect(f32ToF16(2 ** -14)).toBe(0x0400); // the smallest normal
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65519)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00); // the tie above the largest half goes to infinity
    expect(f32ToF16(-1e9)).toBe(0xfc00);
    expect(f32ToF16(Infinity)).toBe(0x7c00);
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
    expect(f32ToF16(NaN) & 0x7e00).toBe(0x7e00);
    expect(f32ToF16(1 / 3)).toBe(0x3555);
  });

  it('rounds a double to float32 first, as a C caller passing a float would', () => {
    // 1 + 2^-11 + 2^-40 rounds (as a double straight to half) up to 1 + 2^-10, but as float32 it is
    // exactly 1 + 2^-11, a tie between halves 0x3c00 and 0x3c01 that goes to the even 0x3c00.
    expect(f32ToF16(1 + 2 ** -11 + 2 ** -40)).toBe(0x3c00);
  });
});
