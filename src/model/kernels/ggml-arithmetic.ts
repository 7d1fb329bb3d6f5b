/**
 * The float32 arithmetic of llama.cpp's CPU backend (ggml-cpu, as built for x86 with
 * AVX-512 and FMA, the build node-llama-cpp picks on this project's machines), one
 * operation at a time, so that nines' non-quantized steps give ggml's bits and no
 * activation lands on the other side of an 8-bit rounding boundary from llama.cpp's.
 *
 * What ggml does differently from plain float64 arithmetic rounded once at the end:
 *   - fused multiply-adds (one rounding for a * b + c) in its vector loops and wherever
 *     the compiler contracted a * b + c (RoPE's rotation);
 *   - its own exp, ggml_v_expf: a polynomial in float32 FMAs (in SiLU and softmax);
 *   - sums of vector lanes as a tree: lanes i and i + 8 first, then i and i + 4, and so on.
 *
 * Every function takes and returns float32 values (as numbers) and rounds every step.
 */

const f32 = Math.fround;

/**
 * a * b + c with one rounding to float32, for float32 a, b, c: the product is exact in
 * float64 (24 + 24 bits), and the float64 sum is rounded to float32. That is the fused
 * result except when the float64 sum lands exactly halfway between two float32s after
 * rounding itself (about once in 2^28 operations), where the second rounding can go the
 * other way; the hot loops below accept that rarity rather than pay for a check.
 */
export function fusedMultiplyAdd(a: number, b: number, c: number): number {
  return f32(a * b + c);
}

/** 2^-24 times a 24-bit mantissa, times 2^exponent: a float32 constant written as C's hexadecimal float 0x1.xxxxxxp±e. */
function hexFloat(mantissa: number, exponent: number): number {
  return f32((mantissa / 2 ** 24) * 2 ** exponent);
}

// ggml_v_expf's constants (adapted by ggml from Arm's optimized routines).
const roundingShift = hexFloat(0x1800000, 23); // 0x1.8p23
const log2OfE = hexFloat(0x1715476, 0); // 0x1.715476p+0
const ln2High = hexFloat(0x162e400, -1); // 0x1.62e4p-1
const ln2Low = hexFloat(0x17f7d1c, -20); // 0x1.7f7d1cp-20
const c5 = hexFloat(0x10e4020, -7); // 0x1.0e4020p-7
const c4 = hexFloat(0x1573e2e, -5); // 0x1.573e2ep-5
const c3 = hexFloat(0x1555e66, -3); // 0x1.555e66p-3
const c2 = hexFloat(0x1fffdb6, -2); // 0x1.fffdb6p-2
const c1 = hexFloat(0x1ffffec, -1); // 0x1.ffffecp-1

/** 2^n for the integers n in [-192, 192] (2 ** n costs a call to pow). */
const powerOfTwoBias = 192;
const powersOfTwo = Float64Array.from({ length: 2 * powerOfTwoBias + 1 }, (_, i) => 2 ** (i - powerOfTwoBias));

/**
 * ggml_v_expf, the AVX-512 lane function: e^x within 1.5 ulp, as ggml computes it for
 * softmax and SiLU. Beyond |n| > 192 (x beyond about ±133) it gives 0 or infinity. The
 * fused multiply-adds are written out (as fusedMultiplyAdd computes them) because this
 * runs for every attention score and every feed-forward element.
 */
export function ggmlExp(x: number): number {
  // n = round(x / ln 2), by adding and subtracting 1.5 * 2^23; z is an integer, so z - shift is exact.
  const n = f32(x * log2OfE + roundingShift) - roundingShift;
  if (n > 192 || n < -192) return n <= 0 ? 0 : Infinity;
  // b = x - n ln 2, with ln 2 in two parts (Cody and Waite), then a polynomial for e^b.
  const b = f32(-n * ln2Low + f32(-n * ln2High + x));
  const u = f32(b * b);
  const j = f32(f32(f32(c5 * b + c4) * u + f32(c3 * b + c2)) * u + f32(c1 * b + 1));
  // _mm512_scalef_ps: j * 2^n, exact unless the result leaves float32's normal range.
  return f32(j * powersOfTwo[n + powerOfTwoBias]);
}

/** ggml_v_silu: x / (1 + e^-x) with ggml's exp, every step in float32. */
export function ggmlSilu(x: number): number {
  return f32(x / f32(1 + ggmlExp(-x)));
}

/**
 * The sum of 16 float32 lanes as _mm512_reduce_add_ps adds them: lane i to lane i + 8,
 * then i to i + 4, then i to i + 2, then the last two.
 */
export function reduceLanes16(l: Float32Array): number {
  const a0 = f32(l[0] + l[8]);
  const a1 = f32(l[1] + l[9]);
  const a2 = f32(l[2] + l[10]);
  const a3 = f32(l[3] + l[11]);
  const a4 = f32(l[4] + l[12]);
  const a5 = f32(l[5] + l[13]);
  const a6 = f32(l[6] + l[14]);
  const a7 = f32(l[7] + l[15]);
  return reduceLanes8Of(a0, a1, a2, a3, a4, a5, a6, a7);
}

/** The sum of 8 float32 lanes as ggml's hsum_float_8 adds them (the same tree as reduceLanes16). */
export function reduceLanes8Of(l0: number, l1: number, l2: number, l3: number, l4: number, l5: number, l6: number, l7: number): number {
  const b0 = f32(l0 + l4);
  const b1 = f32(l1 + l5);
  const b2 = f32(l2 + l6);
  const b3 = f32(l3 + l7);
  return f32(f32(b0 + b2) + f32(b1 + b3));
}
