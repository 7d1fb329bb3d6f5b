/**
 * Turns generated tokens into text as they arrive.
 *
 * A token may end in the middle of a character (an emoji is often two or three tokens), so
 * printing each token's text on its own would show replacement characters that the next
 * token would have completed. The decoder keeps back an unfinished UTF-8 sequence at the
 * end and releases it when it is complete. The pieces it returns, joined, equal
 * tokenizer.decode of all the ids: the Encoding Standard's streaming UTF-8 decoder holds
 * back exactly the bytes that could still become a character, and replaces a sequence with
 * U+FFFD as soon as it cannot.
 */
import type { BpeTokenizer } from './bpe-tokenizer.js';

export class StreamingDecoder {
  private readonly tokenizer: BpeTokenizer;
  private decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  constructor(tokenizer: BpeTokenizer) {
    this.tokenizer = tokenizer;
  }

  /** Adds one token and returns the text it completed (possibly empty). Throws TokenIdError for an unknown id. */
  push(id: number): string {
    return this.decoder.decode(this.tokenizer.tokenBytes(id), { stream: true });
  }

  /** Returns what is still held back, with U+FFFD for an unfinished sequence, and starts afresh. */
  flush(): string {
    const rest = this.decoder.decode();
    this.decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    return rest;
  }
}
