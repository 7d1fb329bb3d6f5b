/**
 * The tokenizer as GGUF metadata, in the keys llama.cpp reads for its "gpt2" (byte-level
 * BPE) tokenizer, so that our model files load in llama.cpp and theirs in nines:
 *   tokenizer.ggml.model        string  'gpt2'
 *   tokenizer.ggml.pre          string  'gpt-2' (the pre-tokenizer's regular expression)
 *   tokenizer.ggml.tokens       string[] by id, normal tokens in byte-to-unicode form
 *   tokenizer.ggml.token_type   int32[] by id, llama.cpp's codes (1 normal, 3 control, ...)
 *   tokenizer.ggml.merges       string[] "left right", by rank
 *   tokenizer.ggml.bos_token_id uint32, optional
 *   tokenizer.ggml.eos_token_id uint32, optional
 */
import type { GgufValue } from '../gguf/types.js';
import { BpeTokenizer } from './bpe-tokenizer.js';
import { TokenizerFormatError } from './errors.js';
import type { TokenizerVocabulary, VocabularyKeys } from './vocabulary.js';

export const tokenizerGgufKeys = {
  model: 'tokenizer.ggml.model',
  pre: 'tokenizer.ggml.pre',
  tokens: 'tokenizer.ggml.tokens',
  tokenTypes: 'tokenizer.ggml.token_type',
  merges: 'tokenizer.ggml.merges',
  bosTokenId: 'tokenizer.ggml.bos_token_id',
  eosTokenId: 'tokenizer.ggml.eos_token_id',
} as const satisfies VocabularyKeys & { model: string };

/** llama.cpp's name for byte-level BPE tokenizers, whatever the model family. */
const bpeModelName = 'gpt2';

export function tokenizerToGgufMetadata(tokenizer: BpeTokenizer): Array<[string, GgufValue]> {
  const vocabulary = tokenizer.vocabulary();
  const metadata: Array<[string, GgufValue]> = [
    [tokenizerGgufKeys.model, { type: 'string', value: bpeModelName }],
    [tokenizerGgufKeys.pre, { type: 'string', value: vocabulary.pre }],
    [tokenizerGgufKeys.tokens, { type: 'array', itemType: 'string', values: vocabulary.tokens }],
    [tokenizerGgufKeys.tokenTypes, { type: 'array', itemType: 'int32', values: vocabulary.tokenTypes }],
    [tokenizerGgufKeys.merges, { type: 'array', itemType: 'string', values: vocabulary.merges }],
  ];
  if (vocabulary.bosTokenId !== undefined) metadata.push([tokenizerGgufKeys.bosTokenId, { type: 'uint32', value: vocabulary.bosTokenId }]);
  if (vocabulary.eosTokenId !== undefined) metadata.push([tokenizerGgufKeys.eosTokenId, { type: 'uint32', value: vocabulary.eosTokenId }]);
  return metadata;
}

function describe(value: GgufValue): string {
  return value.type === 'array' ? `an array of ${value.itemType}` : `a ${value.type}`;
}

function requireValue(metadata: ReadonlyMap<string, GgufValue>, key: string, source: string): GgufValue {
  const value = metadata.get(key);
  if (value === undefined) throw new TokenizerFormatError(source, key, 'is missing; a byte-level BPE tokenizer needs it');
  return value;
}

function readString(metadata: ReadonlyMap<string, GgufValue>, key: string, source: string): string {
  const value = requireValue(metadata, key, source);
  if (value.type !== 'string') throw new TokenizerFormatError(source, key, `should be a string but is ${describe(value)}`);
  return value.value;
}

function readStringArray(metadata: ReadonlyMap<string, GgufValue>, key: string, source: string): string[] {
  const value = requireValue(metadata, key, source);
  if (value.type !== 'array' || value.itemType !== 'string') throw new TokenizerFormatError(source, key, `should be an array of strings but is ${describe(value)}`);
  return value.values;
}

function readInt32Array(metadata: ReadonlyMap<string, GgufValue>, key: string, source: string): number[] {
  const value = requireValue(metadata, key, source);
  if (value.type !== 'array' || value.itemType !== 'int32') throw new TokenizerFormatError(source, key, `should be an array of int32 but is ${describe(value)}`);
  return value.values;
}

function readOptionalTokenId(metadata: ReadonlyMap<string, GgufValue>, key: string, source: string): number | undefined {
  const value = metadata.get(key);
  if (value === undefined) return undefined;
  if (value.type !== 'uint32') throw new TokenizerFormatError(source, key, `should be a uint32 but is ${describe(value)}`);
  return value.value;
}

/**
 * Reads and checks the tokenizer stored in a GGUF file's metadata. `source` names the file in
 * errors. Throws TokenizerFormatError, naming the source and the key, for anything it cannot
 * use: a missing or wrongly typed key, another tokenizer model, an unknown pre-tokenizer,
 * merges of unknown tokens, mismatched lengths, out-of-range ids, duplicate tokens.
 */
export function tokenizerFromGgufMetadata(metadata: ReadonlyMap<string, GgufValue>, source: string): BpeTokenizer {
  const model = readString(metadata, tokenizerGgufKeys.model, source);
  if (model !== bpeModelName) {
    throw new TokenizerFormatError(source, tokenizerGgufKeys.model, `is ${JSON.stringify(model)}, but nines reads only byte-level BPE tokenizers ("${bpeModelName}")`);
  }
  const pre = readString(metadata, tokenizerGgufKeys.pre, source);
  if (pre !== 'gpt-2') throw new TokenizerFormatError(source, tokenizerGgufKeys.pre, `is ${JSON.stringify(pre)}, but the only pre-tokenizer nines implements is "gpt-2"`);
  const vocabulary: TokenizerVocabulary = {
    pre,
    tokens: readStringArray(metadata, tokenizerGgufKeys.tokens, source),
    tokenTypes: readInt32Array(metadata, tokenizerGgufKeys.tokenTypes, source),
    merges: readStringArray(metadata, tokenizerGgufKeys.merges, source),
  };
  const bosTokenId = readOptionalTokenId(metadata, tokenizerGgufKeys.bosTokenId, source);
  const eosTokenId = readOptionalTokenId(metadata, tokenizerGgufKeys.eosTokenId, source);
  if (bosTokenId !== undefined) vocabulary.bosTokenId = bosTokenId;
  if (eosTokenId !== undefined) vocabulary.eosTokenId = eosTokenId;
  return BpeTokenizer.fromVocabulary(vocabulary, { source, keys: tokenizerGgufKeys });
}
