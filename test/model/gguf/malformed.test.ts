import { describe, expect, it } from 'vitest';
import {
  arrayItemsMax,
  byteSourceFromBytes,
  encodeGgufToBytes,
  GgufFormatError,
  parseGgufHeader,
  stringBytesMax,
  type GgufHeader,
} from '../../../src/model/gguf/index.js';
import { sampleContent } from './fixtures.js';
import { RawGguf } from './raw-gguf.js';

const typeCodes = { uint8: 0, uint32: 4, bool: 7, string: 8, array: 9, uint64: 10 };

function parse(bytes: Uint8Array): GgufHeader {
  return parseGgufHeader(byteSourceFromBytes(bytes), 'model.gguf');
}

function refusal(bytes: Uint8Array | RawGguf): GgufFormatError {
  try {
    parse(bytes instanceof RawGguf ? bytes.build() : bytes);
  } catch (error) {
    if (error instanceof GgufFormatError) {
      expect(error.file).toBe('model.gguf');
      expect(error.message).toBe(`model.gguf: ${error.field}: ${error.problem}`);
      return error;
    }
    throw error;
  }
  throw new Error('the header was accepted');
}

/** A file with one metadata pair (key 'k') whose type and body the caller writes. */
function withValue(write: (raw: RawGguf) => RawGguf): RawGguf {
  return write(new RawGguf().preamble(0, 1).string('k'));
}

/** A file with one F32 tensor description and enough data after it, unless told otherwise. */
function withTensor(options: { name?: string; dims?: (number | bigint)[]; typeCode?: number; offset?: number | bigint; dataBytes?: number } = {}): RawGguf {
  const raw = new RawGguf().preamble(1, 0).tensor(options.name ?? 'w', options.dims ?? [4], options.typeCode ?? 0, options.offset ?? 0).padTo(32);
  return raw.zeros(options.dataBytes ?? 16);
}

describe('the header parser refuses', () => {
  it('a file that is not GGUF', () => {
    const error = refusal(new RawGguf().bytes([0x47, 0x47, 0x4d, 0x4c]).u32(3).u64(0).u64(0));
    expect(error.field).toBe('header.magic');
    expect(error.problem).toBe("expected the bytes 47 47 55 46 ('GGUF'), found 47 47 4d 4c; this is not a GGUF file");
  });

  it('an empty file', () => {
    expect(refusal(new Uint8Array(0)).field).toBe('header.magic');
  });

  it('version 1, naming why', () => {
    expect(refusal(new RawGguf().preamble(0, 0, 1)).problem).toMatch(/version 1 \(32-bit counts and lengths\) is not supported/);
  });

  it('unknown versions, and big-endian files', () => {
    expect(refusal(new RawGguf().preamble(0, 0, 4)).problem).toBe('version 4 is not supported; nines reads GGUF versions 2 and 3');
    expect(refusal(new RawGguf().preamble(0, 0, 0x0300_0000)).problem).toMatch(/big-endian/);
  });

  it('reads version 2 like version 3', () => {
    expect(parse(new RawGguf().preamble(0, 0, 2).build()).version).toBe(2);
  });

  it('a file truncated at any byte, naming the field it was reading', () => {
    const whole = encodeGgufToBytes(sampleContent(64));
    const header = parse(whole);
    const fields = new Set<string>();
    // Every cut inside the header, and a sample of cuts inside the data section.
    // (The padding after the last tensor is not needed, so cutting it leaves a valid file.)
    const dataEnd = Math.max(...header.tensors.map((tensor) => header.dataOffset + tensor.offset + tensor.byteLength));
    for (let length = 0; length < dataEnd; length += length < header.dataOffset + 64 ? 1 : 61) {
      const error = refusal(whole.subarray(0, length));
      fields.add(error.field.replace(/'[^']*'/, "'...'").replace(/\[\d+\]/g, '[i]'));
      if (length >= header.dataOffset) expect(error.problem).toMatch(/runs past the end of the file/);
    }
    // Truncation is reported against every kind of field there is.
    for (const field of ['header.magic', 'header.version', 'header.tensor_count', 'header.metadata_kv_count', 'metadata[i] key', "metadata '...' type", "metadata '...'", "metadata '...' count", "metadata '...'[i]", "tensor '...' n_dims", "tensor '...' offset"]) {
      expect(fields, field).toContain(field);
    }
  });

  it('a string longer than the file', () => {
    const error = refusal(new RawGguf().preamble(0, 1).u64(1000).bytes([0x61, 0x62]).zeros(20));
    expect(error.field).toBe('metadata[0] key');
    expect(error.problem).toMatch(/string of 1000 bytes at byte 32 runs past the end of the file \(54 bytes\)/);
  });

  it('a string longer than stringBytesMax, before reading it', () => {
    const error = refusal(withValue((raw) => raw.u32(typeCodes.string).u64(stringBytesMax + 1)));
    expect(error.field).toBe("metadata 'k'");
    expect(error.problem).toMatch(/longer than 16777216 bytes \(stringBytesMax\)/);
    expect(refusal(new RawGguf().preamble(0, 1).u64(65_536).zeros(20)).problem).toMatch(/keyBytesMax/);
  });

  it('absurd array counts, before allocating', () => {
    const absurd = refusal(withValue((raw) => raw.u32(typeCodes.array).u32(typeCodes.uint8).u64(2n ** 62n)));
    expect(absurd.field).toBe("metadata 'k' count");
    expect(absurd.problem).toMatch(/items is more than 16777216 \(arrayItemsMax\)/);
    // A count within the limit, but for more items than the file could hold.
    const started = performance.now();
    const tooMany = refusal(withValue((raw) => raw.u32(typeCodes.array).u32(typeCodes.uint64).u64(arrayItemsMax).zeros(64)));
    expect(tooMany.problem).toMatch(/an array of 16777216 uint64 items needs at least 134217728 bytes/);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('absurd tensor and metadata counts', () => {
    expect(refusal(new RawGguf().preamble(2n ** 63n, 0))).toMatchObject({ field: 'header.tensor_count', problem: expect.stringMatching(/tensorCountMax/) });
    expect(refusal(new RawGguf().preamble(0, 2n ** 64n - 1n))).toMatchObject({ field: 'header.metadata_kv_count', problem: expect.stringMatching(/metadataCountMax/) });
    expect(refusal(new RawGguf().preamble(60_000, 0).zeros(100))).toMatchObject({ field: 'header.tensor_count', problem: expect.stringMatching(/60000 tensor descriptions after the metadata needs at least/) });
    expect(refusal(new RawGguf().preamble(0, 60_000).zeros(100))).toMatchObject({ field: 'header.metadata_kv_count', problem: expect.stringMatching(/60000 metadata pairs needs at least 780000 bytes/) });
  });

  it('unknown value types, for values and for array items', () => {
    expect(refusal(withValue((raw) => raw.u32(13).u8(0)))).toMatchObject({ field: "metadata 'k' type", problem: 'unknown value type code 13; GGUF defines codes 0 to 12' });
    expect(refusal(withValue((raw) => raw.u32(typeCodes.array).u32(99).u64(0))).field).toBe("metadata 'k' item type");
  });

  it('a bool that is neither 0 nor 1', () => {
    expect(refusal(withValue((raw) => raw.u32(typeCodes.bool).u8(2)))).toMatchObject({ field: "metadata 'k'", problem: 'bool byte is 2; it must be 0 or 1' });
  });

  it('arrays nested too deep', () => {
    const raw = new RawGguf().preamble(0, 1).string('k').u32(typeCodes.array);
    for (let depth = 0; depth < 20; depth++) raw.u32(typeCodes.array).u64(1);
    raw.u32(typeCodes.uint8).u64(0);
    expect(refusal(raw).problem).toMatch(/arrays nested more than 8 deep \(arrayNestingDepthMax\)/);
  });

  it('invalid UTF-8 anywhere a string is', () => {
    const overlong = [0xc0, 0x80];
    const surrogate = [0xed, 0xa0, 0x80];
    const cut = [0x61, 0xe4, 0xb8];
    expect(refusal(new RawGguf().preamble(0, 1).string(overlong).u32(typeCodes.uint8).u8(0)).field).toBe('metadata[0] key');
    expect(refusal(withValue((raw) => raw.u32(typeCodes.string).string(surrogate))).problem).toMatch(/is not valid UTF-8/);
    const inArray = refusal(withValue((raw) => raw.u32(typeCodes.array).u32(typeCodes.string).u64(2).string('fine').string(cut)));
    expect(inArray.field).toBe("metadata 'k'[1]");
    expect(refusal(new RawGguf().preamble(1, 0).string(surrogate).u32(1).u64(4).u32(0).u64(0).padTo(32).zeros(16)).field).toBe('tensor[0] name');
  });

  it('duplicate metadata keys', () => {
    const raw = new RawGguf().preamble(0, 2).string('k').u32(typeCodes.uint8).u8(1).string('k').u32(typeCodes.uint8).u8(2);
    expect(refusal(raw)).toMatchObject({ field: "metadata 'k'", problem: 'the key appears twice (pairs 0 and 1)' });
  });

  it('an alignment that is not a power of two, too large, or not a uint32', () => {
    const alignment = (type: number, write: (raw: RawGguf) => RawGguf) => refusal(write(new RawGguf().preamble(0, 1).string('general.alignment').u32(type)));
    expect(alignment(typeCodes.uint32, (raw) => raw.u32(48))).toMatchObject({ field: "metadata 'general.alignment'", problem: '48 is not a power of two' });
    expect(alignment(typeCodes.uint32, (raw) => raw.u32(0)).problem).toBe('0 is not a power of two');
    expect(alignment(typeCodes.uint32, (raw) => raw.u32(2 ** 31)).problem).toMatch(/alignmentBytesMax/);
    expect(alignment(typeCodes.uint64, (raw) => raw.u64(32)).problem).toBe('must be a uint32, found uint64');
  });

  it('an unknown tensor type code', () => {
    const error = refusal(withTensor({ typeCode: 4 }));
    expect(error.field).toBe("tensor 'w' type");
    expect(error.problem).toMatch(/^unknown ggml type code 4; nines knows F32=0, F16=1/);
  });

  it('zero dims or more than four', () => {
    expect(refusal(withTensor({ dims: [] }))).toMatchObject({ field: "tensor 'w' n_dims", problem: expect.stringMatching(/^0 dims/) });
    expect(refusal(withTensor({ dims: [1, 1, 1, 1, 1] }))).toMatchObject({ field: "tensor 'w' n_dims", problem: expect.stringMatching(/^5 dims/) });
    expect(refusal(new RawGguf().preamble(1, 0).string('w').u32(0xffff_ffff).zeros(32)).field).toBe("tensor 'w' n_dims");
  });

  it('a dim of 0, and element counts beyond 2^53 - 1', () => {
    expect(refusal(withTensor({ dims: [4, 0] }))).toMatchObject({ field: "tensor 'w' dims[1]", problem: expect.stringMatching(/every dim must be at least 1/) });
    expect(refusal(withTensor({ dims: [2 ** 27, 2 ** 27] }))).toMatchObject({ field: "tensor 'w' dims", problem: expect.stringMatching(/more than 2\^53 - 1 elements/) });
    expect(refusal(withTensor({ dims: [2n ** 64n - 1n] })).field).toBe("tensor 'w' dims");
    // 2^51 F32 elements are countable, but their 2^53 bytes are not.
    expect(refusal(withTensor({ dims: [2 ** 51] })).problem).toMatch(/takes more than 2\^53 - 1 bytes/);
  });

  it('rows that are not whole blocks', () => {
    expect(refusal(withTensor({ dims: [48, 2], typeCode: 8 }))).toMatchObject({ field: "tensor 'w' dims[0]", problem: "row length 48 is not a multiple of Q8_0's block size 32" });
  });

  it('misaligned offsets', () => {
    expect(refusal(withTensor({ offset: 4, dataBytes: 64 }))).toMatchObject({ field: "tensor 'w' offset", problem: '4 is not a multiple of the alignment (32 bytes)' });
    expect(refusal(withTensor({ offset: 2n ** 60n })).problem).toMatch(/beyond any file nines can read/);
  });

  it('tensor data past the end of the file, saying where', () => {
    const error = refusal(withTensor({ dims: [16], dataBytes: 60 }));
    expect(error.message).toBe("model.gguf: tensor 'w' offset: 0 + 64 bytes runs past the end of the file (124 bytes; the data section starts at byte 64)");
    expect(parse(withTensor({ dims: [16], dataBytes: 64 }).build()).tensors[0].byteLength).toBe(64);
  });

  it('overlapping tensors', () => {
    const raw = new RawGguf().preamble(2, 0).tensor('a', [16], 0, 0).tensor('b', [8], 0, 32).padTo(32).zeros(96);
    expect(refusal(raw)).toMatchObject({ field: "tensor 'b' offset", problem: "bytes 32 to 64 overlap tensor 'a' (bytes 0 to 64)" });
    const adjacent = new RawGguf().preamble(2, 0).tensor('a', [8], 0, 0).tensor('b', [8], 0, 32).padTo(32).zeros(64);
    expect(parse(adjacent.build()).tensors.map((tensor) => tensor.offset)).toEqual([0, 32]);
  });

  it('duplicate tensor names', () => {
    const raw = new RawGguf().preamble(2, 0).tensor('w', [8], 0, 0).tensor('w', [8], 0, 32).padTo(32).zeros(64);
    expect(refusal(raw)).toMatchObject({ field: "tensor 'w' name", problem: 'the name appears twice (tensors 0 and 1)' });
  });

  it('tensor names longer than ggml allows', () => {
    expect(refusal(withTensor({ name: 'x'.repeat(64) })).problem).toMatch(/64 bytes is longer than 63 bytes \(tensorNameBytesMax\)/);
  });
});
