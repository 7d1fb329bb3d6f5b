/** Content shared by the GGUF tests: every metadata type, and tensors of every supported type in several shapes. */
import { Rng } from '../../../src/core/rng.js';
import type { GgufContent, GgufTensorToWrite, GgufValue } from '../../../src/model/gguf/index.js';
import { quantizeTensor } from '../../../src/model/quant/index.js';

export function everyMetadataType(): Array<[string, GgufValue]> {
  return [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['test.uint8', { type: 'uint8', value: 255 }],
    ['test.int8', { type: 'int8', value: -128 }],
    ['test.uint16', { type: 'uint16', value: 65535 }],
    ['test.int16', { type: 'int16', value: -32768 }],
    ['test.uint32', { type: 'uint32', value: 0xffff_ffff }],
    ['test.int32', { type: 'int32', value: -0x8000_0000 }],
    ['test.float32', { type: 'float32', value: Math.fround(-3.14159) }],
    ['test.float32.negative_zero', { type: 'float32', value: -0 }],
    ['test.float32.infinity', { type: 'float32', value: Infinity }],
    ['test.float64', { type: 'float64', value: Math.PI }],
    ['test.float64.tiny', { type: 'float64', value: Number.MIN_VALUE }],
    ['test.uint64.max', { type: 'uint64', value: 2n ** 64n - 1n }],
    ['test.uint64.beyond_safe', { type: 'uint64', value: 2n ** 53n + 1n }],
    ['test.int64.min', { type: 'int64', value: -(2n ** 63n) }],
    ['test.int64.max', { type: 'int64', value: 2n ** 63n - 1n }],
    ['test.bool.true', { type: 'bool', value: true }],
    ['test.bool.false', { type: 'bool', value: false }],
    ['test.string.unicode', { type: 'string', value: 'héllo wörld, 世界, 🎉, a NUL \u0000 inside' }],
    ['test.string.bom', { type: 'string', value: '\uFEFFstarts with a byte-order mark' }],
    ['test.string.empty', { type: 'string', value: '' }],
    ['test.ключ.unicode_key', { type: 'string', value: 'keys may be UTF-8 too' }],
    ['test.array.empty', { type: 'array', itemType: 'uint32', values: [] }],
    ['test.array.uint8', { type: 'array', itemType: 'uint8', values: [0, 1, 255] }],
    ['test.array.int8', { type: 'array', itemType: 'int8', values: [-128, 0, 127] }],
    ['test.array.uint16', { type: 'array', itemType: 'uint16', values: [0, 65535] }],
    ['test.array.int16', { type: 'array', itemType: 'int16', values: [-32768, 32767] }],
    ['test.array.uint32', { type: 'array', itemType: 'uint32', values: [0, 0xffff_ffff] }],
    ['test.array.int32', { type: 'array', itemType: 'int32', values: [-0x8000_0000, 0x7fff_ffff] }],
    ['test.array.float32', { type: 'array', itemType: 'float32', values: [Math.fround(0.1), -0, -Infinity] }],
    ['test.array.float64', { type: 'array', itemType: 'float64', values: [0.1, 1e308] }],
    ['test.array.uint64', { type: 'array', itemType: 'uint64', values: [0n, 2n ** 64n - 1n] }],
    ['test.array.int64', { type: 'array', itemType: 'int64', values: [-(2n ** 63n), 2n ** 62n + 3n] }],
    ['test.array.bool', { type: 'array', itemType: 'bool', values: [true, false, true] }],
    ['test.array.string', { type: 'array', itemType: 'string', values: ['Ġthe', '', '世界', '<|endoftext|>'] }],
    [
      'test.array.nested',
      {
        type: 'array',
        itemType: 'array',
        values: [
          { type: 'array', itemType: 'string', values: ['a', 'b'] },
          { type: 'array', itemType: 'int64', values: [] },
          { type: 'array', itemType: 'array', values: [{ type: 'array', itemType: 'bool', values: [false] }] },
        ],
      },
    ],
    ['test.array.nested_empty', { type: 'array', itemType: 'array', values: [] }],
  ];
}

/** Tensors of F32, F16 and Q8_0 in 1 to 4 dims, filled with seeded random values. */
export function sampleTensors(seed = 1): GgufTensorToWrite[] {
  const rng = new Rng(seed);
  const make = (name: string, dims: number[], type: GgufTensorToWrite['type']): GgufTensorToWrite => {
    const count = dims.reduce((product, dim) => product * dim, 1);
    const values = Float32Array.from({ length: count }, () => rng.nextGaussian());
    return { name, dims, type, data: quantizeTensor(type, values) };
  };
  return [
    make('token_embd.weight', [64, 10], 'Q8_0'),
    make('output_norm.weight', [7], 'F32'),
    make('blk.0.attn_q.weight', [3, 5], 'F16'),
    make('blk.0.ffn_up.weight', [32], 'Q8_0'),
    make('one', [1], 'F16'),
    make('four.dims', [2, 3, 4, 5], 'F32'),
    make('three.dims', [96, 2, 2], 'Q8_0'),
  ];
}

export function sampleContent(alignment?: number): GgufContent {
  return { metadata: everyMetadataType(), tensors: sampleTensors(), alignment };
}
