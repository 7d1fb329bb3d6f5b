import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { StreamingDecoder, TokenIdError, type BpeTokenizer } from '../../../src/model/tokenizer/index.js';
import { loadGpt2Tokenizer } from '../../../src/model/tokenizer/gpt2-file.js';
import { pieceCacheEntriesMax } from '../../../src/model/tokenizer/constants.js';
import { referenceEncoder, smallTrainedTokenizer } from './helpers.js';

let gpt2: BpeTokenizer;
let small: BpeTokenizer;

beforeAll(() => {
  gpt2 = loadGpt2Tokenizer();
  small = smallTrainedTokenizer();
});

const tokenizers = (): Array<[string, BpeTokenizer]> => [
  ['GPT-2', gpt2],
  ['small trained', small],
];

// Byte arrays that favour the interesting cases: valid multi-byte sequences cut short,
// continuation bytes out of place, overlong forms, surrogates and bytes above F4.
const awkwardBytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.array(fc.oneof(fc.constantFrom(0x20, 0x41, 0x0a, 0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xa0, 0xf0, 0xf4, 0x90, 0xf5, 0xff), fc.integer({ min: 0, max: 255 })), { maxLength: 120 }).map((bytes) => Uint8Array.from(bytes)),
);

// Strings that UTF-8 can carry. Lone surrogates are left out on purpose: UTF-8 has no
// encoding for them, so encode turns one into U+FFFD and decode cannot give it back.
const wellFormedText = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'grapheme-ascii', maxLength: 120 }));

describe.each([['GPT-2'], ['small trained']])('%s tokenizer properties', (name) => {
  const tokenizer = (): BpeTokenizer => tokenizers().find(([label]) => label === name)![1];

  it('decodeBytes(encodeBytes(bytes)) gives the bytes back, for any bytes', () => {
    fc.assert(fc.property(awkwardBytes, (bytes) => {
      expect(tokenizer().decodeBytes(tokenizer().encodeBytes(bytes))).toEqual(bytes);
    }), { numRuns: 300 });
  });

  it('decode(encode(text)) gives the text back, for any well-formed text', () => {
    fc.assert(fc.property(wellFormedText, (text) => {
      expect(tokenizer().decode(tokenizer().encode(text))).toBe(text);
    }), { numRuns: 300 });
  });

  it('encode agrees with a plain string implementation of GPT-2-style BPE', () => {
    const reference = referenceEncoder(tokenizer().vocabulary());
    fc.assert(fc.property(wellFormedText, (text) => {
      expect(tokenizer().encode(text)).toEqual(reference(text));
    }), { numRuns: 200 });
  });

  it('a StreamingDecoder returns decode(ids) for any sequence of tokens, however they cut the characters', () => {
    const anyIds = fc.array(fc.integer({ min: 0, max: tokenizer().vocabSize - 1 }), { maxLength: 60 });
    const encodedIds = awkwardBytes.map((bytes) => tokenizer().encodeBytes(bytes));
    // Single-byte tokens split a text at every byte, the finest cut there is.
    const byteByByteIds = wellFormedText.map((text) => tokenizer().encode(text).flatMap((id) => Array.from(tokenizer().tokenBytes(id), (byte) => tokenizer().encodeBytes(Uint8Array.of(byte))[0])));
    fc.assert(fc.property(fc.oneof(anyIds, encodedIds, byteByByteIds), (ids) => {
      const decoder = new StreamingDecoder(tokenizer());
      let text = '';
      for (const id of ids) text += decoder.push(id);
      expect(text + decoder.flush()).toBe(tokenizer().decode(ids));
    }), { numRuns: 300 });
  });

  it('encodes valid UTF-8 through encodeBytes exactly as encode does', () => {
    fc.assert(fc.property(wellFormedText, (text) => {
      expect(tokenizer().encodeBytes(new TextEncoder().encode(text))).toEqual(tokenizer().encode(text));
    }), { numRuns: 200 });
  });
});

describe('encodeBytes on invalid UTF-8', () => {
  it('makes each invalid byte its own single-byte token and encodes the valid runs as text', () => {
    const bytes = Uint8Array.from([0x68, 0x69, 0xff, 0x20, 0xe2, 0x82, 0x20, 0x6f, 0x6b]); // "hi", FF, " ", E2 82 (cut short), " ok"
    const ids = gpt2.encodeBytes(bytes);
    expect(ids).toEqual([...gpt2.encode('hi'), gpt2.encodeBytes(Uint8Array.of(0xff))[0], ...gpt2.encode(' '), 158, 224, ...gpt2.encode(' ok')]);
    expect(Array.from(gpt2.tokenBytes(158))).toEqual([0xe2]);
    expect(Array.from(gpt2.tokenBytes(224))).toEqual([0x82]);
    expect(gpt2.decode(ids)).toBe('hi\ufffd \ufffd ok');
  });

  it('treats surrogate code points and overlong forms as invalid', () => {
    for (const bytes of [[0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80]]) {
      const ids = gpt2.encodeBytes(Uint8Array.from(bytes));
      expect(ids).toHaveLength(bytes.length);
      expect(gpt2.decodeBytes(ids)).toEqual(Uint8Array.from(bytes));
    }
  });
});

describe('text edge cases', () => {
  it('encodes a lone surrogate as U+FFFD, as TextEncoder does', () => {
    expect(gpt2.encode('a\ud800b')).toEqual(gpt2.encode('a\ufffdb'));
  });

  it('keeps a leading byte order mark', () => {
    expect(gpt2.decode(gpt2.encode('\ufeffhello'))).toBe('\ufeffhello');
  });

  it('encodes long pieces (the heap path) the same as the reference', () => {
    const reference = referenceEncoder(gpt2.vocabulary());
    for (const text of [' '.repeat(300) + 'x', '='.repeat(257), 'ab'.repeat(150), '机器学习'.repeat(40), '9'.repeat(200), '🏳️‍🌈'.repeat(30)]) {
      expect(gpt2.encode(text)).toEqual(reference(text));
      expect(gpt2.decode(gpt2.encode(text))).toBe(text);
    }
  });

  it('encodes a quarter megabyte of spaces quickly and correctly', () => {
    const text = ' '.repeat(1 << 18);
    const ids = gpt2.encode(text);
    expect(gpt2.decode(ids)).toBe(text);
  });

  it('encodes the empty string to nothing', () => {
    expect(gpt2.encode('')).toEqual([]);
    expect(gpt2.encodeBytes(new Uint8Array(0))).toEqual([]);
    expect(gpt2.decode([])).toBe('');
  });
});

describe('the pre-token cache', () => {
  it('stays within pieceCacheEntriesMax and gives the same ids after it is emptied', () => {
    const tokenizer = smallTrainedTokenizer();
    const cache = (tokenizer as unknown as { pieceCache: Map<string, unknown> }).pieceCache;
    const before = tokenizer.encode(' the quick brown fox');
    // More distinct words than the cache holds, spelled with letters only (a digit would start a new pre-token).
    const words: string[] = [];
    for (let index = 0; words.length <= pieceCacheEntriesMax; index++) words.push(` ${index.toString(26).replace(/[0-9]/g, (digit) => 'qrstuvwxyz'[Number(digit)])}`);
    const ids = tokenizer.encode(words.join(''));
    expect(cache.size).toBeLessThanOrEqual(pieceCacheEntriesMax);
    expect(tokenizer.decode(ids)).toBe(words.join(''));
    expect(tokenizer.encode(' the quick brown fox')).toEqual(before);
  });
});

describe('token ids', () => {
  it('refuses ids outside the vocabulary with a TokenIdError', () => {
    for (const id of [-1, 50257, 1.5, Number.NaN]) {
      expect(() => gpt2.decode([id])).toThrow(TokenIdError);
      expect(() => gpt2.tokenBytes(id)).toThrow(TokenIdError);
    }
    try {
      small.decode([600]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TokenIdError);
      expect((error as TokenIdError).code).toBe('TOKENIZER_TOKEN_ID');
      expect((error as Error).message).toContain('0 to 599');
    }
  });

  it('shows a token that holds part of a character with U+FFFD', () => {
    const ids = gpt2.encode('🤖');
    expect(ids.length).toBeGreaterThan(1);
    expect(gpt2.tokenText(ids[0])).toContain('\ufffd');
    expect(gpt2.tokenText(gpt2.encode(' hello')[0])).toBe(' hello');
  });
});

describe('StreamingDecoder', () => {
  it('holds back a partial character until it is complete', () => {
    const ids = gpt2.encode('a🤖b');
    const decoder = new StreamingDecoder(gpt2);
    const pieces = ids.map((id) => decoder.push(id));
    expect(pieces.join('')).toBe('a🤖b');
    expect(pieces.some((piece) => piece.includes('\ufffd'))).toBe(false);
    expect(decoder.flush()).toBe('');
  });

  it('flushes an unfinished character as U+FFFD and starts afresh', () => {
    const decoder = new StreamingDecoder(gpt2);
    const robot = gpt2.encode('🤖');
    expect(decoder.push(robot[0])).toBe('');
    expect(decoder.flush()).toBe('\ufffd');
    expect(robot.map((id) => decoder.push(id)).join('') + decoder.flush()).toBe('🤖');
  });
});
