/**
 * How closely nines must match llama.cpp, per tensor type, in the relative gap error of
 * parity.ts (max over positions and tokens of |our gap - their gap| / their logit spread).
 */
import type { GgmlType } from '../../../src/model/gguf/types.js';
import type { QuantizeMix } from '../../../src/model/quantize.js';

/** Tokens of greedy decoding that must be identical. */
export const greedyTokenCount = 64;

/**
 * Greedy decoding must pick llama.cpp's token at every step, except where llama.cpp's own
 * pick leads its runner-up by less than this fraction of its logit spread: there the two
 * candidates are within the rounding llama.cpp applies to activations (for quantized
 * types about 0.6% of the spread at a typical position; see gapErrorBounds), so either
 * engine could fall either way and neither is wrong. F32 forgives nothing.
 *
 * Measured: on the random models (whose output carries a next-token map, see
 * bench/random-model.ts) and on the default model's f32, f16 and q4_k_m files, no step
 * needs this. On the default model's q8_0 and q6_k files (the same Q8_0 weights: its rows
 * are too short for Q6_K), step 23 of 64 is such a tie: llama.cpp leads by 0.0077 logits
 * where nines leads the other way by 0.026, both well under 1% of the spread.
 */
export const greedyTieLeads: Partial<Record<GgmlType, number>> = {
  F32: 0,
  F16: 1e-3,
  Q8_0: 1e-2,
  Q4_K: 1e-2,
  Q6_K: 1e-2,
};

/** At most this many near-ties in one greedy run; more would mean the two engines drift apart. */
export const greedyTiesMax = 2;

/**
 * Bounds for the random models, each a little over twice the largest error measured
 * (in brackets) so that a change of summation order cannot trip them but a real bug can.
 *
 * F32 [8e-7]: both sides compute in float32; what remains is summation order.
 *   (The bound is a little wider, 5e-6, so that one bound serves every model here.)
 * F16 [6.9e-4]: llama.cpp rounds the activations of F16 products to F16 (2^-11
 *   relative); nines keeps them in float32.
 * Q8_0 [2.6e-2], Q4_K [1.7e-2], Q6_K [1.4e-2]: llama.cpp quantizes the activations of
 *   quantized products to 8 bits (Q8_0 blocks of 32, or Q8_K blocks of 256 for the
 *   K-quants) and multiplies integers; nines multiplies the dequantized weights by
 *   float32 activations. An 8-bit activation is off by up to half a step of max|x|/127,
 *   about 0.4% of an element, and the errors of a few layers add up to about 1% of the
 *   logit spread (emulated-forward.ts reproduces llama.cpp's figures to 1e-7 for Q4_K and
 *   Q6_K by applying that rounding). nines' products are the more exact ones.
 */
export const gapErrorBounds: Partial<Record<GgmlType, number>> = {
  F32: 5e-6,
  F16: 2e-3,
  Q8_0: 6e-2,
  Q4_K: 4e-2,
  Q6_K: 4e-2,
};

/**
 * The emulation of llama.cpp's rounding (emulated-forward.ts) must come this close to it
 * at the median position: float32 noise. Not at every position: the emulation sums in
 * float64 and llama.cpp in float32, so now and then an activation lands on the other side
 * of a rounding boundary and one element moves by a whole Q8 step (Q4_K: 6e-3 at one
 * position of 96); those rare positions show in the maximum, which the tests report but
 * do not bound.
 */
export const emulatedMedianErrorBound = 1e-5;

/** Prompt positions the (slow, float64) emulation covers. */
export const emulatedPositions = 96;

/** Near-tie leads for the default model's files, as greedyTieLeads. */
export const defaultModelGreedyTieLeads: Record<QuantizeMix, number> = {
  f32: 0,
  f16: 1e-3,
  q8_0: 1e-2,
  q4_k_m: 1e-2,
  q6_k: 1e-2,
};

/** Bounds for the default model's files, by `nines model quantize` mix; measured values in brackets. */
export const defaultModelGapErrorBounds: Record<QuantizeMix, number> = {
  f32: 5e-6, // [1.2e-6]
  f16: 2e-3, // [7.2e-4]
  q8_0: 4e-2, // [1.7e-2]
  q4_k_m: 4e-2, // [1.4e-2] (Q5_0 and Q8_0 tensors: the default model's rows are not whole K-quant super-blocks)
  q6_k: 4e-2, // [1.7e-2] (all Q8_0, for the same reason)
};
