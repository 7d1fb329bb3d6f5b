import { describe, expect, it } from 'vitest';
import type { GgufValue } from '../../../src/model/gguf/types.js';
import {
  BpeTokenizer,
  TokenizerFormatError,
  tokenizerFromGgufMetadata,
  tokenizerGgufKeys as keys,
  tokenizerToGgufMetadata,
  trainBpe,
} from '../../../src/model/tokenizer/index.js';
import { loadGpt2Tokenizer } from '../../../src/model/tokenizer/gpt2-file.js';
import { fixtureText } from './helpers.js';

const source = 'models/test.gguf';
const small = trainBpe(fixtureText.slice(0, 30_000), { vocabSize: 320, specialTokens: ['<|endoftext|>', '<|user|>'] });

function metadataOf(tokenizer: BpeTokenizer): Map<string, GgufValue> {
  return new Map(tokenizerToGgufMetadata(tokenizer));
}

describe('tokenizer GGUF metadata', () => {
  it('writes the keys llama.cpp reads, with their GGUF types', () => {
    const metadata = metadataOf(small);
    expect(metadata.get(keys.model)).toEqual({ type: 'string', value: 'gpt2' });
    expect(metadata.get(keys.pre)).toEqual({ type: 'string', value: 'gpt-2' });
    expect(metadata.get(keys.tokens)).toMatchObject({ type: 'array', itemType: 'string' });
    expect(metadata.get(keys.tokenTypes)).toMatchObject({ type: 'array', itemType: 'int32' });
    expect(metadata.get(keys.merges)).toMatchObject({ type: 'array', itemType: 'string' });
    expect(metadata.get(keys.bosTokenId)).toEqual({ type: 'uint32', value: 318 });
    expect(metadata.get(keys.eosTokenId)).toEqual({ type: 'uint32', value: 318 });
    expect([...metadata.keys()]).toEqual(Object.values(keys));
  });

  it('round-trips a trained tokenizer and GPT-2', () => {
    for (const tokenizer of [small, loadGpt2Tokenizer()]) {
      const read = tokenizerFromGgufMetadata(metadataOf(tokenizer), source);
      expect(read.vocabulary()).toEqual(tokenizer.vocabulary());
      expect(read.encode(fixtureText.slice(0, 5000), { allowedSpecial: 'all' })).toEqual(tokenizer.encode(fixtureText.slice(0, 5000), { allowedSpecial: 'all' }));
    }
  });

  it('round-trips a tokenizer without bos and eos', () => {
    const bare = trainBpe('no specials here', { vocabSize: 270, specialTokens: [] });
    const metadata = metadataOf(bare);
    expect(metadata.has(keys.bosTokenId)).toBe(false);
    const read = tokenizerFromGgufMetadata(metadata, source);
    expect(read.bosTokenId).toBeUndefined();
    expect(read.eosTokenId).toBeUndefined();
    expect(read.vocabulary()).toEqual(bare.vocabulary());
  });
});

describe('tokenizerFromGgufMetadata refuses what it cannot use', () => {
  const base = metadataOf(small);
  const tokens = small.vocabulary().tokens;
  const types = small.vocabulary().tokenTypes;
  const merges = small.vocabulary().merges;
  const strings = (values: string[]): GgufValue => ({ type: 'array', itemType: 'string', values });
  const int32s = (values: number[]): GgufValue => ({ type: 'array', itemType: 'int32', values });

  // Each case: a change to valid metadata (undefined deletes the key), the key the error must name, and what it must say.
  const cases: Array<[string, Record<string, GgufValue | undefined>, string, RegExp]> = [
    ['missing model', { [keys.model]: undefined }, keys.model, /is missing/],
    ['missing pre-tokenizer', { [keys.pre]: undefined }, keys.pre, /is missing/],
    ['missing tokens', { [keys.tokens]: undefined }, keys.tokens, /is missing/],
    ['missing token types', { [keys.tokenTypes]: undefined }, keys.tokenTypes, /is missing/],
    ['missing merges', { [keys.merges]: undefined }, keys.merges, /is missing/],
    ['model of the wrong type', { [keys.model]: { type: 'uint32', value: 2 } }, keys.model, /should be a string but is a uint32/],
    ['tokens of the wrong type', { [keys.tokens]: int32s([1, 2]) }, keys.tokens, /should be an array of strings but is an array of int32/],
    ['token types of the wrong type', { [keys.tokenTypes]: { type: 'array', itemType: 'uint32', values: types } }, keys.tokenTypes, /array of int32 but is an array of uint32/],
    ['merges that are not an array', { [keys.merges]: { type: 'string', value: 'a b' } }, keys.merges, /array of strings but is a string/],
    ['bos of the wrong type', { [keys.bosTokenId]: { type: 'int32', value: 1 } }, keys.bosTokenId, /should be a uint32 but is a int32/],
    ['another tokenizer model', { [keys.model]: { type: 'string', value: 'llama' } }, keys.model, /"llama", but nines reads only byte-level BPE tokenizers/],
    ['an unknown pre-tokenizer', { [keys.pre]: { type: 'string', value: 'llama3' } }, keys.pre, /"llama3", but the only pre-tokenizer/],
    ['a merge naming an unknown token', { [keys.merges]: strings([...merges, 'Ġzz qq']) }, keys.merges, /names "Ġzz", which is not in tokenizer.ggml.tokens/],
    ['a merge that is not two tokens', { [keys.merges]: strings(['t h e']) }, keys.merges, /not two token strings separated by one space/],
    ['a merge whose result is not a token', { [keys.merges]: strings([...merges, 'q z']) }, keys.merges, /makes "qz", which is not a normal token/],
    ['a repeated merge', { [keys.merges]: strings([...merges, merges[0]]) }, keys.merges, /repeats an earlier merge/],
    ['a merge of a special token', { [keys.merges]: strings([...merges, '<|user|> a']) }, keys.merges, /names special token 319/],
    ['token types of the wrong length', { [keys.tokenTypes]: int32s(types.slice(1)) }, keys.tokenTypes, /has 319 entries but tokenizer.ggml.tokens has 320/],
    ['an unknown token type', { [keys.tokenTypes]: int32s([...types.slice(0, -1), 9]) }, keys.tokenTypes, /token 319 has type 9/],
    ['bos out of range', { [keys.bosTokenId]: { type: 'uint32', value: 320 } }, keys.bosTokenId, /is 320, but token ids run from 0 to 319/],
    ['eos out of range', { [keys.eosTokenId]: { type: 'uint32', value: 4_000_000_000 } }, keys.eosTokenId, /is 4000000000/],
    ['a duplicate token', { [keys.tokens]: strings([...tokens.slice(0, -1), tokens[300]]) }, keys.tokens, /token 319 .* duplicates token 300/],
    ['an empty token', { [keys.tokens]: strings([...tokens.slice(0, -1), '']) }, keys.tokens, /token 319 is empty/],
    ['a normal token outside the byte alphabet', { [keys.tokens]: strings([...tokens.slice(0, -1), 'a b']), [keys.tokenTypes]: int32s([...types.slice(0, -1), 1]) }, keys.tokens, /outside GPT-2's byte-to-unicode alphabet/],
    ['a missing byte token', { [keys.tokens]: strings(['<|skipped|>', ...tokens.slice(1)]), [keys.tokenTypes]: int32s([3, ...types.slice(1)]) }, keys.tokens, /no normal token for byte 0x00/],
    ['no tokens', { [keys.tokens]: strings([]), [keys.tokenTypes]: int32s([]) }, keys.tokens, /non-empty/],
  ];

  it.each(cases)('refuses %s, naming the source and the key', (_, changes, key, problem) => {
    const metadata = new Map(base);
    for (const [name, value] of Object.entries(changes)) {
      if (value === undefined) metadata.delete(name);
      else metadata.set(name, value);
    }
    let thrown: unknown;
    try {
      tokenizerFromGgufMetadata(metadata, source);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TokenizerFormatError);
    const error = thrown as TokenizerFormatError;
    expect(error.code).toBe('TOKENIZER_FORMAT');
    expect(error.source).toBe(source);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(problem);
    expect(error.message.startsWith(`${source}: ${key}: `)).toBe(true);
  });

  it('accepts the unchanged metadata (so each refusal above is caused by its change alone)', () => {
    expect(tokenizerFromGgufMetadata(new Map(base), source).vocabSize).toBe(320);
  });
});

describe('BpeTokenizer.fromVocabulary', () => {
  it('checks a vocabulary given directly, naming its fields', () => {
    const vocabulary = small.vocabulary();
    expect(() => BpeTokenizer.fromVocabulary({ ...vocabulary, bosTokenId: -1 })).toThrow('vocabulary: bosTokenId: is -1');
    expect(() => BpeTokenizer.fromVocabulary({ ...vocabulary, merges: ['nonsense'] })).toThrow(/^vocabulary: merges: merge 0/);
  });

  it('keeps its own copy of the vocabulary', () => {
    const vocabulary = small.vocabulary();
    const tokenizer = BpeTokenizer.fromVocabulary(vocabulary);
    vocabulary.tokens[300] = 'changed';
    expect(tokenizer.vocabulary().tokens[300]).toBe(small.vocabulary().tokens[300]);
  });

  it('refuses allowedSpecial entries that are not special tokens', () => {
    expect(() => small.encode('x', { allowedSpecial: new Set(['<|nope|>']) })).toThrow(/allowedSpecial: "<\|nope\|>" is not a special token/);
  });
});
