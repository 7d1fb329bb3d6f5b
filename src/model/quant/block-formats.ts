/**
 * The block formats by type: how each one quantizes, dequantizes, and where in a block its
 * f16 scales sit (the only stored numbers of a block that can be infinite or NaN, and so
 * the ones validation checks; every quant bit pattern is a legitimate value).
 */
import { type BlockTensorType } from './block-types.js';
import { dequantizeQ4_0, quantizeQ4_0 } from './q4-0.js';
import { dequantizeQ4_K, quantizeQ4_K } from './q4-k.js';
import { dequantizeQ5_0, quantizeQ5_0 } from './q5-0.js';
import { dequantizeQ6_K, q6KScaleOffset, quantizeQ6_K } from './q6-k.js';
import { dequantizeQ8_0, quantizeQ8_0 } from './q8-0.js';

export interface BlockFormat {
  /** Values (a whole number of blocks, all finite) to bytes. */
  quantize(values: Float32Array): Uint8Array;
  /** `count` values from bytes of exactly the matching length, as llama.cpp's dequantize_row_* decodes them. */
  dequantize(bytes: Uint8Array, count: number): Float32Array;
  /** The f16 scales of a block: their byte offsets within it and what a message calls them. */
  scales: ReadonlyArray<{ offset: number; name: string }>;
}

const leadingScale = [{ offset: 0, name: 'scale' }];

export const blockFormats: Record<BlockTensorType, BlockFormat> = {
  Q4_0: { quantize: quantizeQ4_0, dequantize: dequantizeQ4_0, scales: leadingScale },
  Q5_0: { quantize: quantizeQ5_0, dequantize: dequantizeQ5_0, scales: leadingScale },
  Q8_0: { quantize: quantizeQ8_0, dequantize: dequantizeQ8_0, scales: leadingScale },
  Q4_K: {
    quantize: quantizeQ4_K,
    dequantize: dequantizeQ4_K,
    scales: [
      { offset: 0, name: 'scale d' },
      { offset: 2, name: 'min scale dmin' },
    ],
  },
  Q6_K: { quantize: quantizeQ6_K, dequantize: dequantizeQ6_K, scales: [{ offset: q6KScaleOffset, name: 'scale d' }] },
};
