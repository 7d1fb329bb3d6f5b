import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ninesOf, ninesTable } from '../../src/availability/index.js';

describe('ninesOf', () => {
  it('counts the nines of round availabilities exactly', () => {
    expect(ninesOf(0.9)).toBe(1);
    expect(ninesOf(0.99)).toBe(2);
    expect(ninesOf(0.999)).toBe(3);
    expect(ninesOf(0.9999)).toBe(4);
    expect(ninesOf(0.99999)).toBe(5);
    expect(ninesOf(0)).toBe(0);
    expect(Object.is(ninesOf(0), 0)).toBe(true);
  });

  it('is null when there was no downtime at all', () => {
    expect(ninesOf(1)).toBeNull();
  });

  it('refuses values that are not availabilities', () => {
    expect(() => ninesOf(1.01)).toThrow(/\[0, 1\]/);
    expect(() => ninesOf(-0.1)).toThrow(/\[0, 1\]/);
    expect(() => ninesOf(Number.NaN)).toThrow(/\[0, 1\]/);
  });

  it('grows with availability', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (left, right) => {
        const [low, high] = left <= right ? [left, right] : [right, left];
        const lowNines = ninesOf(low);
        const highNines = ninesOf(high);
        if (highNines === null) return true;
        return lowNines !== null && lowNines <= highNines;
      }),
    );
  });
});

describe('ninesTable', () => {
  it('lists 90 % to 99.999 % with the downtime each allows per day, 30-day month and 365-day year', () => {
    expect(ninesTable()).toEqual([
      { nines: 1, availability: 0.9, percent: 90, downtimePerDayMs: 8_640_000, downtimePerMonthMs: 259_200_000, downtimePerYearMs: 3_153_600_000 },
      { nines: 2, availability: 0.99, percent: 99, downtimePerDayMs: 864_000, downtimePerMonthMs: 25_920_000, downtimePerYearMs: 315_360_000 },
      { nines: 3, availability: 0.999, percent: 99.9, downtimePerDayMs: 86_400, downtimePerMonthMs: 2_592_000, downtimePerYearMs: 31_536_000 },
      { nines: 4, availability: 0.9999, percent: 99.99, downtimePerDayMs: 8_640, downtimePerMonthMs: 259_200, downtimePerYearMs: 3_153_600 },
      { nines: 5, availability: 0.99999, percent: 99.999, downtimePerDayMs: 864, downtimePerMonthMs: 25_920, downtimePerYearMs: 315_360 },
    ]);
  });

  it('agrees with ninesOf on every row', () => {
    for (const row of ninesTable()) expect(ninesOf(row.availability)).toBe(row.nines);
  });
});
