/**
 * Whatever bytes arrive, the parser either returns a header whose tensors all lie inside
 * the file, or throws a GgufFormatError, and it does so quickly. Never a RangeError, a
 * TypeError, an out-of-memory crash or a hang.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteSourceFromBytes, encodeGgufToBytes, GgufFormatError, parseGgufHeader } from '../../../src/model/gguf/index.js';
import { sampleContent } from './fixtures.js';

const valid = encodeGgufToBytes(sampleContent(32));
const headerBytes = parseGgufHeader(byteSourceFromBytes(valid), 'valid').dataOffset;
// Generous, so a loaded machine does not fail it; a hang or a quadratic blow-up takes far longer.
const parseMillisecondsMax = 1000;

/** Parses, and holds the result to its promises; returns false only on a non-GgufFormatError or a slow parse. */
function parsesOrRefuses(bytes: Uint8Array): boolean {
  const started = performance.now();
  try {
    const header = parseGgufHeader(byteSourceFromBytes(bytes), 'fuzz.gguf');
    for (const tensor of header.tensors) {
      expect(header.dataOffset + tensor.offset + tensor.byteLength).toBeLessThanOrEqual(bytes.length);
      expect(tensor.offset % header.alignment).toBe(0);
    }
  } catch (error) {
    if (!(error instanceof GgufFormatError)) throw error;
    expect(error.message.startsWith('fuzz.gguf: ')).toBe(true);
  }
  expect(performance.now() - started).toBeLessThan(parseMillisecondsMax);
  return true;
}

/** A copy of the valid file with some changes applied. */
function corrupted(changes: ReadonlyArray<{ at: number; bytes: readonly number[] }>, length: number): Uint8Array {
  const bytes = valid.slice(0, length);
  for (const change of changes) {
    for (let index = 0; index < change.bytes.length && change.at + index < bytes.length; index++) bytes[change.at + index] = change.bytes[index];
  }
  return bytes;
}

const interestingWords = fc.constantFrom(
  [0, 0, 0, 0, 0, 0, 0, 0],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
  [0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0],
  [0x00, 0x00, 0x20, 0x00, 0, 0, 0, 0],
  [0x01, 0, 0, 0, 0, 0, 0, 0],
  [0x09, 0, 0, 0, 0, 0, 0, 0],
  [0x0d, 0, 0, 0, 0, 0, 0, 0],
);

describe('the header parser under random input', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), parsesOrRefuses), { numRuns: 1000 });
  });

  it('random bytes after a valid preamble', () => {
    const preamble = valid.subarray(0, 8);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (tail) => parsesOrRefuses(Uint8Array.from([...preamble, ...tail]))),
      { numRuns: 1000 },
    );
  });

  it('a valid file with random bytes changed and a random length', () => {
    const change = fc.record({ at: fc.nat({ max: headerBytes - 1 }), bytes: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 4 }) });
    fc.assert(
      fc.property(fc.array(change, { minLength: 1, maxLength: 6 }), fc.nat({ max: valid.length }), (changes, length) => parsesOrRefuses(corrupted(changes, length))),
      { numRuns: 1500 },
    );
  });

  it('a valid file with 64-bit fields overwritten by extreme values', () => {
    const change = fc.record({ at: fc.nat({ max: headerBytes - 1 }), bytes: interestingWords });
    fc.assert(
      fc.property(fc.array(change, { minLength: 1, maxLength: 3 }), (changes) => parsesOrRefuses(corrupted(changes, valid.length))),
      { numRuns: 1500 },
    );
  });
});
