/**
 * ggml's float32 arithmetic, emulated (src/model/kernels/ggml-arithmetic.ts), and the
 * element-wise steps built on it (vector.ts).
 *
 * The exp and SiLU bit patterns below come from ggml's AVX-512 lane functions
 * (ggml_v_expf, ggml_v_silu in ggml-cpu/vec.h, node-llama-cpp 3.21.1's llama.cpp) compiled
 * with gcc -mavx512f -mfma and run on these inputs; the emulation was also compared with
 * them on two million inputs (a sweep of [-110, 110] and random magnitudes from 2^-9 to
 * 2^7) with no difference. Several are inputs where ggml's exp is not the correctly
 * rounded one (exp(1) is 0x402df855, not 0x402df854), so a plain Math.exp fails them.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fusedMultiplyAdd, ggmlExp, ggmlSilu, reduceLanes16 } from '../../../src/model/kernels/ggml-arithmetic.js';
import { rmsNorm, ropeAngles, ropeThetaScale, softmaxInPlace } from '../../../src/model/kernels/vector.js';

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

function fromBits(bits: number): number {
  scratchBits[0] = bits;
  return scratch[0];
}

function bitsOf(value: number): number {
  scratch[0] = value;
  return scratchBits[0];
}

/** [x, ggml_v_expf(x), ggml_v_silu(x)] as float32 bit patterns, from ggml's compiled functions. */
const ggmlReference: Array<[number, number, number]> = [
  [0x00000000, 0x3f800000, 0x00000000],
  [0x3f800000, 0x402df855, 0x3f3b26a7],
  [0xc3480000, 0x00000000, 0x80000000],
  [0x42c80000, 0x7f800000, 0x42c80000],
  [0x3a83126f, 0x3f8020c9, 0x3a032336],
  [0xbf000000, 0x3f1b4597, 0xbe414d03],
  [0x41200000, 0x46ac14f0, 0x411ffe24],
  [0xc1200000, 0x383e6bce, 0xb9ee03fb],
  [0x42b00000, 0x7ef882b7, 0x42b00000],
  [0xc2c80000, 0x0000001b, 0x80000000],
  [0x40490fdb, 0x41b92025, 0x4040bbb1],
  [0xbe99999a, 0x3f3da644, 0xbe02bb33],
  [0x40000000, 0x40ec7326, 0x3fe17bea],
  [0xc0000000, 0x3e0a9555, 0xbe7420a9],
  [0x3e000000, 0x3f910b01, 0x3d87fd57],
  [0x41a00000, 0x4de75844, 0x41a00000],
  [0xc26f15a6, 0x145a0b18, 0x974ba2ce],
  [0xc26e350b, 0x1487c289, 0x977ca5fb],
  [0xc26b933b, 0x150312e8, 0x97f13b79],
  [0xc263adcb, 0x166bed8f, 0x9951d3d2],
];

describe('ggml arithmetic', () => {
  it("computes ggml's AVX-512 exp and SiLU to the bit", () => {
    for (const [x, exp, silu] of ggmlReference) {
      expect(bitsOf(ggmlExp(fromBits(x))).toString(16), `exp of 0x${x.toString(16)}`).toBe(exp.toString(16));
      expect(bitsOf(ggmlSilu(fromBits(x))).toString(16), `silu of 0x${x.toString(16)}`).toBe(silu.toString(16));
    }
    // Not the correctly rounded exp: a plain Math.exp would not pass the table.
    expect(bitsOf(Math.exp(1))).not.toBe(0x402df855);
  });

  it('stays within 2 ulp of e^x over the range softmax and SiLU use', () => {
    fc.assert(
      fc.property(fc.float({ min: -80, max: 80, noNaN: true }), (x) => {
        const ours = ggmlExp(Math.fround(x));
        const exact = Math.exp(Math.fround(x));
        const ulp = 2 ** (Math.floor(Math.log2(exact)) - 23);
        return Math.abs(ours - exact) <= 2 * ulp;
      }),
    );
  });

  it('rounds a multiply-add once, not twice', () => {
    // (1 + 2^-12)^2 - 1 = 2^-11 + 2^-24: a rounded product would lose the 2^-24.
    const a = 1 + 2 ** -12;
    expect(fusedMultiplyAdd(a, a, -1)).toBe(2 ** -11 + 2 ** -24);
    expect(Math.fround(Math.fround(a * a) - 1)).toBe(2 ** -11);
  });

  it('sums 16 lanes as a tree (i + 8, then i + 4, i + 2, i + 1), not left to right', () => {
    const lanes = new Float32Array(16);
    lanes[0] = 2 ** 24;
    lanes[4] = 1;
    lanes[12] = 1;
    // Left to right, each 1 is lost against 2^24 (ties to even); in the tree the two 1s meet first.
    expect(reduceLanes16(lanes)).toBe(2 ** 24 + 2);
    expect(Math.fround(Math.fround(2 ** 24 + 1) + 1)).toBe(2 ** 24);
  });
});

describe("element-wise steps in ggml's float32 order", () => {
  it('softmax: the scaled softmax to float32 precision, summing to 1, for lengths on and off the 16 lanes', () => {
    for (const length of [1, 5, 16, 17, 40, 193]) {
      const values = Float32Array.from({ length }, (_, i) => Math.sin(i * 1.7) * 12);
      const scale = Math.fround(1 / Math.sqrt(32));
      const scaled = Array.from(values, (value) => Math.fround(value * scale));
      const maximum = Math.max(...scaled);
      const total = scaled.reduce((sum, value) => sum + Math.exp(value - maximum), 0);
      softmaxInPlace(values, length, scale);
      let sum = 0;
      values.forEach((probability, i) => {
        expect(Math.abs(probability - Math.exp(scaled[i] - maximum) / total), `length ${length}, element ${i}`).toBeLessThan(1e-6);
        sum += probability;
      });
      expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
    }
  });

  it('RMSNorm: float32 squares summed in float64, the scale in float32, then (x * scale) * weight', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -50, max: 50, noNaN: true }), { minLength: 1, maxLength: 64 }), (values) => {
        const x = Float32Array.from(values);
        const weight = Float32Array.from(values, (_, i) => 1 + i / 64);
        const out = new Float32Array(x.length);
        rmsNorm(out, x, weight, 1e-5);
        let sum = 0;
        for (const value of x) sum += Math.fround(value * value);
        const scale = Math.fround(1 / Math.fround(Math.sqrt(Math.fround(Math.fround(sum / x.length) + Math.fround(1e-5)))));
        return out.every((value, i) => value === Math.fround(Math.fround(x[i] * scale) * weight[i]));
      }),
    );
  });

  it("RoPE angles: ggml's float32 theta, multiplied pair by pair by base^(-2/headDim)", () => {
    const cos = new Float32Array(16);
    const sin = new Float32Array(16);
    const thetaScale = ropeThetaScale(10000, 32);
    expect(thetaScale).toBe(Math.fround(10000 ** -(1 / 16)));
    ropeAngles(cos, sin, 77, thetaScale);
    let theta = 77;
    for (let i = 0; i < 16; i++) {
      expect(cos[i]).toBe(Math.fround(Math.cos(theta)));
      expect(sin[i]).toBe(Math.fround(Math.sin(theta)));
      theta = Math.fround(theta * thetaScale);
    }
    // Within float32 noise of the float64 angle 77 * 10000^(-2i/32), but not its bits.
    expect(Math.abs(cos[15] - Math.cos(77 * 10000 ** (-30 / 32)))).toBeLessThan(1e-5);
  });
});
