import { readFileSync, writeFileSync } from 'node:fs';
import { getEncoding } from 'js-tiktoken';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTokenizerFixtureText, tokenizerFixturePath } from '../../../scripts/make-tokenizer-fixture.js';
import { StreamingDecoder, type BpeTokenizer } from '../../../src/model/tokenizer/index.js';
import { gpt2EndOfTextTokenId, loadGpt2Tokenizer } from '../../../src/model/tokenizer/gpt2-file.js';

// Set NINES_WRITE_FIXTURES=1 to regenerate the fixture from the script, then review the diff.
if (process.env.NINES_WRITE_FIXTURES === '1') writeFileSync(tokenizerFixturePath, makeTokenizerFixtureText(), 'utf8');

const fixture = readFileSync(tokenizerFixturePath, 'utf8');
const reference = getEncoding('gpt2');
let gpt2: BpeTokenizer;

beforeAll(() => {
  gpt2 = loadGpt2Tokenizer();
});

describe('the GPT-2 parity fixture', () => {
  it('is the generator script output and holds at least 100 KB of every kind of text', () => {
    expect(fixture).toBe(makeTokenizerFixtureText());
    expect(Buffer.byteLength(fixture, 'utf8')).toBeGreaterThanOrEqual(100_000);
    // One witness of each kind the brief asks for, so that a change to the generator cannot silently drop one.
    for (const witness of ["don't", 'function ', '\t', '\n\n', '   ', 'é', '你好', 'مرحبا', '\u200d', '🇫🇷', '0x']) expect(fixture).toContain(witness);
  });
});

describe('GPT-2 tokenizer against js-tiktoken', () => {
  it('has the shape of GPT-2', () => {
    expect(gpt2.vocabSize).toBe(50257);
    expect(gpt2.bosTokenId).toBe(gpt2EndOfTextTokenId);
    expect(gpt2.eosTokenId).toBe(gpt2EndOfTextTokenId);
    expect(gpt2.tokenText(gpt2EndOfTextTokenId)).toBe('<|endoftext|>');
    expect(gpt2.vocabulary().merges).toHaveLength(50000);
  });

  it('encodes the fixture to exactly the same ids and decodes them back', () => {
    const ids = gpt2.encode(fixture);
    const expected = reference.encode(fixture);
    expect(ids.length).toBe(expected.length);
    // Compare as a whole, but report the first difference readably if there is one.
    const firstDifference = ids.findIndex((id, index) => id !== expected[index]);
    expect(firstDifference, `first difference near ${JSON.stringify(gpt2.decode(ids.slice(Math.max(0, firstDifference - 5), firstDifference + 5)))}`).toBe(-1);
    expect(gpt2.decode(ids)).toBe(fixture);
    expect(reference.decode(ids)).toBe(fixture);
  });

  it('encodes the fixture line by line the same way too (a second, cold-cache pass over many short texts)', () => {
    const lines = fixture.split('\n').slice(0, 400);
    for (const line of lines) expect(gpt2.encode(line)).toEqual(reference.encode(line));
  });

  it('gives encodeBytes of valid UTF-8 the same ids as encode', () => {
    expect(gpt2.encodeBytes(new TextEncoder().encode(fixture))).toEqual(gpt2.encode(fixture));
  });

  it('streams the fixture back through a StreamingDecoder', () => {
    const decoder = new StreamingDecoder(gpt2);
    let text = '';
    for (const id of gpt2.encode(fixture)) text += decoder.push(id);
    expect(text + decoder.flush()).toBe(fixture);
  });

  it('recognises <|endoftext|> only when allowed, like tiktoken', () => {
    const text = 'The end.<|endoftext|>The start of<|endoftext|> another';
    const allowed = gpt2.encode(text, { allowedSpecial: 'all' });
    expect(allowed).toEqual(reference.encode(text, 'all'));
    expect(gpt2.encode(text, { allowedSpecial: new Set(['<|endoftext|>']) })).toEqual(allowed);
    expect(allowed.filter((id) => id === gpt2EndOfTextTokenId)).toHaveLength(2);
    const plain = gpt2.encode(text);
    expect(plain).toEqual(reference.encode(text, [], []));
    expect(plain).not.toContain(gpt2EndOfTextTokenId);
    expect(gpt2.decode(plain)).toBe(text);
    expect(gpt2.decode(allowed)).toBe(text);
  });
});
