import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import {
  encodeFrame,
  FrameDecoder,
  FrameError,
  frameBytesMax,
  frameVersion,
  parseEnvelope,
  type Envelope,
} from '../../src/net/index.js';

const decoder = (limit = frameBytesMax) => new FrameDecoder<Envelope>({ frameBytesMax: limit, parse: parseEnvelope });
const packer = new Packr({ useRecords: false });

/** A frame with a correct length field and version around arbitrary body bytes. */
function rawFrame(body: Uint8Array, version = frameVersion): Buffer {
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(1 + body.length, 0);
  frame[4] = version;
  frame.set(body, 5);
  return frame;
}

/** Splits bytes at the given cut points (taken modulo the length). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => (bytes.length === 0 ? 0 : cut % (bytes.length + 1))))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

const key = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,7}$/);
const bodyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x)),
    fc.string(),
    fc.uint8Array({ maxLength: 32 }).map((bytes) => Buffer.from(bytes)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const requestId = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const envelope: fc.Arbitrary<Envelope> = fc.oneof(
  fc.record({ type: fc.constant('hello' as const), nodeId: fc.stringMatching(/^[0-9a-f]{40}$/), listenPort: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ type: fc.constant('req' as const), id: requestId, method: fc.stringMatching(/^[a-z.]{1,20}$/), timeoutMs: fc.integer({ min: 1, max: 600_000 }), body: bodyValue }),
  fc.record({ type: fc.constant('res' as const), id: requestId, body: bodyValue }),
  fc.record({ type: fc.constant('err' as const), id: requestId, code: fc.stringMatching(/^[A-Z_]{1,20}$/), message: fc.string({ maxLength: 100 }) }),
  fc.record({ type: fc.constant('cancel' as const), id: requestId }),
);

describe('FrameDecoder', () => {
  it('never throws on random bytes in random chunks, and stays failed once it fails', () => {
    const anyBytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      // Random bodies behind a correct header reach the msgpack decoder itself.
      fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(frameVersion, frameVersion, 0, 2, 255)).map(([body, version]) => rawFrame(body, version)),
      fc.array(fc.uint8Array({ maxLength: 40 }).map((body) => rawFrame(body)), { maxLength: 5 }).map((frames) => Buffer.concat(frames)),
    );
    fc.assert(
      fc.property(anyBytes, fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 6, max: 512 }), (bytes, cuts, limit) => {
        const stream = decoder(limit);
        let failure: FrameError | undefined;
        for (const chunk of split(bytes, cuts)) {
          const result = stream.push(chunk);
          if (failure !== undefined) {
            expect(result.frames).toEqual([]);
            expect(result.error).toBe(failure);
          }
          if (result.error !== undefined) {
            expect(result.error).toBeInstanceOf(FrameError);
            failure = result.error;
          }
        }
        expect(stream.pendingBytes).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes valid frames split at arbitrary points exactly as they were sent', () => {
    fc.assert(
      fc.property(fc.array(envelope, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 12 }), (envelopes, cuts) => {
        const bytes = Buffer.concat(envelopes.map((value) => encodeFrame(value) as Buffer));
        const stream = decoder();
        const received: Envelope[] = [];
        for (const chunk of split(bytes, cuts)) {
          const result = stream.push(chunk);
          expect(result.error).toBeUndefined();
          received.push(...result.frames);
        }
        expect(received).toEqual(envelopes);
        expect(stream.pendingBytes).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('delivers the good frames that came before a broken one', () => {
    const good: Envelope = { type: 'cancel', id: 7 };
    const result = decoder().push(Buffer.concat([encodeFrame(good) as Buffer, rawFrame(Buffer.from([0xd4, 0x05, 0x00]))]));
    expect(result.frames).toEqual([good]);
    expect(result.error?.code).toBe('FRAME_UNDECODABLE');
  });

  it('refuses an oversized frame from its header alone, before buffering the body', () => {
    const stream = decoder(1024);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(1024, 0);
    const result = stream.push(header);
    expect(result.error?.code).toBe('FRAME_OVERSIZED');
    expect(stream.pendingBytes).toBe(0);
    expect(decoder().push(Buffer.from([0xff, 0xff, 0xff, 0xff])).error?.code).toBe('FRAME_OVERSIZED');
  });

  it('names each kind of broken frame', () => {
    const cases: Array<[Buffer, string]> = [
      [Buffer.from([0, 0, 0, 0]), 'FRAME_UNDECODABLE'],
      [rawFrame(packer.pack({ type: 'cancel', id: 1 }), 2), 'FRAME_VERSION_UNSUPPORTED'],
      [rawFrame(new Uint8Array(0)), 'FRAME_UNDECODABLE'],
      [rawFrame(Buffer.concat([packer.pack({ type: 'cancel', id: 1 }), Buffer.from([1])])), 'FRAME_UNDECODABLE'],
      [rawFrame(Buffer.from([0xd4, 0x05, 0x00])), 'FRAME_UNDECODABLE'],
      [rawFrame(Buffer.alloc(100_000, 0x91)), 'FRAME_UNDECODABLE'],
      [rawFrame(packer.pack([1, 2])), 'FRAME_ENVELOPE_INVALID'],
      [rawFrame(packer.pack('req')), 'FRAME_ENVELOPE_INVALID'],
      [rawFrame(packer.pack({ type: 'gossip', id: 1 })), 'FRAME_ENVELOPE_INVALID'],
      [rawFrame(packer.pack({ type: 'cancel', id: 1, extra: true })), 'FRAME_ENVELOPE_INVALID'],
      [rawFrame(packer.pack({ type: 'cancel', id: 0 })), 'FRAME_ENVELOPE_INVALID'],
      [rawFrame(packer.pack({ type: 'cancel', id: 1.5 })), 'FRAME_ENVELOPE_INVALID'],
      [rawFrame(packer.pack({ type: 'req', id: 1, method: 'has space', timeoutMs: 10 })), 'FRAME_ENVELOPE_INVALID'],
      [rawFrame(packer.pack({ type: 'req', id: 1, method: 'm', timeoutMs: 0 })), 'FRAME_ENVELOPE_INVALID'],
      [rawFrame(packer.pack({ type: 'err', id: 1, code: '', message: '' })), 'FRAME_ENVELOPE_INVALID'],
      [rawFrame(packer.pack({ type: 'hello', nodeId: 'a', listenPort: 70000 })), 'FRAME_ENVELOPE_INVALID'],
    ];
    for (const [bytes, code] of cases) expect(decoder().push(bytes).error?.code, bytes.subarray(0, 16).toString('hex')).toBe(code);
  });
});

describe('encodeFrame', () => {
  it('refuses bodies it cannot encode and frames over the limit, sending nothing', () => {
    const big = encodeFrame({ type: 'res', id: 1, body: Buffer.alloc(2000) }, 1024);
    expect(big).toBeInstanceOf(FrameError);
    expect((big as FrameError).code).toBe('FRAME_OVERSIZED');
    const unencodable = encodeFrame({ type: 'res', id: 1, body: 2n ** 80n });
    expect((unencodable as FrameError).code).toBe('FRAME_UNENCODABLE');
  });
});
