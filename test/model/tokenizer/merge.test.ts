import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MergeWorkspace, mergeByHeap, mergeByScan } from '../../../src/model/tokenizer/merge.js';
import { compileVocabulary, type CompiledVocabulary } from '../../../src/model/tokenizer/vocabulary.js';
import { byteToCharacter, trainBpe } from '../../../src/model/tokenizer/index.js';
import { smallTrainedTokenizer } from './helpers.js';

function merged(compiled: CompiledVocabulary, bytes: Uint8Array, merge: typeof mergeByScan): number[] {
  const ids = Int32Array.from(bytes, (byte) => compiled.byteTokenIds[byte]);
  const length = merge(ids, ids.length, compiled.rules, new MergeWorkspace());
  return Array.from(ids.subarray(0, length));
}

describe('the scan and the heap merge the same way', () => {
  // Texts over a few letters repeat pairs often, which is where the leftmost-first rule matters.
  const repetitive = fc.string({ unit: fc.constantFrom('a', 'b', 'n', 'e', 't', 'h', ' ', 'é'), maxLength: 300 }).map((text) => new TextEncoder().encode(text));
  const anyBytes = fc.uint8Array({ maxLength: 300 });

  it('on a small trained vocabulary', () => {
    const compiled = compileVocabulary(smallTrainedTokenizer().vocabulary());
    fc.assert(fc.property(fc.oneof(repetitive, anyBytes), (bytes) => {
      expect(merged(compiled, bytes, mergeByHeap)).toEqual(merged(compiled, bytes, mergeByScan));
    }), { numRuns: 300 });
  });

  it('on a vocabulary learned from the repetitive alphabet itself', () => {
    const text = 'banana bandana ethan than then then the hen ébène '.repeat(20);
    const compiled = compileVocabulary(trainBpe(text, { vocabSize: 320 }).vocabulary());
    fc.assert(fc.property(repetitive, (bytes) => {
      const expected = merged(compiled, bytes, mergeByScan);
      expect(merged(compiled, bytes, mergeByHeap)).toEqual(expected);
      // Merging only ever joins neighbours: the bytes are unchanged.
      const spelled = expected.flatMap((id) => Array.from(compiled.tokenBytes[id]));
      expect(Uint8Array.from(spelled)).toEqual(bytes);
    }), { numRuns: 300 });
  });

  it('picks the leftmost of equal pairs first ("aaa" becomes "aa a", not "a aa")', () => {
    const compiled = compileVocabulary({ pre: 'gpt-2', tokens: [...byteToCharacter, 'aa', 'aaa'], tokenTypes: new Array<number>(258).fill(1), merges: ['a a', 'a aa'] });
    const aa = 256;
    const bytes = new TextEncoder().encode('aaa');
    // "a aa" would merge into "aaa" by the second rule; "aa a" has no rule, so it must stay two tokens.
    expect(merged(compiled, bytes, mergeByScan)).toEqual([aa, compiled.byteTokenIds[0x61]]);
    expect(merged(compiled, bytes, mergeByHeap)).toEqual([aa, compiled.byteTokenIds[0x61]]);
  });
});

