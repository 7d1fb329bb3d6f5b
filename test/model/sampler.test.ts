import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Sampler, type SamplerSettings, defaultSamplerSettings } from '../../src/model/sampler.js';
import { selectBest, sortBest } from '../../src/model/sampler-selection.js';
import { InvalidTokenError, SamplerSettingsError } from '../../src/model/errors.js';

const neutral: SamplerSettings = { temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, repetitionWindow: 0 };

// Logits on a coarse grid, so that ties (broken by the lower id) are common.
const logitsArbitrary = fc.array(fc.integer({ min: -40, max: 40 }), { minLength: 1, maxLength: 60 }).map((values) => Float32Array.from(values, (v) => v / 4));

/** Ids best first: higher logit, then lower id. */
function rankedIds(logits: Float32Array): number[] {
  return Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
}

/** Probabilities at temperature 1, in float64. */
function softmax(logits: Float32Array): number[] {
  const maximum = Math.max(...logits);
  const exps = Array.from(logits, (l) => Math.exp(l - maximum));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

describe('greedy (temperature 0)', () => {
  it('picks the argmax, the lowest id on ties, and consumes no randomness', () => {
    fc.assert(
      fc.property(logitsArbitrary, fc.integer(), (logits, seed) => {
        const sampler = new Sampler({ ...neutral, temperature: 0, topK: 3 }, seed);
        const before = sampler.state();
        expect(sampler.sample(logits, [])).toBe(rankedIds(logits)[0]);
        expect(sampler.state()).toEqual(before);
      }),
    );
  });
});

describe('top-k', () => {
  it('never picks outside the k best', () => {
    fc.assert(
      fc.property(logitsArbitrary, fc.integer({ min: 1, max: 60 }), fc.double({ min: 0.1, max: 5, noNaN: true }), fc.integer(), (logits, topK, temperature, seed) => {
        const sampler = new Sampler({ ...neutral, topK, temperature }, seed);
        const allowed = new Set(rankedIds(logits).slice(0, topK));
        for (let draw = 0; draw < 20; draw++) expect(allowed.has(sampler.sample(logits, []))).toBe(true);
      }),
    );
  });

  it('selects the same ids, in the same order, as sorting everything', () => {
    fc.assert(
      fc.property(logitsArbitrary, fc.integer({ min: 1, max: 60 }), (logits, k) => {
        const count = Math.min(k, logits.length);
        const order = new Int32Array(logits.length);
        selectBest(logits, order, count);
        expect(Array.from(order.subarray(0, count))).toEqual(rankedIds(logits).slice(0, count));
        const all = Int32Array.from(logits.keys()).reverse();
        sortBest(logits, all, all.length);
        expect(Array.from(all)).toEqual(rankedIds(logits));
      }),
    );
  });
});

describe('top-p', () => {
  it('keeps the smallest best-first prefix whose probability reaches p', () => {
    fc.assert(
      fc.property(logitsArbitrary, fc.double({ min: 0.01, max: 1, noNaN: true }), (logits, topP) => {
        const kept = new Sampler({ ...neutral, topP }, 1).candidates(logits, [], logits.length).map((c) => c.id);
        const ranked = rankedIds(logits);
        expect(kept).toEqual(ranked.slice(0, kept.length));
        const probabilities = softmax(logits);
        const mass = (count: number) => kept.slice(0, count).reduce((sum, id) => sum + probabilities[id], 0);
        if (kept.length < logits.length) expect(mass(kept.length)).toBeGreaterThanOrEqual(topP - 1e-9);
        expect(mass(kept.length - 1)).toBeLessThan(topP + 1e-9);
      }),
    );
  });
});

describe('min-p', () => {
  it('keeps exactly the tokens at least minP times as likely as the best', () => {
    fc.assert(
      fc.property(logitsArbitrary, fc.double({ min: 0.001, max: 1, noNaN: true }), (logits, minP) => {
        const kept = new Sampler({ ...neutral, minP }, 1).candidates(logits, [], logits.length).map((c) => c.id);
        const maximum = Math.max(...logits);
        const expected = rankedIds(logits).filter((id) => logits[id] >= maximum + Math.log(minP));
        expect(kept).toEqual(expected);
      }),
    );
  });
});

describe('the whole chain', () => {
  const settingsArbitrary = fc.record({
    temperature: fc.oneof(fc.constant(0), fc.double({ min: 0.05, max: 3, noNaN: true })),
    topK: fc.integer({ min: 0, max: 70 }),
    topP: fc.double({ min: 0.05, max: 1, noNaN: true }),
    minP: fc.double({ min: 0, max: 0.5, noNaN: true }),
    repetitionPenalty: fc.double({ min: 0.5, max: 2, noNaN: true }),
    repetitionWindow: fc.integer({ min: 0, max: 8 }),
  });

  it('samples only candidates; candidates are sorted, sum to at most 1 and consume no randomness; tracing changes nothing', () => {
    fc.assert(
      fc.property(logitsArbitrary, settingsArbitrary, fc.integer(), fc.array(fc.nat(), { maxLength: 12 }), (logits, settings, seed, history) => {
        const previous = history.map((id) => id % logits.length);
        const sampler = new Sampler(settings, seed);
        const twin = new Sampler(settings, seed);
        for (let draw = 0; draw < 5; draw++) {
          const before = sampler.state();
          const candidates = sampler.candidates(logits, previous, logits.length);
          expect(sampler.state()).toEqual(before);
          for (let i = 1; i < candidates.length; i++) expect(candidates[i].probability).toBeLessThanOrEqual(candidates[i - 1].probability);
          expect(candidates.reduce((sum, c) => sum + c.probability, 0)).toBeLessThanOrEqual(1 + 1e-9);
          const traced = sampler.sampleTraced(logits, previous, 3);
          const plain = twin.sample(logits, previous);
          expect(traced.token).toBe(plain);
          expect(sampler.state()).toEqual(twin.state());
          expect(candidates.map((c) => c.id)).toContain(plain);
          expect(traced.probability).toBeCloseTo(candidates.find((c) => c.id === plain)!.probability, 12);
          expect(traced.candidates).toEqual(candidates.slice(0, 3));
        }
      }),
    );
  });

  it('repeats exactly from a seed, and continues identically after save and restore', () => {
    fc.assert(
      fc.property(fc.array(logitsArbitrary.filter((l) => l.length >= 8), { minLength: 2, maxLength: 12 }), fc.integer(), fc.nat(), (steps, seed, splitSeed) => {
        const settings = { ...defaultSamplerSettings, repetitionPenalty: 1.3, repetitionWindow: 4 };
        const run = (sampler: Sampler, from: number, to: number, previous: number[]) =>
          steps.slice(from, to).map((logits) => {
            const token = sampler.sample(logits.subarray(0, 8), previous);
            previous.push(token);
            return token;
          });
        const first = run(new Sampler(settings, seed), 0, steps.length, []);
        expect(run(new Sampler(settings, seed), 0, steps.length, [])).toEqual(first);
        const split = splitSeed % steps.length;
        const partial = new Sampler(settings, seed);
        const previous: number[] = [];
        const before = run(partial, 0, split, previous);
        const restored = Sampler.restore(JSON.parse(JSON.stringify(partial.state())));
        expect([...before, ...run(restored, split, steps.length, previous)]).toEqual(first);
      }),
    );
  });

  it('draws in proportion to the probabilities', () => {
    const sampler = new Sampler(neutral, 42);
    const logits = Float32Array.from([0, Math.log(3), -Infinity]);
    const counts = [0, 0, 0];
    for (let draw = 0; draw < 4000; draw++) counts[sampler.sample(logits, [])]++;
    expect(counts[1] / 4000).toBeGreaterThan(0.72);
    expect(counts[1] / 4000).toBeLessThan(0.78);
    expect(counts[2]).toBe(0);
  });
});

describe('repetition penalty', () => {
  it('divides positive and multiplies negative logits of each distinct recent token once', () => {
    const settings = { ...neutral, repetitionPenalty: 2, repetitionWindow: 3 };
    const logits = Float32Array.from([4, -1, 3, 2.5]);
    // Window [1, 0, 0]: token 0 (4 -> 2) and token 1 (-1 -> -2); token 2 fell out of the window.
    const candidates = new Sampler(settings, 1).candidates(logits, [2, 1, 0, 0], 4);
    expect(candidates.map((c) => c.id)).toEqual([2, 3, 0, 1]);
    const expected = softmax(Float32Array.from([2, -2, 3, 2.5]));
    for (const { id, probability } of candidates) expect(probability).toBeCloseTo(expected[id], 12);
    expect(new Sampler({ ...settings, temperature: 0 }, 1).sample(logits, [0])).toBe(2);
  });

  it('refuses previous tokens outside the vocabulary', () => {
    const sampler = new Sampler({ ...neutral, repetitionPenalty: 1.1, repetitionWindow: 4 }, 1);
    expect(() => sampler.sample(Float32Array.from([1, 2]), [0, 2])).toThrow(InvalidTokenError);
  });
});

describe('settings and inputs', () => {
  it('names the setting that is out of range', () => {
    const bad: Array<[Partial<SamplerSettings>, RegExp]> = [
      [{ temperature: -1 }, /temperature: must be a finite number >= 0/],
      [{ temperature: NaN }, /temperature/],
      [{ topK: 1.5 }, /topK: must be an integer >= 0/],
      [{ topP: 0 }, /topP: must be a number in \(0, 1\]/],
      [{ topP: 1.1 }, /topP/],
      [{ minP: -0.1 }, /minP: must be a number in \[0, 1\]/],
      [{ repetitionPenalty: 0 }, /repetitionPenalty: must be a finite number > 0/],
      [{ repetitionWindow: -1 }, /repetitionWindow: must be an integer from 0 to 65536/],
    ];
    for (const [change, message] of bad) {
      expect(() => new Sampler({ ...defaultSamplerSettings, ...change }, 1)).toThrow(SamplerSettingsError);
      expect(() => new Sampler({ ...defaultSamplerSettings, ...change }, 1)).toThrow(message);
    }
    expect(() => new Sampler(defaultSamplerSettings, 0.5)).toThrow(/seed: must be a safe integer/);
    expect(() => Sampler.restore({ settings: defaultSamplerSettings, rng: { s0: 0, s1: 0, s2: 0, s3: 0 } })).toThrow(/rng: must be four unsigned 32-bit words/);
  });

  it('refuses logits it cannot sample from', () => {
    const sampler = new Sampler(neutral, 1);
    expect(() => sampler.sample(Float32Array.from([0, NaN]), [])).toThrow(/logit of token 1 is NaN/);
    expect(() => sampler.sample(Float32Array.from([-Infinity, -Infinity]), [])).toThrow(/every logit is -Infinity/);
    expect(() => sampler.sample(new Float32Array(0), [])).toThrow(/empty vocabulary/);
  });

  it('keeps its state as plain data', () => {
    const sampler = new Sampler(defaultSamplerSettings, 9);
    const state = sampler.state();
    state.settings.temperature = 5;
    expect(sampler.state().settings.temperature).toBe(0.8);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});
