/**
 * Turns the bytes of generated tokens into text that is safe to show, one token at a time.
 *
 * Two things make this more than decoding each token:
 *   - a character may span tokens (byte-level BPE splits UTF-8 anywhere), so incomplete
 *     bytes wait for the token that completes them;
 *   - a stop string may span tokens, so text that could still grow into a stop string is
 *     held back until it either becomes one (then it and everything after it is dropped)
 *     or cannot anymore (then it is released).
 *
 * What has been released depends only on the tokens pushed so far, so replaying the same
 * tokens rebuilds the same state: that is how a resumed generation continues the text.
 */

/** How many stop strings one request may give, and how long each may be (in UTF-16 units). */
export const stopStringsMax = 16;
export const stopStringLengthMax = 256;

export interface PushResult {
  /** Text released by this token (possibly ''). */
  text: string;
  /** True when a stop string appeared: `text` ends just before it and nothing more will come. */
  stopped: boolean;
}

export class GeneratedText {
  // ignoreBOM keeps a generated U+FEFF as text instead of silently dropping it.
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  /** Decoded text not yet released: empty, or a prefix of some stop string. */
  private held = '';
  private stopped = false;
  private readonly longestStop: number;

  constructor(private readonly stopStrings: readonly string[]) {
    this.longestStop = Math.max(0, ...stopStrings.map((stop) => stop.length));
  }

  push(bytes: Uint8Array): PushResult {
    if (this.stopped) throw new Error('GeneratedText: a stop string already ended the text');
    return this.release(this.held + this.decoder.decode(bytes, { stream: true }), false);
  }

  /** The end of generation: releases what was held (it can no longer become a stop string). */
  finish(): PushResult {
    if (this.stopped) return { text: '', stopped: true };
    return this.release(this.held + this.decoder.decode(), true);
  }

  private release(pending: string, final: boolean): PushResult {
    // A stop string can only start inside `pending`: anything released earlier could not begin one.
    let stopAt = -1;
    for (const stop of this.stopStrings) {
      const index = pending.indexOf(stop);
      if (index >= 0 && (stopAt < 0 || index < stopAt)) stopAt = index;
    }
    if (stopAt >= 0) {
      this.stopped = true;
      this.held = '';
      return { text: pending.slice(0, stopAt), stopped: true };
    }
    const holdFrom = final ? pending.length : this.partialStopStart(pending);
    this.held = pending.slice(holdFrom);
    return { text: pending.slice(0, holdFrom), stopped: false };
  }

  /** Where the longest suffix of `text` that is a proper prefix of a stop string begins (text.length if none). */
  private partialStopStart(text: string): number {
    for (let start = Math.max(0, text.length - this.longestStop + 1); start < text.length; start++) {
      const suffix = text.slice(start);
      if (this.stopStrings.some((stop) => stop.startsWith(suffix))) return start;
    }
    return text.length;
  }
}

/** Why a list of stop strings cannot be used, or undefined when it can. */
export function stopStringsProblem(stopStrings: readonly string[]): string | undefined {
  if (stopStrings.length > stopStringsMax) return `at most ${stopStringsMax} stop strings are allowed, got ${stopStrings.length}`;
  for (const stop of stopStrings) {
    if (typeof stop !== 'string' || stop.length === 0) return 'a stop string must be a non-empty string';
    if (stop.length > stopStringLengthMax) return `a stop string may be at most ${stopStringLengthMax} characters, got one of ${stop.length}`;
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(stop)) return `stop string ${JSON.stringify(stop)} contains a lone surrogate, which generated text never does`;
  }
  return undefined;
}
