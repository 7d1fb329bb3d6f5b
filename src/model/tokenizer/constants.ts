/** Limits and codes of the byte-level BPE tokenizer. */

/**
 * The most tokens a vocabulary may hold. Real vocabularies reach about 256 Ki (Gemma);
 * 4 Mi leaves room while keeping a merge's rank and a pair's hash key small integers.
 */
export const tokenCountMax = 4_194_304;

/** The longest special token, in UTF-16 code units. Special tokens are short markers such as '<|endoftext|>'. */
export const specialTokenCharactersMax = 256;

/**
 * How many pre-tokens (words) the encoder remembers the ids of. When the cache is full it is
 * emptied and refilled, which keeps memory bounded on an endless stream of distinct words.
 */
export const pieceCacheEntriesMax = 131_072;

/** Pre-tokens longer than this (in UTF-16 code units) are not cached: they are rare and would pin a lot of memory. */
export const cachedPieceCharactersMax = 64;

/**
 * Pieces of up to this many bytes are merged by a simple scan (quadratic, but with tiny
 * constants); longer ones go through a heap so that a megabyte of spaces stays fast.
 */
export const scanMergeBytesMax = 48;

/** Token types as llama.cpp numbers them (enum llama_token_type / LLAMA_TOKEN_TYPE_*). */
export const tokenTypeCodes = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;

/** The default special token of trainBpe, used as both beginning and end of sequence (GPT-2's convention). */
export const endOfTextToken = '<|endoftext|>';
