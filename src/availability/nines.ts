/**
 * The number of nines: availability 0.999 is "three nines", -log10(1 - 0.999) = 3. An
 * availability of exactly 1 (no downtime seen) has no finite number of nines, so it is null.
 */
import { assert } from '../core/assert.js';
import { dayMs, monthMs, ninesDecimals, ninesTableMax, ninesTableMin, yearMs } from './constants.js';

export interface NinesRow {
  nines: number;
  /** As a fraction: 0.9, 0.99, ... */
  availability: number;
  /** As a percentage: 90, 99, 99.9, ... */
  percent: number;
  downtimePerDayMs: number;
  /** Per month of 30 days. */
  downtimePerMonthMs: number;
  /** Per year of 365 days. */
  downtimePerYearMs: number;
}

export function ninesOf(availability: number): number | null {
  assert(Number.isFinite(availability) && availability >= 0 && availability <= 1, `availability must be in [0, 1], got ${availability}`);
  if (availability === 1) return null;
  const scale = 10 ** ninesDecimals;
  // `+ 0` turns the -0 of an availability of 0 into 0.
  return Math.round(-Math.log10(1 - availability) * scale) / scale + 0;
}

/** 90 % to 99.999 %, with the downtime each allows. Divisions by powers of ten keep the values exact. */
export function ninesTable(): NinesRow[] {
  const rows: NinesRow[] = [];
  for (let nines = ninesTableMin; nines <= ninesTableMax; nines++) {
    const denominator = 10 ** nines;
    rows.push({
      nines,
      availability: (denominator - 1) / denominator,
      percent: (100 * (denominator - 1)) / denominator,
      downtimePerDayMs: dayMs / denominator,
      downtimePerMonthMs: monthMs / denominator,
      downtimePerYearMs: yearMs / denominator,
    });
  }
  return rows;
}
