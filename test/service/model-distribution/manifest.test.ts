import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  buildManifest,
  checkManifest,
  chunkCount,
  chunkMatches,
  chunkSpan,
  chunksMax,
  encodeManifest,
  ManifestBuilder,
  ManifestInvalidError,
  manifestId,
  manifestProblem,
  ModelNameInvalidError,
  modelFileKey,
  modelNameProblem,
  checkModelName,
  type Manifest,
} from '../../../src/service/model-distribution/index.js';
import { Rng } from '../../../src/core/rng.js';

const chunkBytes = 4096;

function randomBytes(length: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index++) bytes[index] = rng.nextInt(256);
  return bytes;
}

describe('the manifest of a model file', () => {
  it('cuts a file into fixed chunks, the last one short, each named by its SHA-256', () => {
    const bytes = randomBytes(3 * chunkBytes + 100, 1);
    const manifest = buildManifest('tiny', bytes, chunkBytes);
    expect(manifest).toMatchObject({ version: 1, name: 'tiny', fileBytes: bytes.length, chunkBytes });
    expect(manifest.chunkHashes).toHaveLength(4);
    expect(manifest.chunkHashes[3]).toBe(createHash('sha256').update(bytes.subarray(3 * chunkBytes)).digest('hex'));
    expect(chunkSpan(manifest, 3)).toEqual({ offset: 3 * chunkBytes, bytes: 100 });
    expect(chunkMatches(manifest, 1, bytes.subarray(chunkBytes, 2 * chunkBytes))).toBe(true);
    expect(chunkMatches(manifest, 2, bytes.subarray(chunkBytes, 2 * chunkBytes))).toBe(false);
    const flipped = bytes.slice(0, chunkBytes);
    flipped[17] ^= 1;
    expect(chunkMatches(manifest, 0, flipped)).toBe(false);
  });

  it('names the manifest by the hash of its canonical encoding: one byte changed, another id', () => {
    const bytes = randomBytes(2 * chunkBytes, 2);
    const manifest = buildManifest('tiny', bytes, chunkBytes);
    expect(manifestId(manifest)).toBe(createHash('sha256').update(encodeManifest(manifest)).digest('hex'));
    // The same fields in another key order are the same manifest.
    const reordered = { chunkHashes: manifest.chunkHashes, chunkBytes, fileBytes: manifest.fileBytes, name: 'tiny', version: 1 } as Manifest;
    expect(manifestId(reordered)).toBe(manifestId(manifest));
    bytes[5000] ^= 0x80;
    expect(manifestId(buildManifest('tiny', bytes, chunkBytes))).not.toBe(manifestId(manifest));
    expect(manifestId(buildManifest('other', bytes, chunkBytes))).not.toBe(manifestId(buildManifest('tiny', bytes, chunkBytes)));
  });

  it('checks every manifest received: sizes, counts, hash shapes, consistency', () => {
    const good = buildManifest('tiny', randomBytes(2 * chunkBytes + 1, 3), chunkBytes);
    expect(manifestProblem(good)).toBeUndefined();
    const cases: [unknown, RegExp][] = [
      [null, /must be an object/],
      [{ ...good, version: 2 }, /version must be 1/],
      [{ ...good, name: '../etc/passwd' }, /name/],
      [{ ...good, chunkBytes: 100 }, /chunkBytes must be a power of two/],
      [{ ...good, chunkBytes: 1.5 * chunkBytes }, /chunkBytes must be a power of two/],
      [{ ...good, fileBytes: -1 }, /fileBytes must be an integer/],
      [{ ...good, fileBytes: 2 ** 60 }, /fileBytes must be an integer/],
      [{ ...good, fileBytes: good.fileBytes + chunkBytes }, /has 4 chunks, but the manifest lists 3 hashes/],
      [{ ...good, chunkHashes: good.chunkHashes.slice(1) }, /has 3 chunks, but the manifest lists 2/],
      [{ ...good, chunkHashes: [good.chunkHashes[0], 'A'.repeat(64), good.chunkHashes[2]] }, /chunkHashes\[1\] must be 64 lower-case hex/],
      [{ ...good, chunkHashes: [good.chunkHashes[0], 'ab', good.chunkHashes[2]] }, /chunkHashes\[1\]/],
      [{ ...good, chunkHashes: [good.chunkHashes[0], 7, good.chunkHashes[2]] }, /chunkHashes\[1\]/],
      [{ ...good, chunkHashes: 'not a list' }, /must be an array/],
      [{ ...good, fileBytes: (chunksMax + 1) * chunkBytes, chunkHashes: new Array<string>(chunksMax + 1).fill(good.chunkHashes[0]) }, /at most 65536 chunks/],
    ];
    for (const [value, message] of cases) {
      expect(manifestProblem(value)).toMatch(message);
      expect(() => checkManifest(value, 'peer x')).toThrow(ManifestInvalidError);
    }
    expect(() => checkManifest({ ...good, fileBytes: 1 }, 'peer x')).toThrow(/the manifest from peer x is invalid: a file of 1 bytes/);
  });

  it('keeps only the manifest fields of what it checks', () => {
    const good = buildManifest('tiny', randomBytes(10, 4), chunkBytes);
    expect(checkManifest({ ...good, extra: 'x'.repeat(100) }, 'peer')).toEqual(good);
  });

  it('takes plain model names only, since they become file names', () => {
    for (const name of ['nines-kjv', 'Qwen2.5-0.5B', 'a', 'model_1']) expect(modelNameProblem(name)).toBeUndefined();
    for (const name of ['', '.hidden', '-x', 'a/b', 'a b', '..', 'x'.repeat(129), 'é']) expect(modelNameProblem(name)).toBeDefined();
    expect(() => checkModelName('a/b')).toThrow(ModelNameInvalidError);
    expect(modelFileKey('nines-kjv')).toMatch(/^[0-9a-f]{40}$/);
    expect(modelFileKey('nines-kjv')).not.toBe(modelFileKey('nines-kjv2'));
  });

  it('builds the same manifest whatever pieces the file streams in (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 * chunkBytes + 7 }), fc.array(fc.integer({ min: 1, max: 3 * chunkBytes }), { minLength: 1, maxLength: 20 }), fc.integer(), (size, pieceSizes, seed) => {
        const bytes = randomBytes(size, seed);
        const whole = buildManifest('tiny', bytes, chunkBytes);
        const builder = new ManifestBuilder('tiny', chunkBytes);
        for (let start = 0, piece = 0; start < size; piece++) {
          const end = Math.min(size, start + pieceSizes[piece % pieceSizes.length]);
          builder.update(bytes.subarray(start, end));
          start = end;
        }
        expect(builder.finish()).toEqual(whole);
      }),
      { numRuns: 60 },
    );
  });

  it('covers any file exactly with its chunks: no gap, no overlap, each chunk verifies (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 * chunkBytes }), fc.constantFrom(4096, 8192, 16384), fc.integer(), (size, chunkSize, seed) => {
        const bytes = randomBytes(size, seed);
        const manifest = buildManifest('tiny', bytes, chunkSize);
        expect(manifest.chunkHashes.length).toBe(chunkCount(size, chunkSize));
        expect(manifestProblem(manifest)).toBeUndefined();
        let covered = 0;
        for (let index = 0; index < manifest.chunkHashes.length; index++) {
          const { offset, bytes: length } = chunkSpan(manifest, index);
          expect(offset).toBe(covered);
          expect(length).toBeGreaterThan(0);
          expect(length).toBeLessThanOrEqual(chunkSize);
          expect(chunkMatches(manifest, index, bytes.subarray(offset, offset + length))).toBe(true);
          covered += length;
        }
        expect(covered).toBe(size);
      }),
      { numRuns: 60 },
    );
  });
});
