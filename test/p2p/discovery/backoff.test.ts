import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from '../../../src/core/rng.js';
import { backoffCeilingMs, backoffDelayMs, bootstrapBackoffDefault, checkBackoffLimits, type BackoffLimits } from '../../../src/p2p/discovery/index.js';

describe('the bootstrap retry schedule', () => {
  it('doubles from the first delay up to the longest, then gives up after attemptsMax attempts', () => {
    const limits = bootstrapBackoffDefault;
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8].map((retry) => backoffCeilingMs(retry, limits));
    expect(ceilings).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    const rng = new Rng(1);
    expect(backoffDelayMs(limits.attemptsMax - 1, limits, rng)).toBeDefined();
    expect(backoffDelayMs(limits.attemptsMax, limits, rng)).toBeUndefined();
  });

  it('waits between (1 - jitter) of the ceiling and the ceiling, for any settings and seed', () => {
    const settings = fc.record({
      delayMsInitial: fc.integer({ min: 1, max: 1_000 }),
      factor: fc.double({ min: 1, max: 4, noNaN: true }),
      extraMs: fc.integer({ min: 0, max: 100_000 }),
      jitterFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      attemptsMax: fc.integer({ min: 2, max: 40 }),
    });
    fc.assert(
      fc.property(settings, fc.integer({ min: 1, max: 39 }), fc.integer(), (raw, retry, seed) => {
        const limits: BackoffLimits = { ...raw, delayMsMax: raw.delayMsInitial + raw.extraMs };
        const delay = backoffDelayMs(retry, checkBackoffLimits(limits), new Rng(seed));
        if (retry >= limits.attemptsMax) return delay === undefined;
        const ceiling = backoffCeilingMs(retry, limits);
        return delay !== undefined && delay <= Math.round(ceiling) && delay >= Math.floor(ceiling * (1 - limits.jitterFraction)) && ceiling <= limits.delayMsMax;
      }),
    );
  });

  it('refuses settings that cannot work, saying which', () => {
    const base = bootstrapBackoffDefault;
    expect(() => checkBackoffLimits({ ...base, delayMsInitial: 0 })).toThrow(/first retry delay/);
    expect(() => checkBackoffLimits({ ...base, delayMsInitial: 60_000 })).toThrow(/at most the longest delay/);
    expect(() => checkBackoffLimits({ ...base, factor: 0.5 })).toThrow(/factor/);
    expect(() => checkBackoffLimits({ ...base, jitterFraction: 2 })).toThrow(/jitter/);
    expect(() => checkBackoffLimits({ ...base, attemptsMax: 0 })).toThrow(/attemptsMax/);
  });
});
