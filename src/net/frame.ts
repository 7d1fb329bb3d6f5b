/**
 * Framing, pure: [uint32 big-endian length][uint8 version][msgpack body], where the length
 * counts the version byte and the body. The decoder takes bytes in whatever chunks the
 * socket delivers and hands back whole, checked frames; it never throws on bad input but
 * reports a typed `FrameError`, after which it accepts nothing more (the connection is
 * closed by its owner, and nothing else is affected).
 */
import { Packr, Unpackr } from 'msgpackr';
import { frameBytesMax as frameBytesMaxProtocol, frameBytesMin, frameHeaderBytes, frameLengthBytes, frameVersion } from './constants.js';
import { FrameError } from './errors.js';

// Plain msgpack without msgpackr's record extension, so that any msgpack implementation
// can speak the protocol. One packer serves every connection: packing keeps no state that
// outlives a call.
const packer = new Packr({ useRecords: false });

export function checkFrameBytesMax(frameBytesMax: number): void {
  if (!Number.isInteger(frameBytesMax) || frameBytesMax < frameBytesMin || frameBytesMax > frameBytesMaxProtocol) {
    throw new RangeError(`frameBytesMax must be an integer from ${frameBytesMin} to ${frameBytesMaxProtocol}, got ${frameBytesMax}`);
  }
}

/** One frame holding `value`, or a FrameError if it cannot be encoded or is too large. */
export function encodeFrame(value: unknown, frameBytesMax: number = frameBytesMaxProtocol): Buffer | FrameError {
  let body: Uint8Array;
  try {
    body = packer.pack(value);
  } catch (error) {
    return new FrameError('FRAME_UNENCODABLE', `cannot encode the frame body as msgpack: ${(error as Error).message}`);
  }
  const frameBytes = frameHeaderBytes + body.length;
  if (frameBytes > frameBytesMax) {
    return new FrameError('FRAME_OVERSIZED', `a frame of ${frameBytes} bytes is larger than the ${frameBytesMax}-byte maximum`);
  }
  const frame = Buffer.allocUnsafe(frameBytes);
  frame.writeUInt32BE(frameBytes - frameLengthBytes, 0);
  frame[frameLengthBytes] = frameVersion;
  frame.set(body, frameHeaderBytes);
  return frame;
}

export interface FrameDecoderOptions<T> {
  frameBytesMax: number;
  /** Checks a decoded body; returns the value to deliver or the error that ends the stream. */
  parse: (value: unknown) => T | FrameError;
}

export interface FrameDecodeResult<T> {
  /** Frames completed by this chunk, in order; the ones before an error are still good. */
  frames: T[];
  /** Set when the stream broke the format; every later push returns it again. */
  error: FrameError | undefined;
}

export class FrameDecoder<T> {
  private readonly frameBytesMax: number;
  private readonly parse: (value: unknown) => T | FrameError;
  // A fresh unpacker per stream, so that nothing one peer sends can change how another
  // peer's frames decode.
  private readonly unpacker = new Unpackr({ useRecords: false, mapsAsObjects: true });
  // Chunks are consumed from `chunkHead` onwards rather than shifted off the front, so that
  // a frame trickled in many tiny chunks costs linear, not quadratic, time.
  private chunks: Buffer[] = [];
  private chunkHead = 0;
  private bufferedBytes = 0;
  /** Total bytes of the frame being assembled, once its length field has arrived. */
  private expectedBytes: number | undefined;
  private failure: FrameError | undefined;

  constructor(options: FrameDecoderOptions<T>) {
    checkFrameBytesMax(options.frameBytesMax);
    this.frameBytesMax = options.frameBytesMax;
    this.parse = options.parse;
  }

  /** Bytes received but not yet part of a delivered frame (never more than frameBytesMax plus one chunk). */
  get pendingBytes(): number {
    return this.bufferedBytes;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  push(chunk: Uint8Array): FrameDecodeResult<T> {
    const frames: T[] = [];
    if (this.failure !== undefined) return { frames, error: this.failure };
    if (chunk.length > 0) {
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.bufferedBytes += chunk.length;
    }
    for (;;) {
      if (this.expectedBytes === undefined) {
        if (this.bufferedBytes < frameLengthBytes) break;
        const length = this.peekLength();
        if (length < 1) return this.fail(frames, 'FRAME_UNDECODABLE', 'a frame of length 0 has no version byte');
        if (frameLengthBytes + length > this.frameBytesMax) {
          return this.fail(frames, 'FRAME_OVERSIZED', `a frame of ${frameLengthBytes + length} bytes is larger than the ${this.frameBytesMax}-byte maximum`);
        }
        this.expectedBytes = frameLengthBytes + length;
      }
      if (this.bufferedBytes < this.expectedBytes) break;
      const frame = this.take(this.expectedBytes);
      this.expectedBytes = undefined;
      const result = this.decodeFrame(frame);
      if (result instanceof FrameError) {
        this.failure = result;
        this.release();
        return { frames, error: result };
      }
      frames.push(result);
    }
    return { frames, error: undefined };
  }

  private decodeFrame(frame: Buffer): T | FrameError {
    const version = frame[frameLengthBytes];
    if (version !== frameVersion) {
      return new FrameError('FRAME_VERSION_UNSUPPORTED', `frame version ${version} is not supported; this peer speaks version ${frameVersion}`);
    }
    let value: unknown;
    try {
      value = this.unpacker.unpack(frame.subarray(frameHeaderBytes));
    } catch (error) {
      // msgpackr reports truncated or malformed input, unknown extensions and trailing bytes
      // by throwing (and very deep nesting by overflowing the stack); all mean the same here.
      return new FrameError('FRAME_UNDECODABLE', `the frame body is not one msgpack value: ${(error as Error).message}`.slice(0, 256));
    }
    return this.parse(value);
  }

  private fail(frames: T[], code: 'FRAME_UNDECODABLE' | 'FRAME_OVERSIZED', message: string): FrameDecodeResult<T> {
    this.failure = new FrameError(code, message);
    this.release();
    return { frames, error: this.failure };
  }

  private release(): void {
    this.chunks = [];
    this.chunkHead = 0;
    this.bufferedBytes = 0;
    this.expectedBytes = undefined;
  }

  private peekLength(): number {
    const first = this.chunks[this.chunkHead];
    if (first.length >= frameLengthBytes) return first.readUInt32BE(0);
    // The length field straddles chunks: gather its four bytes one by one.
    let length = 0;
    let gathered = 0;
    for (let index = this.chunkHead; gathered < frameLengthBytes; index++) {
      const chunk = this.chunks[index];
      for (let offset = 0; offset < chunk.length && gathered < frameLengthBytes; offset++, gathered++) {
        length = length * 256 + chunk[offset];
      }
    }
    return length;
  }

  /** Removes and returns the first `count` buffered bytes as one buffer. */
  private take(count: number): Buffer {
    const parts: Buffer[] = [];
    let remaining = count;
    while (remaining > 0) {
      const head = this.chunks[this.chunkHead];
      if (head.length <= remaining) {
        parts.push(head);
        this.chunkHead++;
        remaining -= head.length;
      } else {
        parts.push(head.subarray(0, remaining));
        this.chunks[this.chunkHead] = head.subarray(remaining);
        remaining = 0;
      }
    }
    this.bufferedBytes -= count;
    if (this.chunkHead === this.chunks.length) {
      this.chunks = [];
      this.chunkHead = 0;
    } else if (this.chunkHead > 1024 && this.chunkHead * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.chunkHead);
      this.chunkHead = 0;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, count);
  }
}
