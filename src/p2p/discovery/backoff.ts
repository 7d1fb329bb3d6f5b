/**
 * The retry schedule of bootstrap contacts that did not answer: exponential backoff with
 * jitter, capped. Pure, so that its shape can be tested; the randomness is injected.
 */
import type { Rng } from '../../core/rng.js';
import {
  bootstrapAttemptsMax,
  bootstrapRetryBackoffFactor,
  bootstrapRetryDelayMsInitial,
  bootstrapRetryDelayMsMax,
  bootstrapRetryJitterFraction,
} from './constants.js';

export interface BackoffLimits {
  delayMsInitial: number;
  factor: number;
  delayMsMax: number;
  jitterFraction: number;
  attemptsMax: number;
}

export const bootstrapBackoffDefault: Readonly<BackoffLimits> = Object.freeze({
  delayMsInitial: bootstrapRetryDelayMsInitial,
  factor: bootstrapRetryBackoffFactor,
  delayMsMax: bootstrapRetryDelayMsMax,
  jitterFraction: bootstrapRetryJitterFraction,
  attemptsMax: bootstrapAttemptsMax,
});

export function checkBackoffLimits(limits: BackoffLimits): BackoffLimits {
  if (!(limits.delayMsInitial > 0 && limits.delayMsInitial <= limits.delayMsMax)) {
    throw new RangeError(`the first retry delay (${limits.delayMsInitial} ms) must be positive and at most the longest delay (${limits.delayMsMax} ms)`);
  }
  if (!(limits.factor >= 1)) throw new RangeError(`the backoff factor must be at least 1, got ${limits.factor}`);
  if (!(limits.jitterFraction >= 0 && limits.jitterFraction <= 1)) throw new RangeError(`the jitter fraction must be from 0 to 1, got ${limits.jitterFraction}`);
  if (!(Number.isInteger(limits.attemptsMax) && limits.attemptsMax >= 1)) throw new RangeError(`attemptsMax must be a positive integer, got ${limits.attemptsMax}`);
  return limits;
}

/** The longest wait before retry number `retry` (1 = the first retry), before jitter. */
export function backoffCeilingMs(retry: number, limits: BackoffLimits): number {
  return Math.min(limits.delayMsMax, limits.delayMsInitial * limits.factor ** (retry - 1));
}

/**
 * How long to wait before retry number `retry` (1 = the first retry): a random time between
 * `(1 - jitterFraction)` times the ceiling and the ceiling. Undefined once `attemptsMax`
 * attempts (the first try and its retries) have been made: the contact is given up.
 */
export function backoffDelayMs(retry: number, limits: BackoffLimits, rng: Rng): number | undefined {
  if (retry >= limits.attemptsMax) return undefined;
  const ceiling = backoffCeilingMs(retry, limits);
  return Math.round(ceiling * (1 - limits.jitterFraction * rng.nextFloat()));
}
