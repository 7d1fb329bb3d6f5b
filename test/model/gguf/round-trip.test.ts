import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openGguf, writeGgufFile } from '../../../src/model/gguf/gguf-file.js';
import { byteSourceFromBytes, encodeGgufToBytes, parseGgufHeader, type GgufValue } from '../../../src/model/gguf/index.js';
import { dequantizeTensor } from '../../../src/model/quant/index.js';
import { everyMetadataType, sampleContent, sampleTensors } from './fixtures.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'nines-gguf-round-trip-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

describe('GGUF write -> read', () => {
  for (const alignment of [undefined, 1, 8, 64, 4096]) {
    it(`round-trips every metadata type and every tensor type (alignment ${alignment ?? 'default'})`, () => {
      const content = sampleContent(alignment);
      const file = path.join(directory, `alignment-${alignment ?? 'default'}.gguf`);
      writeGgufFile(file, content);
      const gguf = openGguf(file);
      try {
        const expectedAlignment = alignment ?? 32;
        const expectedMetadata = new Map<string, GgufValue>(content.metadata);
        if (alignment !== undefined) expectedMetadata.set('general.alignment', { type: 'uint32', value: alignment });
        expect(gguf.version).toBe(3);
        expect(gguf.alignment).toBe(expectedAlignment);
        expect(gguf.metadata).toEqual(expectedMetadata);
        expect([...gguf.metadata.keys()]).toEqual([...expectedMetadata.keys()]);
        expect(gguf.dataOffset % expectedAlignment).toBe(0);
        expect(gguf.fileSize).toBe(fs.statSync(file).size);
        // Laid out as llama.cpp requires: in order, each tensor at the padded end of the one before, the file padded at the end.
        let expectedOffset = 0;
        for (const info of gguf.tensors) {
          expect(info.offset).toBe(expectedOffset);
          expectedOffset += Math.ceil(info.byteLength / expectedAlignment) * expectedAlignment;
        }
        expect(gguf.fileSize).toBe(gguf.dataOffset + expectedOffset);
        expect(gguf.tensors.map((tensor) => tensor.name)).toEqual(content.tensors.map((tensor) => tensor.name));
        for (const tensor of content.tensors) {
          const info = gguf.tensor(tensor.name)!;
          expect(info.dims).toEqual(tensor.dims);
          expect(info.type).toBe(tensor.type);
          expect(info.byteLength).toBe(tensor.data.length);
          expect(info.offset % expectedAlignment).toBe(0);
          const bytes = gguf.readTensor(tensor.name);
          expect(bytes.byteOffset).toBe(0);
          expect(bytes).toEqual(tensor.data);
        }
        // The writer and the in-memory encoder produce the same bytes, and the pure parser agrees with the file.
        const fileBytes = new Uint8Array(fs.readFileSync(file));
        expect(fileBytes).toEqual(encodeGgufToBytes(content));
        const { version, dataOffset, tensors, metadata } = parseGgufHeader(byteSourceFromBytes(fileBytes), file);
        expect({ version, dataOffset, tensors, metadata }).toEqual({ version: gguf.version, dataOffset: gguf.dataOffset, tensors: gguf.tensors, metadata: gguf.metadata });
      } finally {
        gguf.close();
      }
    });
  }

  it('keeps 64-bit values beyond 2^53 exact, as bigints', () => {
    const file = path.join(directory, 'bigint.gguf');
    writeGgufFile(file, { metadata: everyMetadataType(), tensors: [] });
    const gguf = openGguf(file);
    gguf.close();
    expect(gguf.metadata.get('test.uint64.beyond_safe')).toEqual({ type: 'uint64', value: 9007199254740993n });
    expect(gguf.metadata.get('test.uint64.max')).toEqual({ type: 'uint64', value: 18446744073709551615n });
    expect(Object.is((gguf.metadata.get('test.float32.negative_zero') as { value: number }).value, -0)).toBe(true);
  });

  it('reads back values that dequantize to the originals (F32 exactly)', () => {
    const file = path.join(directory, 'values.gguf');
    const tensors = sampleTensors(9);
    writeGgufFile(file, { metadata: [], tensors });
    const gguf = openGguf(file);
    try {
      const info = gguf.tensor('four.dims')!;
      expect(dequantizeTensor(info.type, gguf.readTensor('four.dims'), 120)).toEqual(dequantizeTensor('F32', tensors[5].data, 120));
    } finally {
      gguf.close();
    }
  });

  it('writes and reads a file with no tensors and no metadata', () => {
    const file = path.join(directory, 'empty.gguf');
    writeGgufFile(file, { metadata: [], tensors: [] });
    const gguf = openGguf(file);
    gguf.close();
    expect(gguf.tensors).toEqual([]);
    expect(gguf.metadata.size).toBe(0);
    expect(gguf.fileSize).toBe(32); // 24 bytes of preamble, padded to the default alignment
  });
});

describe('GGUF header larger than the encoder\'s first buffer', () => {
  // Regression: the encoder grows its buffer as it writes; a value written right across
  // a growth used to go through the old buffer's view and throw a RangeError.
  it('round-trips metadata of every width across many buffer growths', () => {
    for (let offset = 0; offset < 9; offset++) {
      const metadata: Array<[string, GgufValue]> = [
        ['test.padding', { type: 'string', value: 'x'.repeat(offset) }],
        ['test.strings', { type: 'array', itemType: 'string', values: Array.from({ length: 3000 }, (_, i) => `token-${i}`) }],
        ['test.uint64s', { type: 'array', itemType: 'uint64', values: Array.from({ length: 3000 }, (_, i) => BigInt(i) * 2n ** 40n) }],
        ['test.int32s', { type: 'array', itemType: 'int32', values: Array.from({ length: 3000 }, (_, i) => -i - 1) }],
        ['test.float64s', { type: 'array', itemType: 'float64', values: Array.from({ length: 3000 }, (_, i) => i / 7) }],
      ];
      const bytes = encodeGgufToBytes({ metadata, tensors: [] });
      const header = parseGgufHeader(byteSourceFromBytes(bytes), 'memory');
      expect(header.metadata).toEqual(new Map(metadata));
    }
  });
});
