/**
 * Activations quantized to 8 bits, the way llama.cpp's CPU backend hands them to a
 * product with quantized weights: ggml multiplies a Q8_0, Q4_0 or Q5_0 weight row by an
 * activation of type Q8_0 and a Q4_K or Q6_K row by one of type Q8_K, in integers, and
 * scales each block's integer sum once. nines does the same, so that its logits are
 * llama.cpp's up to float32 summation order, rather than about 1% of the logit spread away.
 *
 * The rounding rules (ggml-cpu's x86 quantize_row_q8_0 and ggml's quantize_row_q8_K_ref):
 *
 *   Q8_0 — blocks of 32. amax = max |x|; the block's scale is d = amax / 127 rounded to
 *          a half (to nearest, ties to even); the quants are q = nearest(x * (127 / amax))
 *          (ties to even, in float32; note 127 / amax, not 1 / d), or 0 when amax is 0.
 *   Q8_K — blocks of 256. max is the first element of largest |x| (with its sign);
 *          iscale = -127 / max, q = min(127, nearest(iscale * x)) and d = 1 / iscale, all
 *          float32 (d negative when max is positive: d * q is then x again); everything 0
 *          when max is 0. The sums of the quants over each 32 are kept for Q4_K's mins.
 *
 * Every step is one float32 operation (Math.fround after each), so that the WebAssembly
 * quantizer (wasm/quantize-kernel.ts) gives the same bits.
 */
import { f32BitsToF16 } from '../quant/index.js';
import { halfToFloatTable } from './f16.js';

/** How a weight type wants its activations: as float32, or quantized to Q8_0 or Q8_K blocks. */
export type ActivationKind = 'F32' | 'Q8_0' | 'Q8_K';

/** Elements per activation block. */
export const activationBlockSize = { Q8_0: 32, Q8_K: 256 } as const;

/** Elements per Q8_K sum (a Q4_K sub-block). */
export const activationSumSize = 32;

/**
 * One row of quantized activations: the quants as int16 (the integer kernels multiply
 * int16 pairs, so they are widened once here rather than for every weight row), a
 * float32 scale per block, and for Q8_K the integer sum of each 32 quants.
 */
export interface QuantizedActivations {
  readonly kind: 'Q8_0' | 'Q8_K';
  readonly quants: Int16Array; // (cols)
  readonly scales: Float32Array; // (cols / blockSize)
  readonly sums: Int32Array; // (cols / 32) for Q8_K, empty for Q8_0
}

/** Room for one row of `cols` activations of `kind`. */
export function quantizedActivations(kind: 'Q8_0' | 'Q8_K', cols: number): QuantizedActivations {
  return {
    kind,
    quants: new Int16Array(cols),
    scales: new Float32Array(cols / activationBlockSize[kind]),
    sums: new Int32Array(kind === 'Q8_K' ? cols / activationSumSize : 0),
  };
}

const float32Scratch = new Float32Array(1);
const bitsScratch = new Uint32Array(float32Scratch.buffer);

/** The float32 nearest the (float32) value, rounded to a half and back. */
function roundedToHalf(value: number): number {
  float32Scratch[0] = value;
  return halfToFloatTable[f32BitsToF16(bitsScratch[0])];
}

/** 1.5 * 2^52: adding and subtracting it rounds a double of magnitude below 2^51 to an integer, ties to even. */
const roundingConstant = 6755399441055744;

/** The nearest integer to `value`, ties to even (WebAssembly's nearest, x86's round to nearest, ggml's nearest_int). */
export function nearestEven(value: number): number {
  return value + roundingConstant - roundingConstant;
}

/** Quantizes x[0 .. cols) into `out` (made by quantizedActivations for the same cols). */
export function quantizeActivations(out: QuantizedActivations, x: Float32Array, cols: number): void {
  if (out.kind === 'Q8_0') quantizeQ8_0(out, x, cols);
  else quantizeQ8_K(out, x, cols);
}

function quantizeQ8_0(out: QuantizedActivations, x: Float32Array, cols: number): void {
  const { quants, scales } = out;
  for (let block = 0; block < cols / 32; block++) {
    const start = block * 32;
    let amax = 0;
    for (let i = start; i < start + 32; i++) amax = Math.max(amax, Math.abs(x[i]));
    scales[block] = roundedToHalf(Math.fround(amax / 127));
    const inverse = amax === 0 ? 0 : Math.fround(127 / amax);
    for (let i = start; i < start + 32; i++) quants[i] = nearestEven(Math.fround(x[i] * inverse));
  }
}

function quantizeQ8_K(out: QuantizedActivations, x: Float32Array, cols: number): void {
  const { quants, scales, sums } = out;
  for (let block = 0; block < cols / 256; block++) {
    const start = block * 256;
    let amax = 0;
    let max = 0;
    for (let i = start; i < start + 256; i++) {
      const magnitude = Math.abs(x[i]);
      if (magnitude > amax) {
        amax = magnitude;
        max = x[i];
      }
    }
    if (amax === 0) {
      quants.fill(0, start, start + 256);
      scales[block] = 0;
      sums.fill(0, start / 32, (start + 256) / 32);
      continue;
    }
    const inverseScale = Math.fround(-127 / max);
    for (let i = start; i < start + 256; i++) quants[i] = Math.min(127, nearestEven(Math.fround(inverseScale * x[i])));
    scales[block] = Math.fround(1 / inverseScale);
    for (let sub = start / 32; sub < (start + 256) / 32; sub++) {
      let sum = 0;
      for (let i = 32 * sub; i < 32 * sub + 32; i++) sum += quants[i];
      sums[sub] = sum;
    }
  }
}
