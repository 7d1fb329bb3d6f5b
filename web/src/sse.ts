/**
 * Server-Sent Events, read from a fetch response body: the chat stream is a POST, which
 * EventSource cannot send, so the events are parsed here. Only what the OpenAI stream
 * uses is kept: each event's `data` lines, joined by line breaks as the format says.
 * Reference: the HTML standard, section 9.2.6 "Interpreting an event stream".
 */

/** An event's data at most, in characters: a stream chunk with a five-candidate trace is well under a kilobyte. */
export const eventCharactersMax = 1_000_000;

export class EventStreamError extends Error {
  readonly code = 'EVENT_STREAM';
}

/** Yields the data of each event in the stream, in order. */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<string, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new EventParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      yield* parser.push(text);
      if (done) {
        parser.end();
        return;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** The line-by-line state of the parser, fed text as it arrives in arbitrary pieces. */
export class EventParser {
  private pending = '';
  private data: string[] = [];
  private dataCharacters = 0;
  /** A carriage return ended the last piece: a line feed that starts the next one belongs to it. */
  private afterCarriageReturn = false;

  *push(text: string): Generator<string, void, undefined> {
    let input = text;
    if (this.afterCarriageReturn && input.startsWith('\n')) input = input.slice(1);
    this.afterCarriageReturn = input.endsWith('\r');
    const lines = (this.pending + input).split(/\r\n|\r|\n/);
    this.pending = lines.pop()!;
    if (this.pending.length > eventCharactersMax) throw new EventStreamError(`an event stream line is over ${eventCharactersMax} characters; the stream is not an answer from nines`);
    for (const line of lines) {
      const event = this.line(line);
      if (event !== undefined) yield event;
    }
  }

  /** The stream ended: an event without its closing blank line is dropped, as the standard says. */
  end(): void {
    this.pending = '';
    this.data = [];
    this.dataCharacters = 0;
  }

  private line(line: string): string | undefined {
    if (line === '') {
      if (this.data.length === 0) return undefined;
      const event = this.data.join('\n');
      this.data = [];
      this.dataCharacters = 0;
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.dataCharacters += value.length;
      if (this.dataCharacters > eventCharactersMax) throw new EventStreamError(`an event's data is over ${eventCharactersMax} characters; the stream is not an answer from nines`);
      this.data.push(value);
    }
    return undefined;
  }
}
