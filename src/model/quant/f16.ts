/**
 * IEEE 754 half precision (binary16), the storage type of F16 tensors and of the scale of
 * every Q8_0 block: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits.
 *
 * Conversion to half rounds to nearest, ties to even, as the hardware instructions
 * (F16C's vcvtps2ph, ARM's fcvt) and ggml's reference conversion do: values too small for
 * a normal half become subnormals or signed zero, values of 65520 or more become infinity,
 * and NaN stays NaN (as the quiet NaN 0x7e00, with its sign).
 */
import { QuantizeInputError } from './errors.js';

const float32Scratch = new Float32Array(1);
const bitsScratch = new Uint32Array(float32Scratch.buffer);

/** The half nearest to the float32 with these bits (ties to even). */
export function f32BitsToF16(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7f_ffff;
  if (exponent === 0xff) return sign | (mantissa === 0 ? 0x7c00 : 0x7e00);
  // The exponent re-biased for half: float32's bias is 127, half's is 15.
  const halfExponent = exponent - 112;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // A subnormal half (or zero): the value in units of 2^-24 is the 24-bit significand shifted right.
    // Below 2^-25 (halfExponent < -10) even the largest significand rounds to zero.
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x80_0000;
    const shift = 14 - halfExponent;
    return sign | roundShift(significand, shift);
  }
  // A normal half. A carry out of the mantissa correctly bumps the exponent, up to infinity.
  return sign | roundShift((halfExponent << 23) | mantissa, 13);
}

/** `value >> shift`, rounded to nearest with ties to even. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const dropped = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return dropped > half || (dropped === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/**
 * The bits of the half nearest to `value`. The value is first rounded to float32 (ties to
 * even), exactly as passing it to a C function taking a float would, so that results match
 * ggml's on the same float32 data; rounding a double straight to half could differ by one ulp.
 */
export function f32ToF16(value: number): number {
  float32Scratch[0] = value;
  return f32BitsToF16(bitsScratch[0]);
}

function decodeF16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (0x400 + mantissa) * 2 ** (exponent - 25);
}

/** Every half's value, indexed by its bits: the fast path of every F16 and Q8_0 decoder. Read-only by convention. */
export const f16ToF32Table: Float32Array = (() => {
  const table = new Float32Array(0x1_0000);
  for (let bits = 0; bits < table.length; bits++) table[bits] = decodeF16(bits);
  return table;
})();

/** The value of the half with these bits (every half is exact in a float32 and in a number). */
export function f16ToF32(bits: number): number {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffff) throw new QuantizeInputError(`f16ToF32: ${bits} is not the bits of a half (an integer from 0 to 65535)`);
  return f16ToF32Table[bits];
}

/** True when the half with these bits is infinite or NaN (all exponent bits set). */
export function f16IsNonFinite(bits: number): boolean {
  return (bits & 0x7c00) === 0x7c00;
}
