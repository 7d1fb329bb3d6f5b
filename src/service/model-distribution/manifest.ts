/**
 * Content addressing of a model file: the file cut into fixed-size chunks, each named by its
 * SHA-256, and the list of those hashes (the manifest) named in turn by the SHA-256 of its
 * canonical encoding (the manifest id). Whoever holds the manifest can check every chunk from
 * any peer on its own, and two peers that agree on the manifest id agree on every byte.
 *
 * Plain functions over bytes, no I/O: the file shell (model-files.ts) streams files through
 * `ManifestBuilder`, and everything received from a peer goes through `checkManifest`.
 */
import { createHash, type Hash } from 'node:crypto';
import { assert } from '../../core/assert.js';
import {
  chunkBytesDefault,
  chunkBytesMax,
  chunkBytesMin,
  chunkHashHexLength,
  chunksMax,
  fileBytesMax,
  manifestVersion,
  modelNameLengthMax,
} from './constants.js';
import { ManifestInvalidError, ModelNameInvalidError } from './errors.js';

export interface Manifest {
  version: number;
  /** The model's name (its GGUF `general.name`), also the file name it is stored under. */
  name: string;
  fileBytes: number;
  /** Every chunk has this many bytes but the last, which has the rest. */
  chunkBytes: number;
  /** SHA-256 of each chunk, in file order, as 64 lower-case hex digits. */
  chunkHashes: string[];
}

const modelNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const chunkHashPattern = /^[0-9a-f]{64}$/;

const isInteger = (value: unknown, min: number, max: number): value is number => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
/** Chunk sizes are powers of two, so that every peer's chunks line up with the same file offsets. */
const isChunkBytes = (value: unknown): value is number => isInteger(value, chunkBytesMin, chunkBytesMax) && (value & (value - 1)) === 0;

/** Why `name` cannot name a model, or undefined. Names become file names, so they are plain. */
export function modelNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'a model name must be a string';
  if (name.length === 0 || name.length > modelNameLengthMax) return `a model name has 1 to ${modelNameLengthMax} characters, got ${name.length}`;
  if (!modelNamePattern.test(name)) return `a model name holds only letters, digits, '.', '_' and '-' and starts with a letter or digit, got ${JSON.stringify(name)}`;
  return undefined;
}

export function checkModelName(name: string): string {
  const problem = modelNameProblem(name);
  if (problem !== undefined) throw new ModelNameInvalidError(`${problem} (the name is the model's general.name, e.g. nines-kjv)`);
  return name;
}

/** The DHT key under which the peers that hold the file of `name` are recorded: 160 bits of SHA-256. */
export function modelFileKey(name: string): string {
  return createHash('sha256').update(`nines-model-file:${name}`).digest('hex').slice(0, 40);
}

/** Chunks a file of `fileBytes` is cut into: the last one may be short; an empty file has none. */
export function chunkCount(fileBytes: number, chunkBytes: number): number {
  return Math.ceil(fileBytes / chunkBytes);
}

/** Where chunk `index` lies in the file. */
export function chunkSpan(layout: { fileBytes: number; chunkBytes: number }, index: number): { offset: number; bytes: number } {
  const offset = index * layout.chunkBytes;
  assert(Number.isSafeInteger(index) && index >= 0 && offset < layout.fileBytes, `chunk ${index} is outside a file of ${layout.fileBytes} bytes`);
  return { offset, bytes: Math.min(layout.chunkBytes, layout.fileBytes - offset) };
}

export function chunkHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Whether `bytes` are chunk `index` of the manifest's file: the right length and the right hash. */
export function chunkMatches(manifest: Manifest, index: number, bytes: Uint8Array): boolean {
  return bytes.byteLength === chunkSpan(manifest, index).bytes && chunkHash(bytes) === manifest.chunkHashes[index];
}

/**
 * Builds a manifest from a file's bytes as they stream past, in pieces of any size: each
 * piece is hashed into the current chunk, which is closed whenever it reaches `chunkBytes`.
 * The file is read once and never held whole.
 */
export class ManifestBuilder {
  private readonly hashes: string[] = [];
  private current: Hash | undefined;
  private currentBytes = 0;
  private totalBytes = 0;

  constructor(
    private readonly name: string,
    private readonly chunkBytes: number = chunkBytesDefault,
  ) {
    checkModelName(name);
    assert(isChunkBytes(chunkBytes), `chunkBytes must be a power of two from ${chunkBytesMin} to ${chunkBytesMax}`);
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.totalBytes;
  }

  update(piece: Uint8Array): void {
    let start = 0;
    while (start < piece.byteLength) {
      this.current ??= createHash('sha256');
      const take = Math.min(this.chunkBytes - this.currentBytes, piece.byteLength - start);
      this.current.update(piece.subarray(start, start + take));
      this.currentBytes += take;
      start += take;
      if (this.currentBytes === this.chunkBytes) this.closeChunk();
    }
    this.totalBytes += piece.byteLength;
  }

  finish(): Manifest {
    if (this.current !== undefined) this.closeChunk();
    return { version: manifestVersion, name: this.name, fileBytes: this.totalBytes, chunkBytes: this.chunkBytes, chunkHashes: [...this.hashes] };
  }

  private closeChunk(): void {
    this.hashes.push(this.current!.digest('hex'));
    this.current = undefined;
    this.currentBytes = 0;
  }
}

/** The manifest of a file held in memory (tests, small files); files on disk go through `ManifestBuilder` in pieces. */
export function buildManifest(name: string, bytes: Uint8Array, chunkBytes: number = chunkBytesDefault): Manifest {
  const builder = new ManifestBuilder(name, chunkBytes);
  builder.update(bytes);
  return builder.finish();
}

/**
 * The canonical encoding: JSON with the fields in one fixed order. It is canonical because a
 * checked manifest holds only safe integers, a name of plain ASCII and lower-case hex, each of
 * which JSON writes in exactly one way.
 */
export function encodeManifest(manifest: Manifest): string {
  const { version, name, fileBytes, chunkBytes, chunkHashes } = manifest;
  return JSON.stringify({ version, name, fileBytes, chunkBytes, chunkHashes });
}

/** The manifest's id: SHA-256 of its canonical encoding, 64 hex digits. */
export function manifestId(manifest: Manifest): string {
  return createHash('sha256').update(encodeManifest(manifest)).digest('hex');
}

/** Why `value` is not a usable manifest, or undefined. Every size, count and hash shape is checked, and the count against the sizes. */
export function manifestProblem(value: unknown): string | undefined {
  const manifest = value as Partial<Manifest> | null;
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) return 'a manifest must be an object';
  if (manifest.version !== manifestVersion) return `manifest version must be ${manifestVersion}, got ${JSON.stringify(manifest.version)}`;
  const nameProblem = modelNameProblem(manifest.name);
  if (nameProblem !== undefined) return `manifest name: ${nameProblem}`;
  if (!isChunkBytes(manifest.chunkBytes)) return `manifest chunkBytes must be a power of two from ${chunkBytesMin} to ${chunkBytesMax}, got ${JSON.stringify(manifest.chunkBytes)}`;
  if (!isInteger(manifest.fileBytes, 0, fileBytesMax)) return `manifest fileBytes must be an integer from 0 to ${fileBytesMax}, got ${JSON.stringify(manifest.fileBytes)}`;
  const hashes = manifest.chunkHashes;
  if (!Array.isArray(hashes)) return 'manifest chunkHashes must be an array';
  if (hashes.length > chunksMax) return `a manifest holds at most ${chunksMax} chunks, got ${hashes.length}`;
  const expected = chunkCount(manifest.fileBytes, manifest.chunkBytes);
  if (hashes.length !== expected) return `a file of ${manifest.fileBytes} bytes in chunks of ${manifest.chunkBytes} has ${expected} chunks, but the manifest lists ${hashes.length} hashes`;
  const bad = hashes.findIndex((hash) => typeof hash !== 'string' || hash.length !== chunkHashHexLength || !chunkHashPattern.test(hash));
  if (bad !== -1) return `manifest chunkHashes[${bad}] must be ${chunkHashHexLength} lower-case hex digits (SHA-256), got ${JSON.stringify(hashes[bad]).slice(0, 80)}`;
  return undefined;
}

/** A checked copy of `value` with only the manifest's fields; `source` says where it came from, for the error. */
export function checkManifest(value: unknown, source: string): Manifest {
  const problem = manifestProblem(value);
  if (problem !== undefined) throw new ManifestInvalidError(`the manifest from ${source} is invalid: ${problem}`);
  const { version, name, fileBytes, chunkBytes, chunkHashes } = value as Manifest;
  return { version, name, fileBytes, chunkBytes, chunkHashes: [...chunkHashes] };
}
