import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenizerOptionsError, byteToCharacter, endOfTextToken, tokenTypeCodes, trainBpe } from '../../../src/model/tokenizer/index.js';
import { fixtureText, referenceTrain } from './helpers.js';

describe('trainBpe', () => {
  it('learns the obvious merges of a toy text, in order', () => {
    const text = 'hug hug hug hug hug pug pug hugs hugs hugs';
    const tokenizer = trainBpe(text, { vocabSize: 256 + 4 + 1 });
    const { tokens, merges, tokenTypes } = tokenizer.vocabulary();
    // Words: "hug" once, " hug" 4 times, " pug" twice, " hugs" 3 times. "ug" is in all 10;
    // then "h ug" (8), "Ġ hug" (7), and "Ġhug s" (3) beats "Ġ p" and "p ug" (2 each).
    expect(merges).toEqual(['u g', 'h ug', 'Ġ hug', 'Ġhug s']);
    expect(tokens.slice(256)).toEqual(['ug', 'hug', 'Ġhug', 'Ġhugs', endOfTextToken]);
    expect(tokenTypes.slice(256)).toEqual([1, 1, 1, 1, tokenTypeCodes.control]);
    expect(tokenizer.encode(' hug hugs hug')).toEqual([258, 259, 258]);
    expect(tokenizer.encode(' pug')).toEqual([0x20, 0x70, 256]);
  });

  it('puts the 256 bytes first, in byte order, and the special tokens last', () => {
    const tokenizer = trainBpe(fixtureText.slice(0, 20_000), { vocabSize: 400, specialTokens: ['<|endoftext|>', '<|pad|>'] });
    const { tokens, tokenTypes } = tokenizer.vocabulary();
    expect(tokens.slice(0, 256)).toEqual(byteToCharacter);
    for (let byte = 0; byte < 256; byte++) expect(Array.from(tokenizer.tokenBytes(byte))).toEqual([byte]);
    expect(tokens.slice(-2)).toEqual(['<|endoftext|>', '<|pad|>']);
    expect(tokenTypes.slice(-2)).toEqual([3, 3]);
    expect(tokenizer.vocabSize).toBe(400);
    expect(tokenizer.bosTokenId).toBe(398);
    expect(tokenizer.eosTokenId).toBe(398);
    expect(tokenizer.encode('<|pad|>', { allowedSpecial: 'all' })).toEqual([399]);
  });

  it('is deterministic: the same text gives the same vocabulary', () => {
    const first = trainBpe(fixtureText, { vocabSize: 700 }).vocabulary();
    const second = trainBpe(fixtureText, { vocabSize: 700 }).vocabulary();
    expect(second).toEqual(first);
    expect(first.tokens).toHaveLength(700);
  });

  it('agrees with a slow trainer that recounts every pair before each merge', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', 'ab', ' ', ' ', '\n', 'é', '1', '!', "'s", '<|endoftext|>');
    fc.assert(fc.property(fc.string({ unit: alphabet, maxLength: 120 }), fc.integer({ min: 258, max: 300 }), (text, vocabSize) => {
      const expected = referenceTrain(text, vocabSize, [endOfTextToken]);
      const vocabulary = trainBpe(text, { vocabSize }).vocabulary();
      expect(vocabulary.merges).toEqual(expected.merges);
      expect(vocabulary.tokens).toEqual(expected.tokens);
    }), { numRuns: 200 });
  });

  it('agrees with the slow trainer on a real paragraph', () => {
    const text = fixtureText.slice(0, 6000);
    const expected = referenceTrain(text, 500, []);
    expect(trainBpe(text, { vocabSize: 500, specialTokens: [] }).vocabulary().merges).toEqual(expected.merges);
  });

  it('never exceeds vocabSize, and stops early when the text has no pairs left', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.integer({ min: 258, max: 400 }), (text, vocabSize) => {
      const tokenizer = trainBpe(text, { vocabSize });
      expect(tokenizer.vocabSize).toBeLessThanOrEqual(vocabSize);
      expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    }), { numRuns: 100 });
    const tiny = trainBpe('ab ab', { vocabSize: 1000 });
    expect(tiny.vocabulary().merges).toEqual(['a b', 'Ġ ab']);
    expect(tiny.vocabSize).toBe(256 + 2 + 1);
  });

  it('leaves special tokens in the text out of the counts', () => {
    const tokenizer = trainBpe('x<|endoftext|>y<|endoftext|>x<|endoftext|>y', { vocabSize: 300 });
    expect(tokenizer.vocabulary().merges).toEqual([]);
    expect(tokenizer.encode('x<|endoftext|>y', { allowedSpecial: 'all' })).toEqual([0x78, 256, 0x79]);
  });

  it('refuses a special token that the text also teaches as an ordinary token', () => {
    // 'Ġhi' is how the learned token for " hi" is spelled in the byte-to-unicode alphabet.
    expect(() => trainBpe(' hi hi hi', { vocabSize: 300, specialTokens: ['Ġhi'] })).toThrow(/"Ġhi" was also learned/);
  });

  it('refuses bad options with a clear TokenizerOptionsError', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ vocabSize: 257 }, 'vocabSize', /from 258/],
      [{ vocabSize: 258, specialTokens: ['<a>', '<b>'] }, 'vocabSize', /from 259 \(256 byte tokens, 2 special tokens/],
      [{ vocabSize: 300.5 }, 'vocabSize', /integer/],
      [{ vocabSize: Number.NaN }, 'vocabSize', /integer/],
      [{ vocabSize: 1e9 }, 'vocabSize', /to 4194304/],
      [{ vocabSize: 300, specialTokens: ['<a>', '<a>'] }, 'specialTokens', /listed twice/],
      [{ vocabSize: 300, specialTokens: [''] }, 'specialTokens', /1 to 256 characters/],
      [{ vocabSize: 300, specialTokens: 'eos' }, 'specialTokens', /array/],
    ];
    for (const [options, option, message] of cases) {
      try {
        trainBpe('some text', options as { vocabSize: number });
        expect.unreachable(`${JSON.stringify(options)} should be refused`);
      } catch (error) {
        expect(error).toBeInstanceOf(TokenizerOptionsError);
        expect((error as TokenizerOptionsError).code).toBe('TOKENIZER_OPTIONS');
        expect((error as TokenizerOptionsError).option).toBe(option);
        expect((error as Error).message).toMatch(message);
      }
    }
  });
});
