/**
 * Shared test material: a small tokenizer trained on the committed fixture, and plain,
 * obviously-correct reference implementations to check the optimised code against.
 */
import { readFileSync } from 'node:fs';
import { tokenizerFixturePath } from '../../../scripts/make-tokenizer-fixture.js';
import { byteToCharacter, trainBpe, type BpeTokenizer, type TokenizerVocabulary } from '../../../src/model/tokenizer/index.js';
import { preTokenize } from '../../../src/model/tokenizer/pre-tokenizer.js';

export const fixtureText = readFileSync(tokenizerFixturePath, 'utf8');

let smallTokenizer: BpeTokenizer | undefined;

/** A 600-token tokenizer trained on the fixture (trained once per test file). */
export function smallTrainedTokenizer(): BpeTokenizer {
  smallTokenizer ??= trainBpe(fixtureText, { vocabSize: 600 });
  return smallTokenizer;
}

function utf8Characters(text: string): string[] {
  return Array.from(new TextEncoder().encode(text), (byte) => byteToCharacter[byte]);
}

/**
 * BPE as GPT-2's encoder.py does it, on strings: repeatedly take the lowest-ranked adjacent
 * pair and merge every occurrence of it in one left-to-right pass. Slow and plain.
 */
export function referenceEncoder(vocabulary: TokenizerVocabulary): (text: string) => number[] {
  const ranks = new Map(vocabulary.merges.map((merge, rank) => [merge, rank]));
  const ids = new Map(vocabulary.tokens.map((token, id) => [token, id]));
  return (text) => referenceEncode(ranks, ids, text);
}

function referenceEncode(ranks: Map<string, number>, ids: Map<string, number>, text: string): number[] {
  const output: number[] = [];
  for (const piece of preTokenize(text)) {
    let symbols = utf8Characters(piece);
    for (;;) {
      let best: string | undefined;
      let bestRank = Infinity;
      for (let index = 0; index + 1 < symbols.length; index++) {
        const rank = ranks.get(`${symbols[index]} ${symbols[index + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = `${symbols[index]} ${symbols[index + 1]}`;
        }
      }
      if (best === undefined) break;
      const [left, right] = best.split(' ');
      const merged: string[] = [];
      for (let index = 0; index < symbols.length; index++) {
        if (index + 1 < symbols.length && symbols[index] === left && symbols[index + 1] === right) {
          merged.push(left + right);
          index++;
        } else merged.push(symbols[index]);
      }
      symbols = merged;
    }
    for (const symbol of symbols) output.push(ids.get(symbol)!);
  }
  return output;
}

/**
 * BPE training the slow way: recount every pair of every word before each merge. Ties:
 * highest count, then smallest left id, then smallest right id (trainBpe's stated rule).
 */
export function referenceTrain(text: string, vocabSize: number, specialTokens: string[]): { tokens: string[]; merges: string[] } {
  const segments = specialTokens.length === 0 ? [text] : text.split(new RegExp(specialTokens.map((token) => token.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')).join('|')));
  const tokens = byteToCharacter.slice();
  const ids = new Map(tokens.map((token, id) => [token, id]));
  const words: number[][] = [];
  for (const segment of segments) for (const piece of preTokenize(segment)) words.push(utf8Characters(piece).map((character) => ids.get(character)!));
  const merges: string[] = [];
  while (tokens.length < vocabSize - specialTokens.length) {
    const counts = new Map<string, number>();
    for (const word of words) for (let index = 0; index + 1 < word.length; index++) counts.set(`${word[index]},${word[index + 1]}`, (counts.get(`${word[index]},${word[index + 1]}`) ?? 0) + 1);
    let best: [number, number] | undefined;
    let bestCount = 0;
    for (const [key, count] of counts) {
      const [left, right] = key.split(',').map(Number);
      if (count > bestCount || (count === bestCount && best !== undefined && (left < best[0] || (left === best[0] && right < best[1])))) {
        best = [left, right];
        bestCount = count;
      }
    }
    if (best === undefined) break;
    const [left, right] = best;
    const text = tokens[left] + tokens[right];
    let merged = ids.get(text);
    if (merged === undefined) {
      merged = tokens.length;
      tokens.push(text);
      ids.set(text, merged);
    }
    merges.push(`${tokens[left]} ${tokens[right]}`);
    for (let wordIndex = 0; wordIndex < words.length; wordIndex++) {
      const word = words[wordIndex];
      const rewritten: number[] = [];
      for (let index = 0; index < word.length; index++) {
        if (index + 1 < word.length && word[index] === left && word[index + 1] === right) {
          rewritten.push(merged);
          index++;
        } else rewritten.push(word[index]);
      }
      words[wordIndex] = rewritten;
    }
  }
  return { tokens: tokens.concat(specialTokens), merges };
}
