/**
 * The file shell of model distribution: where model files live in a data directory, the
 * manifest of a file on disk (streamed, never read whole), which chunks of a partial file
 * already verify, and the manifest kept next to a fetched file so that a restart can check
 * the file without asking anyone.
 *
 *   <dataDir>/models/<name>.gguf                the model, complete and verified
 *   <dataDir>/models/<name>.gguf.partial        a download under way (chunks written at their offsets)
 *   <dataDir>/models/<name>.gguf.manifest.json  the manifest the file was verified against
 */
import { createReadStream } from 'node:fs';
import { open, readFile, rename, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { openGguf } from '../../model/gguf/gguf-file.js';
import { metadataOptionalString } from '../../model/gguf/index.js';
import { chunkBytesDefault, chunksMax, fileBytesMax } from './constants.js';
import { ModelFileError } from './errors.js';
import { checkManifest, checkModelName, chunkCount, chunkMatches, chunkSpan, encodeManifest, ManifestBuilder, modelNameProblem, type Manifest } from './manifest.js';

export interface ModelPaths {
  directory: string;
  file: string;
  partial: string;
  manifest: string;
}

export function modelPaths(dataDir: string, name: string): ModelPaths {
  const directory = join(dataDir, 'models');
  const file = join(directory, `${checkModelName(name)}.gguf`);
  return { directory, file, partial: `${file}.partial`, manifest: `${file}.manifest.json` };
}

/** The model name a GGUF file carries (`general.name`), or undefined when it has none that can name a model. */
export function modelNameOfFile(path: string): string | undefined {
  const file = openGguf(path);
  try {
    const name = metadataOptionalString(file.metadata, 'general.name', path);
    return modelNameProblem(name) === undefined ? name : undefined;
  } finally {
    file.close();
  }
}

/** The manifest of the file at `path`, read once from start to end in chunk-sized pieces. */
export async function manifestOfFile(path: string, name: string, chunkBytes: number = chunkBytesDefault): Promise<Manifest> {
  const size = await stat(path).then((stats) => stats.size, (error: Error) => {
    throw new ModelFileError(`cannot read the model file ${path}: ${error.message}`);
  });
  if (size > fileBytesMax || chunkCount(size, chunkBytes) > chunksMax) {
    throw new ModelFileError(`${path} has ${size} bytes; a model shared between peers has at most ${Math.min(fileBytesMax, chunksMax * chunkBytes)} bytes`);
  }
  const builder = new ManifestBuilder(name, chunkBytes);
  try {
    for await (const piece of createReadStream(path, { highWaterMark: chunkBytes })) builder.update(piece as Buffer);
  } catch (error) {
    throw new ModelFileError(`cannot read the model file ${path}: ${(error as Error).message}`);
  }
  if (builder.bytes !== size) throw new ModelFileError(`${path} changed size while it was read (${size} then ${builder.bytes} bytes); do not write a model while a peer seeds it`);
  return builder.finish();
}

/** Reads chunk `index` of the manifest's file from an open handle; a short read (a truncated file) gives fewer bytes. */
export async function readChunk(handle: FileHandle, manifest: Manifest, index: number): Promise<Uint8Array> {
  const { offset, bytes } = chunkSpan(manifest, index);
  const buffer = Buffer.allocUnsafe(bytes);
  let filled = 0;
  while (filled < bytes) {
    const { bytesRead } = await handle.read(buffer, filled, bytes - filled, offset + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * Which chunks of an open (partial) file already hold the manifest's bytes: each chunk that
 * lies within the file is read and hashed. This is what lets a download resume: whatever
 * verifies is kept, whatever does not (a torn write, a hole never written) is fetched again.
 */
export async function verifiedChunks(handle: FileHandle, manifest: Manifest): Promise<boolean[]> {
  const size = (await handle.stat()).size;
  const verified: boolean[] = [];
  for (let index = 0; index < manifest.chunkHashes.length; index++) {
    const { offset, bytes } = chunkSpan(manifest, index);
    verified.push(offset + bytes <= size && chunkMatches(manifest, index, await readChunk(handle, manifest, index)));
  }
  return verified;
}

/** The manifest stored next to a model file, or undefined when there is none or it does not parse. */
export async function readManifestFile(path: string): Promise<Manifest | undefined> {
  try {
    return checkManifest(JSON.parse(await readFile(path, 'utf8')) as unknown, path);
  } catch {
    return undefined;
  }
}

/** Writes the manifest durably: to a temporary file, fsynced, then renamed over the old one. */
export async function writeManifestFile(path: string, manifest: Manifest): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${encodeManifest(manifest)}\n`, { flush: true });
  await rename(temporary, path);
}

/** Fsyncs a directory, so that a rename in it survives a crash. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
