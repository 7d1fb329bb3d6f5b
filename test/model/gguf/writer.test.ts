import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openGguf, writeGgufFile } from '../../../src/model/gguf/gguf-file.js';
import { GgufEncodeError, type GgufContent, type GgufValue } from '../../../src/model/gguf/index.js';
import { sampleContent, sampleTensors } from './fixtures.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'nines-gguf-writer-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

function encodeError(content: GgufContent, name: string): GgufEncodeError {
  const file = path.join(directory, name);
  try {
    writeGgufFile(file, content);
  } catch (error) {
    if (!(error instanceof GgufEncodeError)) throw error;
    // Content is checked completely before anything is written: no file, no temporary left behind.
    expect(fs.readdirSync(directory).filter((entry) => entry.startsWith(name))).toEqual([]);
    return error;
  }
  throw new Error('expected a GgufEncodeError');
}

const tensor = sampleTensors()[1]; // output_norm.weight, F32 [7]
const metadataWith = (value: GgufValue): GgufContent => ({ metadata: [['bad', value]], tensors: [] });

describe('writeGgufFile refuses content it cannot encode faithfully', () => {
  const cases: Array<[string, GgufContent, string, RegExp]> = [
    ['duplicate tensor names', { metadata: [], tensors: [tensor, tensor] }, "tensor 'output_norm.weight' name", /appears twice/],
    ['duplicate metadata keys', { metadata: [['k', { type: 'bool', value: true }], ['k', { type: 'bool', value: false }]], tensors: [] }, "metadata 'k'", /appears twice/],
    ['data of the wrong length', { metadata: [], tensors: [{ ...tensor, data: new Uint8Array(27) }] }, "tensor 'output_norm.weight' data", /27 bytes, but F32 \[7\] takes 28 bytes/],
    ['a Q8_0 row that is not whole blocks', { metadata: [], tensors: [{ name: 'q', dims: [33, 2], type: 'Q8_0', data: new Uint8Array(0) }] }, "tensor 'q' dims[0]", /multiple of Q8_0's block size 32/],
    ['a zero dim', { metadata: [], tensors: [{ name: 'z', dims: [4, 0], type: 'F32', data: new Uint8Array(0) }] }, "tensor 'z' dims[1]", /at least 1/],
    ['five dims', { metadata: [], tensors: [{ name: 'f', dims: [1, 1, 1, 1, 1], type: 'F32', data: new Uint8Array(4) }] }, "tensor 'f' n_dims", /1 to 4/],
    ['no dims', { metadata: [], tensors: [{ name: 'f', dims: [], type: 'F32', data: new Uint8Array(4) }] }, "tensor 'f' n_dims", /0 dims/],
    ['an unknown tensor type', { metadata: [], tensors: [{ name: 't', dims: [1], type: 'Q9_9' as 'F32', data: new Uint8Array(4) }] }, "tensor 't' type", /unknown ggml type 'Q9_9'/],
    ['a tensor name longer than ggml allows', { metadata: [], tensors: [{ ...tensor, name: 'n'.repeat(64) }] }, 'tensor[0] name', /64 bytes is longer than 63 bytes \(tensorNameBytesMax\)/],
    ['a uint8 of 256', metadataWith({ type: 'uint8', value: 256 }), "metadata 'bad'", /256 is not a uint8/],
    ['a fractional int32', metadataWith({ type: 'int32', value: 1.5 }), "metadata 'bad'", /1.5 is not a int32/],
    ['a uint64 given as a number', metadataWith({ type: 'uint64', value: 5 as unknown as bigint }), "metadata 'bad'", /is not a uint64 \(a bigint/],
    ['a negative uint64', metadataWith({ type: 'uint64', value: -1n }), "metadata 'bad'", /-1 is not a uint64/],
    ['a lone surrogate', metadataWith({ type: 'string', value: 'a\uD800b' }), "metadata 'bad'", /lone UTF-16 surrogate/],
    ['a wrong array item', metadataWith({ type: 'array', itemType: 'int8', values: [1, 200] }), "metadata 'bad'[1]", /200 is not a int8/],
    ['a non-boolean bool', metadataWith({ type: 'bool', value: 1 as unknown as boolean }), "metadata 'bad'", /expected a boolean/],
    ['an alignment that is not a power of two', { metadata: [], tensors: [], alignment: 48 }, 'alignment', /48 must be a power of two/],
    ['an alignment disagreeing with the metadata', { metadata: [['general.alignment', { type: 'uint32', value: 64 }]], tensors: [], alignment: 32 }, "metadata 'general.alignment'", /64 disagrees with the alignment option 32/],
    ['an alignment of the wrong type', { metadata: [['general.alignment', { type: 'uint64', value: 64n }]], tensors: [] }, "metadata 'general.alignment'", /must be a uint32/],
  ];
  for (const [label, content, field, problem] of cases) {
    it(label, () => {
      const error = encodeError(content, label.replaceAll(' ', '-'));
      expect(error.field).toBe(field);
      expect(error.problem).toMatch(problem);
      expect(error.message.startsWith(path.join(directory, label.replaceAll(' ', '-')))).toBe(true);
    });
  }

  it('refuses arrays nested deeper than arrayNestingDepthMax', () => {
    let value: GgufValue = { type: 'array', itemType: 'bool', values: [] };
    for (let depth = 0; depth < 8; depth++) value = { type: 'array', itemType: 'array', values: [value] };
    expect(encodeError(metadataWith(value), 'deep').problem).toMatch(/nested more than 8 deep/);
  });
});

describe('writeGgufFile writes atomically', () => {
  it('replaces an existing file and leaves no temporary behind', () => {
    const file = path.join(directory, 'replace.gguf');
    fs.writeFileSync(file, 'an older file');
    writeGgufFile(file, sampleContent());
    expect(fs.readdirSync(directory).filter((entry) => entry.startsWith('replace.gguf'))).toEqual(['replace.gguf']);
    const gguf = openGguf(file);
    gguf.close();
    expect(gguf.tensors.length).toBe(7);
  });

  it('takes the alignment from general.alignment when no option is given', () => {
    const file = path.join(directory, 'metadata-alignment.gguf');
    writeGgufFile(file, { metadata: [['general.alignment', { type: 'uint32', value: 128 }]], tensors: sampleTensors() });
    const gguf = openGguf(file);
    gguf.close();
    expect(gguf.alignment).toBe(128);
    expect(gguf.dataOffset % 128).toBe(0);
    expect(gguf.tensors.every((info) => info.offset % 128 === 0)).toBe(true);
  });

  it('removes its temporary file when the final rename fails', () => {
    // A non-empty directory at the target makes the rename, the last step, fail.
    const target = path.join(directory, 'occupied');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'inside'), 'x');
    expect(() => writeGgufFile(target, sampleContent())).toThrow();
    expect(fs.readdirSync(directory).filter((entry) => entry.startsWith('occupied'))).toEqual(['occupied']);
    expect(fs.readdirSync(target)).toEqual(['inside']);
  });
});
