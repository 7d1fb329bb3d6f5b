/**
 * One block of each new type built byte by byte from ggml's layout (ggml-common.h, and
 * dequantize_row_* in ggml-quants.c), with the expected values computed here by the
 * format's formula. The scales are chosen so that every product is exact, so the
 * expected values are exact too.
 */
import { describe, expect, it } from 'vitest';
import {
  dequantizeQ4_0,
  dequantizeQ4_K,
  dequantizeQ5_0,
  dequantizeQ6_K,
  dequantizeTensor,
  q4KSubMin,
  q4KSubScale,
} from '../../../src/model/quant/index.js';

/** f16 bits of a few exact values: 1 = 0x3c00, 0.5 = 0x3800, 0.25 = 0x3400, 0.125 = 0x3000, -0.5 = 0xb800. */
const half = { one: 0x3c00, half: 0x3800, quarter: 0x3400, eighth: 0x3000, minusHalf: 0xb800 };

function putHalf(bytes: Uint8Array, at: number, bits: number): void {
  bytes[at] = bits & 0xff;
  bytes[at + 1] = bits >> 8;
}

describe('Q4_0 block: f16 d, then 16 bytes; byte j holds element j (low nibble) and j + 16 (high)', () => {
  it('decodes value = d * (q - 8)', () => {
    const quants = Array.from({ length: 32 }, (_, e) => (e * 5 + 3) % 16);
    const bytes = new Uint8Array(18);
    putHalf(bytes, 0, half.minusHalf);
    for (let j = 0; j < 16; j++) bytes[2 + j] = quants[j] | (quants[j + 16] << 4);
    const expected = quants.map((q) => -0.5 * (q - 8));
    expect(Array.from(dequantizeQ4_0(bytes, 32))).toEqual(expected);
    expect(Array.from(dequantizeTensor('Q4_0', bytes, 32))).toEqual(expected);
  });
});

describe('Q5_0 block: f16 d, 4 bytes qh (bit j = fifth bit of element j), then 16 bytes of nibbles as Q4_0', () => {
  it('decodes value = d * (q - 16) with q = nibble | fifth bit << 4', () => {
    const quants = Array.from({ length: 32 }, (_, e) => (e * 11 + 7) % 32);
    const bytes = new Uint8Array(22);
    putHalf(bytes, 0, half.quarter);
    let qh = 0;
    for (let e = 0; e < 32; e++) if (quants[e] & 16) qh += 2 ** e;
    for (let k = 0; k < 4; k++) bytes[2 + k] = Math.floor(qh / 2 ** (8 * k)) % 256;
    for (let j = 0; j < 16; j++) bytes[6 + j] = (quants[j] & 15) | ((quants[j + 16] & 15) << 4);
    // Elements 31 (q = 348 % 32 = 28, fifth bit set) and 0 (q = 7, clear): bit 31 is the top bit of qh's last byte.
    expect(bytes[5] >> 7).toBe(1);
    expect(bytes[2] & 1).toBe(0);
    const expected = quants.map((q) => 0.25 * (q - 16));
    expect(Array.from(dequantizeQ5_0(bytes, 32))).toEqual(expected);
  });
});

describe('Q4_K super-block: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles', () => {
  // Sub-block scales and mins chosen to use every bit position of the packing.
  const scales = [1, 2, 3, 4, 17, 33, 50, 63];
  const mins = [0, 5, 10, 63, 16, 31, 47, 2];
  // Packed by hand (get_scale_min_k4): bytes 0-3 hold scales 0-3 in their low 6 bits and the top
  // 2 bits of scales 4-7 above them; bytes 4-7 likewise for the mins; bytes 8-11 hold the low
  // nibbles of scale j (low) and min j (high) for j = 4..7.
  //   byte 0 = 1 | (17 >> 4) << 6 = 65      byte 4 = 0 | (16 >> 4) << 6 = 64     byte 8  = 17 & 15 | (16 & 15) << 4 = 1
  //   byte 1 = 2 | (33 >> 4) << 6 = 130     byte 5 = 5 | (31 >> 4) << 6 = 69     byte 9  = 33 & 15 | (31 & 15) << 4 = 241
  //   byte 2 = 3 | (50 >> 4) << 6 = 195     byte 6 = 10 | (47 >> 4) << 6 = 138   byte 10 = 50 & 15 | (47 & 15) << 4 = 242
  //   byte 3 = 4 | (63 >> 4) << 6 = 196     byte 7 = 63 | (2 >> 4) << 6 = 63     byte 11 = 63 & 15 | (2 & 15) << 4 = 47
  const packed = [65, 130, 195, 196, 64, 69, 138, 63, 1, 241, 242, 47];
  const quants = Array.from({ length: 256 }, (_, e) => (e * 7 + 3) % 16);

  function block(): Uint8Array {
    const bytes = new Uint8Array(144);
    putHalf(bytes, 0, half.half);
    putHalf(bytes, 2, half.quarter);
    bytes.set(packed, 4);
    // Each 32 bytes hold two sub-blocks of 32: the first in the low nibbles, the second in the high.
    for (let pair = 0; pair < 4; pair++) {
      for (let l = 0; l < 32; l++) bytes[16 + 32 * pair + l] = quants[64 * pair + l] | (quants[64 * pair + 32 + l] << 4);
    }
    return bytes;
  }

  it('unpacks the 6-bit scales and mins', () => {
    const bytes = block();
    expect(Array.from({ length: 8 }, (_, j) => q4KSubScale(bytes, 4, j))).toEqual(scales);
    expect(Array.from({ length: 8 }, (_, j) => q4KSubMin(bytes, 4, j))).toEqual(mins);
  });

  it('decodes value = d * scale_j * q - dmin * min_j for sub-block j = element / 32', () => {
    const expected = quants.map((q, e) => 0.5 * scales[e >> 5] * q - 0.25 * mins[e >> 5]);
    expect(Array.from(dequantizeQ4_K(block(), 256))).toEqual(expected);
  });
});

describe('Q6_K super-block: 128 bytes ql, 64 bytes qh, 16 int8 scales, f16 d', () => {
  const scales = [-128, 127, -1, 5, 0, 64, -64, 1, 2, 3, -3, 100, -100, 7, 9, -9];
  const quants = Array.from({ length: 256 }, (_, e) => (e * 13 + 5) % 64);

  function block(): Uint8Array {
    const bytes = new Uint8Array(210);
    // Element e = 128 half + 32 group + l: its low 4 bits are in ql[64 half + 32 (group & 1) + l]
    // (low nibble for groups 0 and 1, high for 2 and 3); its high 2 bits are bits 2 group of qh[32 half + l].
    for (let e = 0; e < 256; e++) {
      const halfIndex = e >> 7;
      const group = (e >> 5) & 3;
      const l = e & 31;
      const lowAt = 64 * halfIndex + 32 * (group & 1) + l;
      bytes[lowAt] |= (quants[e] & 15) << (group < 2 ? 0 : 4);
      bytes[128 + 32 * halfIndex + l] |= (quants[e] >> 4) << (2 * group);
    }
    scales.forEach((scale, j) => (bytes[192 + j] = scale & 0xff));
    putHalf(bytes, 208, half.eighth);
    return bytes;
  }

  it('decodes value = d * scale[element / 16] * (q - 32)', () => {
    const expected = quants.map((q, e) => 0.125 * scales[e >> 4] * (q - 32));
    const actual = Array.from(dequantizeQ6_K(block(), 256));
    // -0 and 0 differ only where the scale is 0: compare as numbers.
    expect(actual.map((value) => value + 0)).toEqual(expected.map((value) => value + 0));
  });

  it('decodes several blocks independently', () => {
    const two = new Uint8Array(420);
    two.set(block(), 0);
    two.set(block(), 210);
    two[210 + 208 + 1] = half.one >> 8; // second block's d = 1
    const values = dequantizeQ6_K(two, 512);
    for (let e = 0; e < 256; e++) expect(values[256 + e] + 0).toBe(scales[e >> 4] * (quants[e] - 32) + 0);
  });
});
