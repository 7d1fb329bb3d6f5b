/**
 * Reading a GGUF header from anything that can hand out byte ranges (a file, a buffer, a
 * download in progress), a chunk at a time, with every read bounds-checked.
 *
 * The reader never touches bytes it was not asked for beyond one chunk of read-ahead, so
 * opening a 500 MB model reads its header and nothing else. Every failure is a
 * GgufFormatError that names the field being read; a DataView RangeError never escapes.
 */
import { headerBytesMax, headerReadChunkBytes } from './constants.js';
import { GgufFormatError } from './errors.js';

/** Random access to a run of bytes. */
export interface ByteSource {
  /** Total bytes available. */
  readonly size: number;
  /** Exactly `length` bytes starting at `offset`; callers stay within [0, size). The result may be a view the source reuses. */
  read(offset: number, length: number): Uint8Array;
}

/** A ByteSource over bytes already in memory (for tests, and for models received whole over the network). */
export function byteSourceFromBytes(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, offset + length),
  };
}

/** A field name, or a function that builds one, so that reading a 150k-item array builds no names unless something fails. */
export type FieldName = string | (() => string);

function fieldText(field: FieldName): string {
  return typeof field === 'string' ? field : field();
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const twoTo32 = 0x1_0000_0000;

/** A cursor over a ByteSource that reads ahead one chunk at a time. */
export class ByteReader {
  /** Absolute offset of the next byte to read. */
  position = 0;
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkStart = 0;
  private view: DataView = new DataView(this.chunk.buffer);

  constructor(
    private readonly source: ByteSource,
    /** The name errors carry: a file path, or a description of the source. */
    readonly sourceName: string,
    private readonly chunkBytes = headerReadChunkBytes,
  ) {}

  get size(): number {
    return this.source.size;
  }

  /** Bytes left between the cursor and the end of the source. */
  remaining(): number {
    return this.source.size - this.position;
  }

  fail(field: FieldName, problem: string): never {
    throw new GgufFormatError(this.sourceName, fieldText(field), problem);
  }

  /** Fails unless `byteCount` more bytes exist (used before allocating for a count read from the file). */
  requireBytes(byteCount: number, field: FieldName, what: string): void {
    if (byteCount > this.remaining()) {
      this.fail(field, `${what} needs at least ${byteCount} bytes from byte ${this.position}, but the file ends at byte ${this.source.size} (truncated or corrupt)`);
    }
    if (this.position + byteCount > headerBytesMax) {
      this.fail(field, `${what} would make the header longer than ${headerBytesMax} bytes (headerBytesMax); the file is corrupt or not one nines can load`);
    }
  }

  /** Consumes `byteCount` bytes and returns the index of the first in `this.chunk`. */
  private take(byteCount: number, field: FieldName): number {
    this.requireBytes(byteCount, field, `reading ${byteCount} bytes`);
    const end = this.position + byteCount;
    if (this.position < this.chunkStart || end > this.chunkStart + this.chunk.length) this.refill(byteCount, field);
    const index = this.position - this.chunkStart;
    this.position = end;
    return index;
  }

  private refill(byteCount: number, field: FieldName): void {
    const length = Math.min(Math.max(byteCount, this.chunkBytes), this.source.size - this.position);
    const chunk = this.source.read(this.position, length);
    if (chunk.length !== length) this.fail(field, `the source returned ${chunk.length} bytes at byte ${this.position} where ${length} were asked for`);
    this.chunk = chunk;
    this.chunkStart = this.position;
    this.view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }

  uint8(field: FieldName): number {
    return this.view.getUint8(this.take(1, field));
  }
  int8(field: FieldName): number {
    return this.view.getInt8(this.take(1, field));
  }
  uint16(field: FieldName): number {
    return this.view.getUint16(this.take(2, field), true);
  }
  int16(field: FieldName): number {
    return this.view.getInt16(this.take(2, field), true);
  }
  uint32(field: FieldName): number {
    return this.view.getUint32(this.take(4, field), true);
  }
  int32(field: FieldName): number {
    return this.view.getInt32(this.take(4, field), true);
  }
  float32(field: FieldName): number {
    return this.view.getFloat32(this.take(4, field), true);
  }
  float64(field: FieldName): number {
    return this.view.getFloat64(this.take(8, field), true);
  }
  uint64(field: FieldName): bigint {
    return this.view.getBigUint64(this.take(8, field), true);
  }
  int64(field: FieldName): bigint {
    return this.view.getBigInt64(this.take(8, field), true);
  }

  /**
   * A uint64 as a number: exact below 2^53, and otherwise some number of at least 2^53, which
   * is all a count or length needs, since every caller compares it with a limit far below that.
   */
  uint64Number(field: FieldName): number {
    const index = this.take(8, field);
    const low = this.view.getUint32(index, true);
    const high = this.view.getUint32(index + 4, true);
    return high * twoTo32 + low;
  }

  /** The next `length` bytes, as a view that is valid only until the next read. */
  bytes(length: number, field: FieldName): Uint8Array {
    const index = this.take(length, field);
    return this.chunk.subarray(index, index + length);
  }

  /** A GGUF string: a uint64 byte length, then that many bytes of UTF-8 (no terminator). */
  string(field: FieldName, bytesMax: number, limitName: string): string {
    const length = this.uint64Number(() => `${fieldText(field)} length`);
    if (length > bytesMax) {
      this.fail(field, `string of ${length} bytes is longer than ${bytesMax} bytes (${limitName})`);
    }
    if (length > this.remaining()) {
      this.fail(field, `string of ${length} bytes at byte ${this.position} runs past the end of the file (${this.source.size} bytes)`);
    }
    const bytes = this.bytes(length, field);
    try {
      return utf8Decoder.decode(bytes);
    } catch {
      return this.fail(field, `string at byte ${this.position - length} is not valid UTF-8`);
    }
  }
}
