/**
 * Learning a byte-level BPE vocabulary from text (Sennrich et al. 2016, on bytes as in GPT-2).
 *
 * The vocabulary starts as the 256 bytes (ids 0..255 in byte order). Then, again and again,
 * the most frequent adjacent pair of tokens inside pre-tokens becomes a new token, until
 * the vocabulary is full; the special tokens come last. Pre-tokens are counted once, so
 * the work is proportional to the distinct words, not to the text. After a merge only the
 * words that contained the pair are re-counted, and the pair counts are kept in a heap whose
 * stale entries are skipped when they surface.
 *
 * Ties are broken so that training is deterministic: the highest count wins, then the
 * smallest left token id, then the smallest right token id.
 */
import { BpeTokenizer } from './bpe-tokenizer.js';
import { byteToCharacter } from './byte-unicode.js';
import { endOfTextToken, specialTokenCharactersMax, tokenCountMax, tokenTypeCodes } from './constants.js';
import { TokenizerOptionsError } from './errors.js';
import { escapeRegExp, preTokenize } from './pre-tokenizer.js';
import { PairStatistics } from './pair-statistics.js';
import { writeUtf8 } from './utf8.js';
import type { TokenizerVocabulary } from './vocabulary.js';

export interface TrainBpeOptions {
  /** The size of the vocabulary to learn, special tokens included. A text too small to fill it gives a smaller one. */
  vocabSize: number;
  /** Default ['<|endoftext|>']. The first becomes both the beginning- and the end-of-sequence token. Occurrences in the text are cut out before counting. */
  specialTokens?: string[];
}

/** At most this many special tokens; they are markers, not a second vocabulary. */
export const specialTokenCountMax = 1024;

function validateOptions(options: TrainBpeOptions): string[] {
  const specialTokens = options.specialTokens ?? [endOfTextToken];
  if (!Array.isArray(specialTokens)) throw new TokenizerOptionsError('specialTokens', 'must be an array of strings');
  if (specialTokens.length > specialTokenCountMax) throw new TokenizerOptionsError('specialTokens', `has ${specialTokens.length} entries, more than ${specialTokenCountMax}`);
  const seen = new Set<string>();
  for (const token of specialTokens) {
    if (typeof token !== 'string' || token.length === 0 || token.length > specialTokenCharactersMax) {
      throw new TokenizerOptionsError('specialTokens', `${JSON.stringify(token)} is not a string of 1 to ${specialTokenCharactersMax} characters`);
    }
    if (seen.has(token)) throw new TokenizerOptionsError('specialTokens', `${JSON.stringify(token)} is listed twice`);
    seen.add(token);
  }
  const { vocabSize } = options;
  const vocabSizeMin = 256 + specialTokens.length + 1;
  if (!Number.isInteger(vocabSize) || vocabSize < vocabSizeMin || vocabSize > tokenCountMax) {
    throw new TokenizerOptionsError('vocabSize', `is ${String(vocabSize)}, but must be an integer from ${vocabSizeMin} (256 byte tokens, ${specialTokens.length} special tokens and at least one merge) to ${tokenCountMax}`);
  }
  return specialTokens;
}

/** Distinct pre-tokens of the text, as byte-token sequences, with how often each occurs. Pre-tokens of one byte are left out: they hold no pair. */
function countWords(text: string, specialTokens: string[]): { words: number[][]; wordCounts: number[] } {
  const segments = specialTokens.length === 0 ? [text] : text.split(new RegExp(specialTokens.map(escapeRegExp).join('|')));
  const pieceCounts = new Map<string, number>();
  for (const segment of segments) {
    for (const piece of preTokenize(segment)) pieceCounts.set(piece, (pieceCounts.get(piece) ?? 0) + 1);
  }
  const words: number[][] = [];
  const wordCounts: number[] = [];
  let buffer = new Uint8Array(64);
  for (const [piece, count] of pieceCounts) {
    if (buffer.length < piece.length * 3) buffer = new Uint8Array(piece.length * 3);
    const length = writeUtf8(piece, buffer);
    if (length < 2) continue;
    words.push(Array.from(buffer.subarray(0, length)));
    wordCounts.push(count);
  }
  return { words, wordCounts };
}

/** `symbols` with every occurrence of (left, right) replaced by `merged`, left to right; undefined if there is none. */
function mergeWord(symbols: number[], left: number, right: number, merged: number): number[] | undefined {
  let result: number[] | undefined;
  for (let index = 0; index < symbols.length; index++) {
    if (index + 1 < symbols.length && symbols[index] === left && symbols[index + 1] === right) {
      result ??= symbols.slice(0, index);
      result.push(merged);
      index++;
    } else if (result !== undefined) {
      result.push(symbols[index]);
    }
  }
  return result;
}

/** Learns merges until `tokens` holds `tokenCountTarget` tokens or no pair is left. Fills `tokens` and `merges`. */
function learnMerges(words: number[][], wordCounts: number[], tokens: string[], merges: string[], tokenCountTarget: number): void {
  const tokenIds = new Map<string, number>(tokens.map((token, id) => [token, id]));
  const statistics = new PairStatistics(tokenCountTarget);
  for (let word = 0; word < words.length; word++) {
    const symbols = words[word];
    for (let index = 0; index + 1 < symbols.length; index++) statistics.change(symbols[index], symbols[index + 1], wordCounts[word], word);
  }
  statistics.commit();
  // The merge in which each word was last rewritten, so that a word listed twice is rewritten once.
  const wordVisits = new Int32Array(words.length).fill(-1);
  while (tokens.length < tokenCountTarget) {
    const pair = statistics.mostFrequent();
    if (pair === undefined) break;
    const { left, right } = pair;
    const text = tokens[left] + tokens[right];
    // Token strings must be unique. Should a pair spell a token learned before through another
    // split (("a", "bc") after ("ab", "c")), the merge produces that token rather than a twin.
    let merged = tokenIds.get(text);
    if (merged === undefined) {
      merged = tokens.length;
      tokens.push(text);
      tokenIds.set(text, merged);
    }
    const mergeNumber = merges.length;
    merges.push(`${tokens[left]} ${tokens[right]}`);
    for (const word of statistics.takeWords(pair.pairId)) {
      if (wordVisits[word] === mergeNumber) continue;
      wordVisits[word] = mergeNumber;
      const symbols = words[word];
      const rewritten = mergeWord(symbols, left, right, merged);
      if (rewritten === undefined) continue;
      const count = wordCounts[word];
      for (let index = 0; index + 1 < symbols.length; index++) statistics.change(symbols[index], symbols[index + 1], -count, undefined);
      for (let index = 0; index + 1 < rewritten.length; index++) {
        const a = rewritten[index];
        const b = rewritten[index + 1];
        statistics.change(a, b, count, a === merged || b === merged ? word : undefined);
      }
      words[word] = rewritten;
    }
    statistics.commit();
  }
}

/**
 * Learns a byte-level BPE tokenizer from `text`. Token ids: the 256 bytes in byte order,
 * then the learned tokens in the order they were learned, then the special tokens.
 */
export function trainBpe(text: string, options: TrainBpeOptions): BpeTokenizer {
  if (typeof text !== 'string') throw new TokenizerOptionsError('text', 'must be a string');
  const specialTokens = validateOptions(options);
  const { words, wordCounts } = countWords(text, specialTokens);
  const tokens = byteToCharacter.slice();
  const merges: string[] = [];
  learnMerges(words, wordCounts, tokens, merges, options.vocabSize - specialTokens.length);
  const tokenTypes = tokens.map(() => tokenTypeCodes.normal as number);
  const learned = new Set(tokens);
  const firstSpecialId = tokens.length;
  for (const special of specialTokens) {
    if (learned.has(special)) {
      throw new TokenizerOptionsError('specialTokens', `${JSON.stringify(special)} was also learned as an ordinary token from the text; pick a marker the text cannot spell as one pre-token, such as '<|name|>'`);
    }
    tokens.push(special);
    tokenTypes.push(tokenTypeCodes.control);
  }
  const vocabulary: TokenizerVocabulary = { pre: 'gpt-2', tokens, tokenTypes, merges };
  if (specialTokens.length > 0) {
    vocabulary.bosTokenId = firstSpecialId;
    vocabulary.eosTokenId = firstSpecialId;
  }
  return BpeTokenizer.fromVocabulary(vocabulary);
}
