/**
 * The little UTF-8 the tokenizer needs by hand: writing a string's bytes into a reused
 * buffer (the encoder's hot path, where TextEncoder's allocation per word would show),
 * and finding the valid runs in arbitrary bytes (encodeBytes).
 */

/**
 * Writes the UTF-8 bytes of `text` into `buffer` from index 0 and returns how many were
 * written. A lone surrogate becomes U+FFFD's bytes, as TextEncoder does, because UTF-8
 * cannot carry it. `buffer` must hold at least 3 bytes per UTF-16 code unit.
 */
export function writeUtf8(text: string, buffer: Uint8Array): number {
  let length = 0;
  for (let index = 0; index < text.length; index++) {
    let code = text.charCodeAt(index);
    if (code < 0x80) {
      buffer[length++] = code;
      continue;
    }
    if (code < 0x800) {
      buffer[length++] = 0xc0 | (code >> 6);
      buffer[length++] = 0x80 | (code & 0x3f);
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = index + 1 < text.length ? text.charCodeAt(index + 1) : 0;
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        index++;
        buffer[length++] = 0xf0 | (code >> 18);
        buffer[length++] = 0x80 | ((code >> 12) & 0x3f);
        buffer[length++] = 0x80 | ((code >> 6) & 0x3f);
        buffer[length++] = 0x80 | (code & 0x3f);
        continue;
      }
      code = 0xfffd;
    }
    buffer[length++] = 0xe0 | (code >> 12);
    buffer[length++] = 0x80 | ((code >> 6) & 0x3f);
    buffer[length++] = 0x80 | (code & 0x3f);
  }
  return length;
}

/**
 * The length of the well-formed UTF-8 sequence that starts at `bytes[start]`, or 0 if none
 * does. Well-formed means Unicode's table 3-7: no overlong forms, no surrogates, nothing
 * above U+10FFFF.
 */
export function utf8SequenceLength(bytes: Uint8Array, start: number): number {
  const lead = bytes[start];
  if (lead < 0x80) return 1;
  let length: number;
  let secondMin = 0x80;
  let secondMax = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) secondMin = 0xa0;
    if (lead === 0xed) secondMax = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) secondMin = 0x90;
    if (lead === 0xf4) secondMax = 0x8f;
  } else return 0;
  if (start + length > bytes.length) return 0;
  const second = bytes[start + 1];
  if (second < secondMin || second > secondMax) return 0;
  for (let offset = 2; offset < length; offset++) {
    const continuation = bytes[start + offset];
    if (continuation < 0x80 || continuation > 0xbf) return 0;
  }
  return length;
}

/** A stretch of input bytes: either well-formed UTF-8 or one byte that begins no well-formed sequence. */
export interface ByteRun {
  start: number;
  end: number;
  valid: boolean;
}

/** Splits arbitrary bytes into maximal well-formed UTF-8 runs and single invalid bytes, in order. */
export function splitUtf8Runs(bytes: Uint8Array): ByteRun[] {
  const runs: ByteRun[] = [];
  let runStart = 0;
  let index = 0;
  while (index < bytes.length) {
    const length = utf8SequenceLength(bytes, index);
    if (length > 0) {
      index += length;
      continue;
    }
    if (index > runStart) runs.push({ start: runStart, end: index, valid: true });
    runs.push({ start: index, end: index + 1, valid: false });
    index++;
    runStart = index;
  }
  if (index > runStart) runs.push({ start: runStart, end: index, valid: true });
  return runs;
}
