/**
 * web/src/sse.ts: the dashboard's Server-Sent Events parser, fed a chat stream in pieces
 * as a network delivers it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventParser, EventStreamError, eventCharactersMax, serverSentEvents } from '../../web/src/sse.js';

function parseAll(pieces: readonly string[]): string[] {
  const parser = new EventParser();
  const events: string[] = [];
  for (const piece of pieces) events.push(...parser.push(piece));
  parser.end();
  return events;
}

function streamOf(pieces: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece);
      controller.close();
    },
  });
}

describe('EventParser', () => {
  it('reads the data of each event and joins multi-line data with line breaks', () => {
    const text = 'data: {"a":1}\n\n: a comment\ndata: first\ndata: second\n\nevent: ping\nid: 7\n\ndata:no space\r\n\r\ndata: [DONE]\n\n';
    expect(parseAll([text])).toEqual(['{"a":1}', 'first\nsecond', 'no space', '[DONE]']);
  });

  it('drops an event the stream did not finish with a blank line', () => {
    expect(parseAll(['data: whole\n\ndata: cut off'])).toEqual(['whole']);
  });

  it('gives the same events however the text is split, CR LF pairs included', () => {
    const event = fc.string({ unit: fc.constantFrom('a', 'é', '{', '"', ' ', ':'), maxLength: 12 });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 6 }), fc.constantFrom('\n', '\r\n', '\r'), fc.array(fc.nat(), { maxLength: 8 }), (events, newline, cuts) => {
        const text = events.map((data) => `data: ${data}${newline}${newline}`).join('');
        const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
        const pieces: string[] = [];
        let last = 0;
        for (const point of points) {
          pieces.push(text.slice(last, point));
          last = point;
        }
        pieces.push(text.slice(last));
        expect(parseAll(pieces)).toEqual(events);
      }),
    );
  });

  it('refuses a line longer than its limit instead of buffering without end', () => {
    const parser = new EventParser();
    expect(() => [...parser.push(`data: ${'x'.repeat(eventCharactersMax + 1)}`)]).toThrow(EventStreamError);
  });
});

describe('serverSentEvents', () => {
  it('decodes UTF-8 split across network chunks', async () => {
    const bytes = new TextEncoder().encode('data: {"content":"é ✓"}\n\ndata: [DONE]\n\n');
    // Cut inside the two-byte é and the three-byte ✓.
    const pieces = [bytes.slice(0, 20), bytes.slice(20, 24), bytes.slice(24)];
    const events: string[] = [];
    for await (const event of serverSentEvents(streamOf(pieces))) events.push(event);
    expect(events).toEqual(['{"content":"é ✓"}', '[DONE]']);
  });
});
