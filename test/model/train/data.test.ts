import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { corpusTokens, evaluationWindows, heldOutTargetBytes, sampleBatch, splitCorpus, unigramBitsPerByte } from '../../../src/model/train/data.js';

describe('corpus split', () => {
  it('holds out the last fraction of the tokens', () => {
    const tokens = Int32Array.from({ length: 100 }, (_, i) => i);
    const split = splitCorpus(tokens, 0.1, 8);
    expect(Array.from(split.heldOut)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    expect(split.training.length).toBe(90);
    expect(splitCorpus(tokens, 0, 8).heldOut.length).toBe(0);
    expect(() => splitCorpus(tokens, 0.5, 60)).toThrow(/50 are left for training, fewer than one sequence of 60/);
  });

  it('checks every id against the vocabulary', () => {
    expect(Array.from(corpusTokens([0, 3, 4], 5))).toEqual([0, 3, 4]);
    expect(() => corpusTokens([0, 5], 5)).toThrow(/token 1 of the corpus is 5/);
    expect(() => corpusTokens([0, 1.5], 5)).toThrow(/token 1 of the corpus is 1.5/);
    expect(() => corpusTokens([-1], 5)).toThrow(/token 0/);
  });
});

describe('batches', () => {
  it('pairs each input with the next token, at offsets drawn from the seeded generator', () => {
    const training = Int32Array.from({ length: 50 }, (_, i) => 100 + i);
    const inputs = new Int32Array(3 * 4);
    const targets = new Int32Array(3 * 4);
    sampleBatch(training, new Rng(1), 3, 4, inputs, targets);
    for (let b = 0; b < 3; b++) {
      const start = inputs[b * 4] - 100;
      expect(start).toBeGreaterThanOrEqual(0);
      expect(start + 4).toBeLessThan(50);
      for (let t = 0; t < 4; t++) {
        expect(inputs[b * 4 + t]).toBe(100 + start + t);
        expect(targets[b * 4 + t]).toBe(100 + start + t + 1);
      }
    }
    const again = new Int32Array(12);
    sampleBatch(training, new Rng(1), 3, 4, again, new Int32Array(12));
    expect(again).toEqual(inputs);
  });
});

describe('held-out measures', () => {
  it('cuts the held-out tokens into windows that score every token after the first exactly once', () => {
    expect(evaluationWindows(10, 4)).toEqual([{ start: 0, length: 4 }, { start: 4, length: 4 }, { start: 8, length: 1 }]);
    expect(evaluationWindows(9, 4)).toEqual([{ start: 0, length: 4 }, { start: 4, length: 4 }]);
    expect(evaluationWindows(1, 4)).toEqual([]);
  });

  it('computes the add-one unigram baseline in bits per byte, by hand', () => {
    // Vocabulary of 3; training counts: id 0 x3, id 1 x1, id 2 x0; total 4, so p = (c + 1) / 7.
    const split = { training: Int32Array.from([0, 0, 1, 0]), heldOut: Int32Array.from([2, 0, 1]) };
    const byteLengths = [1, 2, 4];
    // Targets are the held-out tokens after the first: 0 (p = 4/7, 1 byte) and 1 (p = 2/7, 2 bytes).
    expect(heldOutTargetBytes(split.heldOut, byteLengths)).toBe(3);
    const bits = -Math.log2(4 / 7) - Math.log2(2 / 7);
    expect(unigramBitsPerByte(split, 3, byteLengths)).toBeCloseTo(bits / 3, 12);
  });
});
