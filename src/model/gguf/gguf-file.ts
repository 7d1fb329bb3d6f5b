/**
 * The I/O shell around the pure GGUF reader and writer: the one place that touches the
 * file system.
 *
 * Opening a file reads its header and nothing else (a chunk at a time with readSync), so
 * opening a 500 MB model costs milliseconds and no memory for the weights. readTensor reads
 * exactly one tensor's bytes, straight into the one Uint8Array it returns (offset 0, so
 * callers may view it as a Float32Array). Writing streams each tensor from the caller's
 * buffer to a temporary file beside the target, fsyncs it and renames it over the target,
 * so a crash leaves either the old file or the new one, never half of one.
 */
import { constants as bufferConstants } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ByteSource } from './byte-source.js';
import { GgufFormatError } from './errors.js';
import { parseGgufHeader, type GgufHeader } from './header-decode.js';
import { checkTensorData, encodeGgufHeader, type GgufContent, type GgufTensorToWrite } from './header-encode.js';
import { alignUp } from './tensor-layout.js';
import type { GgufTensorInfo, GgufValue } from './types.js';

export type { GgufTensorToWrite } from './header-encode.js';

/** The largest single readSync/writeSync call: Node refuses lengths beyond 2^31 - 1. */
const ioCallBytesMax = 1 << 30;

export interface GgufFile extends GgufHeader {
  path: string;
  fileSize: number;
  /** Bytes read from the file so far (header parsing included), for progress displays and for checking that loading is lazy. */
  readonly bytesRead: number;
  tensor(name: string): GgufTensorInfo | undefined;
  /** The tensor's bytes, in a new Uint8Array of exactly its byteLength (at byteOffset 0). */
  readTensor(name: string): Uint8Array;
  close(): void;
}

/** A ByteSource over an open file descriptor, counting what it reads. */
class FileByteSource implements ByteSource {
  bytesRead = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly filePath: string,
  ) {}

  read(offset: number, length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    this.readInto(bytes, offset, 'header');
    return bytes;
  }

  /** Fills `target` from `position`, failing (not returning short) if the file ends first. */
  readInto(target: Uint8Array, position: number, field: string): void {
    let done = 0;
    while (done < target.length) {
      const length = Math.min(target.length - done, ioCallBytesMax);
      const count = fs.readSync(this.fd, target, done, length, position + done);
      if (count === 0) {
        throw new GgufFormatError(this.filePath, field, `the file ended at byte ${position + done}, before the ${target.length} bytes at byte ${position} were read; was it truncated while open?`);
      }
      done += count;
      this.bytesRead += count;
    }
  }
}

class OpenGgufFile implements GgufFile {
  readonly version: number;
  readonly alignment: number;
  readonly metadata: Map<string, GgufValue>;
  readonly tensors: GgufTensorInfo[];
  readonly dataOffset: number;
  private readonly tensorsByName: Map<string, GgufTensorInfo>;
  private closed = false;

  constructor(
    readonly path: string,
    readonly fileSize: number,
    private readonly fd: number,
    private readonly source: FileByteSource,
    header: GgufHeader,
  ) {
    ({ version: this.version, alignment: this.alignment, metadata: this.metadata, tensors: this.tensors, dataOffset: this.dataOffset } = header);
    this.tensorsByName = new Map(header.tensors.map((info) => [info.name, info]));
  }

  get bytesRead(): number {
    return this.source.bytesRead;
  }

  tensor(name: string): GgufTensorInfo | undefined {
    return this.tensorsByName.get(name);
  }

  readTensor(name: string): Uint8Array {
    if (this.closed) throw new Error(`${this.path}: readTensor('${name}') after close()`);
    const info = this.tensorsByName.get(name);
    if (info === undefined) throw new GgufFormatError(this.path, `tensor '${name}'`, 'the file has no tensor of that name');
    if (info.byteLength > bufferConstants.MAX_LENGTH) {
      throw new GgufFormatError(this.path, `tensor '${name}'`, `${info.byteLength} bytes is more than one buffer can hold in this runtime (${bufferConstants.MAX_LENGTH} bytes)`);
    }
    const bytes = new Uint8Array(info.byteLength);
    this.source.readInto(bytes, this.dataOffset + info.offset, `tensor '${name}' data`);
    return bytes;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

/** Opens a GGUF file and reads its header; the caller must close() it. Throws GgufFormatError for anything malformed. */
export function openGguf(filePath: string): GgufFile {
  const fd = fs.openSync(filePath, 'r');
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) throw new GgufFormatError(filePath, 'file', 'is not a regular file');
    const source = new FileByteSource(fd, stats.size, filePath);
    const header = parseGgufHeader(source, filePath);
    return new OpenGgufFile(filePath, stats.size, fd, source, header);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    done += fs.writeSync(fd, bytes, done, Math.min(bytes.length - done, ioCallBytesMax));
  }
}

/**
 * Writes a GGUF v3 file atomically: content is checked completely before any byte is
 * written (GgufEncodeError), then streamed to `<path>.<random>.tmp`, fsynced, renamed over
 * `path`, and the directory fsynced so that the rename itself survives a crash.
 */
export function writeGgufFile(filePath: string, content: GgufContent<GgufTensorToWrite>): void {
  // Take each tensor's buffer once, so that what was checked is exactly what is written.
  const tensors = content.tensors.map((tensor) => ({ ...tensor }));
  const { bytes: headerBytes, header } = encodeGgufHeader({ ...content, tensors }, filePath);
  checkTensorData(tensors, header.tensors, filePath);
  const temporaryPath = `${filePath}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = fs.openSync(temporaryPath, 'wx', 0o644);
  let open = true;
  try {
    writeAll(fd, headerBytes);
    let position = headerBytes.length;
    const padding = new Uint8Array(header.alignment);
    tensors.forEach((tensor, index) => {
      const start = header.dataOffset + header.tensors[index].offset;
      writeAll(fd, padding.subarray(0, start - position));
      writeAll(fd, tensor.data);
      position = start + tensor.data.length;
    });
    // Pad after the last tensor too, as llama.cpp's writer does, so every tensor's padded extent lies in the file.
    writeAll(fd, padding.subarray(0, alignUp(position, header.alignment) - position));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    open = false;
    fs.renameSync(temporaryPath, filePath);
  } catch (error) {
    if (open) fs.closeSync(fd);
    fs.rmSync(temporaryPath, { force: true });
    throw error;
  }
  syncDirectory(path.dirname(filePath));
}

function syncDirectory(directory: string): void {
  // Windows cannot open a directory for fsync; there, the rename is as durable as the OS makes it.
  if (process.platform === 'win32') return;
  const fd = fs.openSync(directory, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
