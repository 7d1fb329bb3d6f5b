/**
 * The tokenizer's portable description (TokenizerVocabulary, the shape GGUF stores) and its
 * checked, compiled form: token bytes, the byte tokens, the merge table and the special tokens.
 * Every check names the source and the key, so a bad file is easy to find and fix.
 */
import { tokenStringToBytes } from './byte-unicode.js';
import { specialTokenCharactersMax, tokenCountMax, tokenTypeCodes } from './constants.js';
import { TokenizerFormatError } from './errors.js';
import type { MergeRules } from './merge.js';
import { PairTable } from './pair-table.js';
import { writeUtf8 } from './utf8.js';

export interface TokenizerVocabulary {
  /** The pre-tokenizer's name as llama.cpp knows it (tokenizer.ggml.pre). */
  pre: 'gpt-2';
  /** Token strings by id: normal tokens in GPT-2's byte-to-unicode form (like vocab.json keys), control and user-defined tokens as literal text (as llama.cpp stores them). */
  tokens: string[];
  /** llama.cpp's token types by id: 1 normal, 3 control (special); see tokenTypeCodes. */
  tokenTypes: number[];
  /** "left right" in byte-to-unicode form, earliest (lowest rank) first. */
  merges: string[];
  bosTokenId?: number;
  eosTokenId?: number;
}

/** The names under which a source stores each field, used in error messages. */
export interface VocabularyKeys {
  pre: string;
  tokens: string;
  tokenTypes: string;
  merges: string;
  bosTokenId: string;
  eosTokenId: string;
}

export const vocabularyFieldKeys: VocabularyKeys = {
  pre: 'pre',
  tokens: 'tokens',
  tokenTypes: 'tokenTypes',
  merges: 'merges',
  bosTokenId: 'bosTokenId',
  eosTokenId: 'eosTokenId',
};

/** Where a vocabulary came from: a name for the source (a file path) and its key names. */
export interface VocabularyOrigin {
  source: string;
  keys: VocabularyKeys;
}

export interface CompiledVocabulary {
  vocabulary: TokenizerVocabulary;
  /** The bytes each token stands for. */
  tokenBytes: Uint8Array[];
  /** byteTokenIds[b] is the id of the normal token of the single byte b. */
  byteTokenIds: Int32Array;
  rules: MergeRules;
  /** Control and user-defined tokens, by their literal text: what encode may recognise when allowed. */
  specialTokenIds: Map<string, number>;
}

/** Token types whose string is literal text rather than byte-to-unicode (llama.cpp treats them the same way). */
export function isLiteralTokenType(type: number): boolean {
  return type === tokenTypeCodes.control || type === tokenTypeCodes.userDefined;
}

const knownTokenTypes: ReadonlySet<number> = new Set(Object.values(tokenTypeCodes));

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

function literalBytes(text: string): Uint8Array {
  const buffer = new Uint8Array(text.length * 3);
  return buffer.slice(0, writeUtf8(text, buffer));
}

/** Checks the tokens and their types; returns each token's bytes and the id of each string. */
function compileTokens(vocabulary: TokenizerVocabulary, origin: VocabularyOrigin): { tokenBytes: Uint8Array[]; tokenIds: Map<string, number>; specialTokenIds: Map<string, number> } {
  const { source, keys } = origin;
  const { tokens, tokenTypes } = vocabulary;
  if (!Array.isArray(tokens) || tokens.length === 0) throw new TokenizerFormatError(source, keys.tokens, 'must be a non-empty array of token strings');
  if (tokens.length > tokenCountMax) throw new TokenizerFormatError(source, keys.tokens, `has ${tokens.length} tokens, more than the ${tokenCountMax} this tokenizer supports`);
  if (!Array.isArray(tokenTypes) || tokenTypes.length !== tokens.length) {
    const length = Array.isArray(tokenTypes) ? String(tokenTypes.length) : 'no';
    throw new TokenizerFormatError(source, keys.tokenTypes, `has ${length} entries but ${keys.tokens} has ${tokens.length}; there must be one type per token`);
  }
  const tokenBytes: Uint8Array[] = new Array<Uint8Array>(tokens.length);
  const tokenIds = new Map<string, number>();
  const specialTokenIds = new Map<string, number>();
  for (let id = 0; id < tokens.length; id++) {
    const token = tokens[id];
    const type = tokenTypes[id];
    if (typeof token !== 'string' || token.length === 0) throw new TokenizerFormatError(source, keys.tokens, `token ${id} is empty or not a string`);
    if (!knownTokenTypes.has(type)) throw new TokenizerFormatError(source, keys.tokenTypes, `token ${id} has type ${String(type)}, which is not a llama.cpp token type (1 to 6)`);
    const previous = tokenIds.get(token);
    if (previous !== undefined) throw new TokenizerFormatError(source, keys.tokens, `token ${id} (${quote(token)}) duplicates token ${previous}; every token string must be unique`);
    tokenIds.set(token, id);
    if (isLiteralTokenType(type)) {
      if (token.length > specialTokenCharactersMax) throw new TokenizerFormatError(source, keys.tokens, `special token ${id} is ${token.length} characters long, more than ${specialTokenCharactersMax}`);
      tokenBytes[id] = literalBytes(token);
      specialTokenIds.set(token, id);
    } else {
      const bytes = tokenStringToBytes(token);
      if (bytes === undefined) throw new TokenizerFormatError(source, keys.tokens, `token ${id} (${quote(token)}) is a normal token but holds a character outside GPT-2's byte-to-unicode alphabet`);
      tokenBytes[id] = bytes;
    }
  }
  return { tokenBytes, tokenIds, specialTokenIds };
}

/** Checks the merges and builds the pair table; a merge's rank is its index. */
function compileMerges(vocabulary: TokenizerVocabulary, tokenIds: Map<string, number>, origin: VocabularyOrigin): MergeRules {
  const { source, keys } = origin;
  const { merges, tokenTypes } = vocabulary;
  if (!Array.isArray(merges)) throw new TokenizerFormatError(source, keys.merges, 'must be an array of "left right" strings');
  if (merges.length > tokenCountMax) throw new TokenizerFormatError(source, keys.merges, `has ${merges.length} merges, more than the ${tokenCountMax} this tokenizer supports`);
  const pairs = new PairTable(merges.length);
  const results = new Int32Array(merges.length);
  const normalId = (name: string, rank: number): number => {
    const id = tokenIds.get(name);
    if (id === undefined) throw new TokenizerFormatError(source, keys.merges, `merge ${rank} (${quote(merges[rank])}) names ${quote(name)}, which is not in ${keys.tokens}`);
    if (isLiteralTokenType(tokenTypes[id])) throw new TokenizerFormatError(source, keys.merges, `merge ${rank} (${quote(merges[rank])}) names special token ${id}; only normal tokens merge`);
    return id;
  };
  for (let rank = 0; rank < merges.length; rank++) {
    const merge = merges[rank];
    const space = typeof merge === 'string' ? merge.indexOf(' ') : -1;
    if (space <= 0 || space === merge.length - 1 || merge.indexOf(' ', space + 1) >= 0) {
      throw new TokenizerFormatError(source, keys.merges, `merge ${rank} (${quote(String(merge))}) is not two token strings separated by one space`);
    }
    const left = normalId(merge.slice(0, space), rank);
    const right = normalId(merge.slice(space + 1), rank);
    const merged = merge.slice(0, space) + merge.slice(space + 1);
    const result = tokenIds.get(merged);
    if (result === undefined || isLiteralTokenType(tokenTypes[result])) {
      throw new TokenizerFormatError(source, keys.merges, `merge ${rank} (${quote(merge)}) makes ${quote(merged)}, which is not a normal token in ${keys.tokens}`);
    }
    if (!pairs.insert(left, right, rank)) throw new TokenizerFormatError(source, keys.merges, `merge ${rank} (${quote(merge)}) repeats an earlier merge`);
    results[rank] = result;
  }
  return { pairs, results };
}

function checkSpecialId(id: number | undefined, key: string, tokenCount: number, source: string): void {
  if (id === undefined) return;
  if (!Number.isInteger(id) || id < 0 || id >= tokenCount) throw new TokenizerFormatError(source, key, `is ${String(id)}, but token ids run from 0 to ${tokenCount - 1}`);
}

/** Checks a vocabulary completely and compiles it; throws TokenizerFormatError naming the source and key of the first fault. */
export function compileVocabulary(vocabulary: TokenizerVocabulary, origin: VocabularyOrigin = { source: 'vocabulary', keys: vocabularyFieldKeys }): CompiledVocabulary {
  const { source, keys } = origin;
  if (vocabulary.pre !== 'gpt-2') throw new TokenizerFormatError(source, keys.pre, `is ${quote(String(vocabulary.pre))}, but the only pre-tokenizer supported is "gpt-2"`);
  const { tokenBytes, tokenIds, specialTokenIds } = compileTokens(vocabulary, origin);
  const byteTokenIds = new Int32Array(256).fill(-1);
  for (let id = 0; id < tokenBytes.length; id++) {
    if (tokenBytes[id].length === 1 && !isLiteralTokenType(vocabulary.tokenTypes[id])) byteTokenIds[tokenBytes[id][0]] = id;
  }
  const missingByte = byteTokenIds.indexOf(-1);
  if (missingByte >= 0) throw new TokenizerFormatError(source, keys.tokens, `has no normal token for byte 0x${missingByte.toString(16).padStart(2, '0')}; a byte-level tokenizer needs all 256`);
  const rules = compileMerges(vocabulary, tokenIds, origin);
  checkSpecialId(vocabulary.bosTokenId, keys.bosTokenId, tokenBytes.length, source);
  checkSpecialId(vocabulary.eosTokenId, keys.eosTokenId, tokenBytes.length, source);
  const copy: TokenizerVocabulary = {
    pre: 'gpt-2',
    tokens: vocabulary.tokens.slice(),
    tokenTypes: vocabulary.tokenTypes.slice(),
    merges: vocabulary.merges.slice(),
  };
  if (vocabulary.bosTokenId !== undefined) copy.bosTokenId = vocabulary.bosTokenId;
  if (vocabulary.eosTokenId !== undefined) copy.eosTokenId = vocabulary.eosTokenId;
  return { vocabulary: copy, tokenBytes, byteTokenIds, rules, specialTokenIds };
}
