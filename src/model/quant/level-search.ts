/**
 * The searches the K-quant reference quantizers of llama.cpp (ggml-quants.c) run to choose
 * a sub-block's scale, and its min where the format has one. Both try a handful of
 * candidate scales around the obvious one (largest value onto the largest level), refit
 * each by weighted least squares, and keep the best. Written from the description of
 * make_qkx2_quants (Q4_K) and make_qx_quants (Q6_K); the arithmetic is in doubles, so the
 * bytes can differ from llama.cpp's in the last bit of a choice, never in the format.
 */

/**
 * 1.5 * 2^52. Added to a double of magnitude below 2^51, it leaves the sum no fraction
 * bits, so the addition itself rounds to an integer, to nearest with ties to even;
 * subtracting it again gives that integer. ggml's nearest_int does the same in float32
 * with 1.5 * 2^23. It is several times faster than Math.round plus a tie correction.
 */
const roundingShift = 6755399441055744;

/** ggml's nearest_int: to nearest, ties to even. For |value| < 2^51 (callers clamp first). */
export function nearestInt(value: number): number {
  return value + roundingShift - roundingShift;
}

/** The candidate scales of the affine search: levelMax + rangeStart + rangeStep * i for i = 0..steps, over (max - min). */
export interface AffineSearch {
  rangeStart: number;
  rangeStep: number;
  steps: number;
}

/** Q4_K's search (quantize_row_q4_K_ref): 21 candidates from levelMax - 1 up to levelMax + 1. */
export const q4KAffineSearch: AffineSearch = { rangeStart: -1, rangeStep: 0.1, steps: 20 };

/**
 * Fits sub-blocks of `count` values with levels 0..levelMax: value ≈ scale * level - min,
 * with scale >= 0 and min >= 0 (make_qkx2_quants). Load a sub-block into `values` and its
 * weights into `weights`, then call fit(); the buffers are made once, so that quantizing a
 * tensor allocates nothing per block.
 */
export class AffineFitter {
  readonly values: Float64Array; // (count) the sub-block being fitted
  readonly weights: Float64Array; // (count) how much each value's error counts
  /** The result of the last fit(). */
  scale = 0;
  min = 0;
  private readonly candidate: Uint8Array; // (count) the levels of the candidate being tried
  private weightSum = 0;
  private weightedValueSum = 0;
  private weightedValueSquareSum = 0;

  constructor(
    readonly count: number,
    readonly levelMax: number,
    readonly search: AffineSearch,
  ) {
    this.values = new Float64Array(count);
    this.weights = new Float64Array(count);
    this.candidate = new Uint8Array(count);
  }

  /**
   * Writes the levels to levels[levelsStart, levelsStart + count) and sets scale and min.
   *
   * The min starts at min(0, smallest value) and the scale at (max - min) / levelMax. Each
   * candidate inverse scale maps the values to levels; the weighted least-squares line
   * through (level, value) gives that candidate's scale and min (a min that would have to
   * be positive is pinned to 0 and the scale refitted alone); the candidate with the
   * smallest weighted squared error wins. As in the reference, a winning min becomes the
   * origin of the candidates that follow it.
   */
  fit(levels: Uint8Array, levelsStart: number): void {
    const { values, weights, count, levelMax } = this;
    let min = values[0];
    let max = values[0];
    this.weightSum = 0;
    this.weightedValueSum = 0;
    this.weightedValueSquareSum = 0;
    for (let i = 0; i < count; i++) {
      if (values[i] < min) min = values[i];
      if (values[i] > max) max = values[i];
      this.weightSum += weights[i];
      this.weightedValueSum += weights[i] * values[i];
      this.weightedValueSquareSum += weights[i] * values[i] * values[i];
    }
    if (min > 0) min = 0;
    if (max === min) {
      levels.fill(0, levelsStart, levelsStart + count);
      this.scale = 0;
      this.min = -min;
      return;
    }
    let inverseScale = levelMax / (max - min);
    let scale = 1 / inverseScale;
    let bestError = 0;
    for (let i = 0; i < count; i++) {
      const level = affineLevel(values[i], min, inverseScale, levelMax);
      levels[levelsStart + i] = level;
      const difference = scale * level + min - values[i];
      bestError += weights[i] * difference * difference;
    }
    for (let step = 0; step <= this.search.steps; step++) {
      inverseScale = (this.search.rangeStart + this.search.rangeStep * step + levelMax) / (max - min);
      const error = this.tryCandidate(min, inverseScale);
      if (error < bestError) {
        levels.set(this.candidate, levelsStart);
        bestError = error;
        scale = this.scale;
        min = -this.min;
      }
    }
    this.scale = scale;
    this.min = -min;
  }

  /** Levels at `inverseScale` from origin `min` into `candidate`, their least-squares scale and min into this; returns the weighted squared error, or Infinity when the fit is degenerate. */
  private tryCandidate(min: number, inverseScale: number): number {
    const { values, weights, count, levelMax, candidate } = this;
    let levelSum = 0;
    let levelSquareSum = 0;
    let valueLevelSum = 0;
    for (let i = 0; i < count; i++) {
      const level = affineLevel(values[i], min, inverseScale, levelMax);
      candidate[i] = level;
      const weight = weights[i];
      levelSum += weight * level;
      levelSquareSum += weight * level * level;
      valueLevelSum += weight * level * values[i];
    }
    const determinant = this.weightSum * levelSquareSum - levelSum * levelSum;
    if (!(determinant > 0)) return Infinity;
    let candidateScale = (this.weightSum * valueLevelSum - this.weightedValueSum * levelSum) / determinant;
    let candidateMin = (levelSquareSum * this.weightedValueSum - levelSum * valueLevelSum) / determinant;
    if (candidateMin > 0) {
      candidateMin = 0;
      candidateScale = valueLevelSum / levelSquareSum;
    }
    this.scale = candidateScale;
    this.min = -candidateMin;
    // sum w (s l + m - x)^2, expanded into the sums at hand rather than summed again element by element.
    const s = candidateScale;
    const m = candidateMin;
    return (
      s * s * levelSquareSum + 2 * s * m * levelSum - 2 * s * valueLevelSum + m * m * this.weightSum - 2 * m * this.weightedValueSum + this.weightedValueSquareSum
    );
  }
}

/**
 * The level of (value - min) at `inverseScale`, clamped to 0..levelMax. Clamping before
 * rounding gives the same level and keeps an infinite or NaN product (a degenerate
 * candidate, whose min reached the maximum) in range.
 */
function affineLevel(value: number, min: number, inverseScale: number, levelMax: number): number {
  const scaled = inverseScale * (value - min);
  return scaled > 0 ? nearestInt(Math.min(scaled, levelMax)) : 0;
}

/** Below this largest magnitude a group counts as all zero (ggml's GROUP_MAX_EPS). */
export const groupMagnitudeEpsilon = 1e-15;

/**
 * Signed levels -levelMax..levelMax-1 for values[start, start + count), stored offset by
 * levelMax (so 0..2*levelMax-1) in levels[levelsStart, ...); returns the scale, with
 * value ≈ scale * (stored level - levelMax). This is make_qx_quants with weights x^2.
 *
 * The value of largest magnitude goes to level -levelMax, the end of the range that has
 * one more step, so the scale's sign is the opposite of that value's. Nineteen candidate
 * inverse scales around levelMax / max are each refitted by weighted least squares
 * (weights x^2, so large values count most); the one that explains most of the weighted
 * sum of squares wins.
 */
export function fitSymmetricLevels(values: Float32Array, start: number, count: number, levelMax: number, levels: Uint8Array, levelsStart: number): number {
  let magnitudeMax = 0;
  let extreme = 0;
  for (let i = 0; i < count; i++) {
    const magnitude = Math.abs(values[start + i]);
    if (magnitude > magnitudeMax) {
      magnitudeMax = magnitude;
      extreme = values[start + i];
    }
  }
  if (magnitudeMax < groupMagnitudeEpsilon) {
    levels.fill(0, levelsStart, levelsStart + count);
    return 0;
  }
  let inverseScale = -levelMax / extreme;
  let valueLevelSum = 0;
  let levelSquareSum = 0;
  for (let i = 0; i < count; i++) {
    const value = values[start + i];
    const level = symmetricLevel(value, inverseScale, levelMax);
    levels[levelsStart + i] = level + levelMax;
    const weight = value * value;
    valueLevelSum += weight * value * level;
    levelSquareSum += weight * level * level;
  }
  let scale = levelSquareSum !== 0 ? valueLevelSum / levelSquareSum : 0;
  let best = scale * valueLevelSum;
  for (let step = -9; step <= 9; step++) {
    if (step === 0) continue;
    inverseScale = -(levelMax + 0.1 * step) / extreme;
    let candidateValueLevelSum = 0;
    let candidateLevelSquareSum = 0;
    for (let i = 0; i < count; i++) {
      const value = values[start + i];
      const level = symmetricLevel(value, inverseScale, levelMax);
      const weight = value * value;
      candidateValueLevelSum += weight * value * level;
      candidateLevelSquareSum += weight * level * level;
    }
    // The candidate explains more of the weighted sum of squares: (sum w x l)^2 / sum w l^2 is larger.
    if (candidateLevelSquareSum > 0 && candidateValueLevelSum * candidateValueLevelSum > best * candidateLevelSquareSum) {
      for (let i = 0; i < count; i++) levels[levelsStart + i] = symmetricLevel(values[start + i], inverseScale, levelMax) + levelMax;
      scale = candidateValueLevelSum / candidateLevelSquareSum;
      best = scale * candidateValueLevelSum;
    }
  }
  return scale;
}

/** round(inverseScale * value), clamped to -levelMax..levelMax - 1 (clamped first, which gives the same level). */
function symmetricLevel(value: number, inverseScale: number, levelMax: number): number {
  return nearestInt(Math.max(-levelMax, Math.min(levelMax - 1, inverseScale * value)));
}
