/**
 * The messages between a fetcher and a seeder:
 *
 *   model.manifest { name }              -> { manifest }
 *   model.chunk    { manifestId, index } -> { bytes }      (msgpack carries the bytes as binary)
 *
 * A seeder refuses what it cannot serve with a stable error code (below), and a fetcher
 * checks every answer: the manifest with `checkManifest`, the bytes against their hash.
 */
import { chunksMax } from './constants.js';
import { modelNameProblem } from './manifest.js';

export interface ManifestRequest {
  name: string;
}

export interface ChunkRequest {
  manifestId: string;
  index: number;
}

/** Error codes a seeder answers with. */
export const seederErrorCodes = {
  /** The request's fields are malformed. */
  requestInvalid: 'MODEL_REQUEST_INVALID',
  /** This peer does not seed that model, or not that version of it. */
  notSeeded: 'MODEL_NOT_SEEDED',
  /** Too many uploads in flight: ask another provider, or this one a little later. */
  busy: 'MODEL_SEEDER_BUSY',
  /** The seeder could not read its own file. */
  readFailed: 'MODEL_READ_FAILED',
} as const;

const manifestIdPattern = /^[0-9a-f]{64}$/;

/** Why `value` is not a manifest request, or undefined. */
export function manifestRequestProblem(value: unknown): string | undefined {
  const request = value as Partial<ManifestRequest> | null;
  if (typeof request !== 'object' || request === null) return 'a manifest request must be an object { name }';
  return modelNameProblem(request.name);
}

/** Why `value` is not a chunk request, or undefined (the index is checked against the manifest by the seeder). */
export function chunkRequestProblem(value: unknown): string | undefined {
  const request = value as Partial<ChunkRequest> | null;
  if (typeof request !== 'object' || request === null) return 'a chunk request must be an object { manifestId, index }';
  if (typeof request.manifestId !== 'string' || !manifestIdPattern.test(request.manifestId)) return 'manifestId must be 64 lower-case hex digits';
  if (!Number.isSafeInteger(request.index) || request.index! < 0 || request.index! >= chunksMax) return `index must be an integer from 0 to ${chunksMax - 1}`;
  return undefined;
}

/** The bytes of a chunk answer, or undefined when the answer has none. */
export function chunkResponseBytes(value: unknown): Uint8Array | undefined {
  const bytes = (value as { bytes?: unknown } | null)?.bytes;
  return bytes instanceof Uint8Array ? bytes : undefined;
}
