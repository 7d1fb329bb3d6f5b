/**
 * Per-API-key rate limits: two token buckets per key, one counting requests and one
 * counting model tokens (prompt plus completion), each holding at most a minute's
 * allowance and refilling continuously at that allowance per minute.
 *
 * Why not rate-limiter-flexible here (a project dependency, and the first choice): its
 * memory limiter is a fixed window, not a refilling bucket, so a client may spend two
 * windows' worth across a window boundary and gets nothing back until the window ends;
 * it reads Date.now and arms one setTimeout per key, so time cannot be injected; a
 * refused call still adds its points to the count, so a client that keeps retrying
 * stays blocked longer than its limit says; and its Promise-only API would put a
 * microtask hop and a compensating `reward` in front of every request that has to pass
 * two limits at once. A bucket with lazy refill is a few dozen lines and has none of these.
 */
import { assert } from '../core/assert.js';
import { monotonicClock, type Clock } from './clock.js';
import { evictionScanMax, minuteMs, requestsPerMinuteDefault, tokensPerMinuteDefault, trackedKeysMax } from './constants.js';
import { RateLimitedError, RequestExceedsRateLimitError, type RateLimitKind } from './errors.js';

/** One key's allowance. Each bucket holds at most one minute's worth, which is also the burst. */
export interface KeyLimits {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

/** What a request will cost: one request, and the tokens estimated before it runs. */
export interface RateLimitCost {
  requests: number;
  tokens: number;
}

export type RateLimitDecision =
  | { allowed: true }
  | { allowed: false; limit: RateLimitKind; retryAfterMs: number };

export interface RateLimiterOptions {
  /** Limits for keys the `limits` table does not name. */
  defaults?: Partial<KeyLimits>;
  /** Per-key limits, by key name. */
  limits?: Record<string, Partial<KeyLimits>>;
  trackedKeysMax?: number;
  now?: Clock;
}

/** The buckets of one key: their levels when last touched, and when that was. */
interface KeyBuckets {
  limits: KeyLimits;
  requestsLevel: number;
  tokensLevel: number;
  updatedAtMs: number;
}

function checkLimits(limits: KeyLimits, owner: string): KeyLimits {
  for (const [name, value] of Object.entries(limits)) {
    // Below one a minute, a bucket could never hold a single request (or token) and would refuse everything.
    if (!Number.isFinite(value) || value < 1) {
      throw new RangeError(`${owner}: ${name} must be a number of at least 1, got ${value}; set it in the cluster's API key configuration`);
    }
  }
  return limits;
}

export class RateLimiter {
  private readonly defaults: KeyLimits;
  private readonly limitsByKey = new Map<string, KeyLimits>();
  /** Buckets in least-recently-used order: a touched key is moved to the end. */
  private readonly buckets = new Map<string, KeyBuckets>();
  private readonly keysMax: number;
  private readonly now: Clock;

  constructor(options: RateLimiterOptions = {}) {
    this.defaults = checkLimits({
      requestsPerMinute: options.defaults?.requestsPerMinute ?? requestsPerMinuteDefault,
      tokensPerMinute: options.defaults?.tokensPerMinute ?? tokensPerMinuteDefault,
    }, 'default rate limits');
    for (const [keyName, limits] of Object.entries(options.limits ?? {})) this.setLimits(keyName, limits);
    this.keysMax = options.trackedKeysMax ?? trackedKeysMax;
    assert(Number.isInteger(this.keysMax) && this.keysMax >= 1, 'trackedKeysMax must be a positive integer');
    this.now = options.now ?? monotonicClock;
  }

  /** Sets (or replaces) one key's limits; a key's current levels are kept, capped at the new burst. */
  setLimits(keyName: string, limits: Partial<KeyLimits>): void {
    const merged = checkLimits({ ...this.defaults, ...limits }, `rate limits of API key '${keyName}'`);
    this.limitsByKey.set(keyName, merged);
    const buckets = this.buckets.get(keyName);
    if (buckets !== undefined) {
      this.refill(buckets);
      buckets.limits = merged;
      buckets.requestsLevel = Math.min(buckets.requestsLevel, merged.requestsPerMinute);
      buckets.tokensLevel = Math.min(buckets.tokensLevel, merged.tokensPerMinute);
    }
  }

  limitsOf(keyName: string): KeyLimits {
    return this.limitsByKey.get(keyName) ?? this.defaults;
  }

  /**
   * Takes the cost from both of the key's buckets if both hold enough, and from neither
   * otherwise. A request that could never fit (more tokens than a minute's allowance)
   * throws RequestExceedsRateLimitError: waiting would not help it.
   */
  check(keyName: string, cost: RateLimitCost): RateLimitDecision {
    assert(Number.isFinite(cost.requests) && cost.requests >= 0, `request cost must be a non-negative number, got ${cost.requests}`);
    assert(Number.isFinite(cost.tokens) && cost.tokens >= 0, `token estimate must be a non-negative number, got ${cost.tokens}`);
    const limits = this.limitsOf(keyName);
    if (cost.tokens > limits.tokensPerMinute) {
      throw new RequestExceedsRateLimitError(keyName, cost.tokens, limits.tokensPerMinute);
    }
    assert(cost.requests <= limits.requestsPerMinute, 'one request never costs more than a minute of requests');
    const buckets = this.touch(keyName);
    this.refill(buckets);
    const requestsWaitMs = waitForLevelMs(buckets.requestsLevel, cost.requests, limits.requestsPerMinute);
    const tokensWaitMs = waitForLevelMs(buckets.tokensLevel, cost.tokens, limits.tokensPerMinute);
    if (requestsWaitMs > 0 || tokensWaitMs > 0) {
      // The client must wait for both buckets, so it is told about the slower one.
      return requestsWaitMs >= tokensWaitMs
        ? { allowed: false, limit: 'requests', retryAfterMs: requestsWaitMs }
        : { allowed: false, limit: 'tokens', retryAfterMs: tokensWaitMs };
    }
    buckets.requestsLevel -= cost.requests;
    buckets.tokensLevel -= cost.tokens;
    return { allowed: true };
  }

  /** check(), throwing RateLimitedError when the key must wait: for callers that answer 429 from errors. */
  enforce(keyName: string, cost: RateLimitCost): void {
    const decision = this.check(keyName, cost);
    if (!decision.allowed) throw new RateLimitedError(keyName, decision.limit, decision.retryAfterMs);
  }

  /**
   * Corrects the token bucket once a request's real usage is known: `tokensDelta` is
   * actual minus estimate. Using more than estimated may leave the bucket in debt (down
   * to minus one minute's allowance), which delays the key's next request; using less
   * gives the difference back. A key forgotten in the meantime has nothing to correct.
   */
  settle(keyName: string, tokensDelta: number): void {
    assert(Number.isFinite(tokensDelta), `token correction must be a finite number, got ${tokensDelta}`);
    const buckets = this.buckets.get(keyName);
    if (buckets === undefined) return;
    this.refill(buckets);
    const capacity = buckets.limits.tokensPerMinute;
    buckets.tokensLevel = Math.min(capacity, Math.max(-capacity, buckets.tokensLevel - tokensDelta));
  }

  /** Current levels of one key's buckets, for status pages; a key never seen is full. */
  levels(keyName: string): { requests: number; tokens: number } {
    const buckets = this.buckets.get(keyName);
    if (buckets === undefined) {
      const limits = this.limitsOf(keyName);
      return { requests: limits.requestsPerMinute, tokens: limits.tokensPerMinute };
    }
    this.refill(buckets);
    return { requests: buckets.requestsLevel, tokens: buckets.tokensLevel };
  }

  /** Keys whose buckets are in memory now (never above trackedKeysMax). */
  get trackedKeys(): number {
    return this.buckets.size;
  }

  /** Returns the key's buckets, creating them full, and marks the key as most recently used. */
  private touch(keyName: string): KeyBuckets {
    const existing = this.buckets.get(keyName);
    if (existing !== undefined) {
      this.buckets.delete(keyName);
      this.buckets.set(keyName, existing);
      return existing;
    }
    this.evictForNewKey();
    const limits = this.limitsOf(keyName);
    const created: KeyBuckets = {
      limits,
      requestsLevel: limits.requestsPerMinute,
      tokensLevel: limits.tokensPerMinute,
      updatedAtMs: this.now(),
    };
    this.buckets.set(keyName, created);
    return created;
  }

  /**
   * Makes room for one more key. A bucket pair that has refilled completely is the same
   * as a new one, so forgetting it costs nothing: those at the idle end go first, then
   * (if the table is full) the first full pair among the idlest `evictionScanMax`, and
   * only failing that the least recently used key, which comes back with full buckets.
   */
  private evictForNewKey(): void {
    for (const [keyName, buckets] of this.buckets) {
      if (!this.isFull(buckets)) break;
      this.buckets.delete(keyName);
    }
    if (this.buckets.size < this.keysMax) return;
    let scanned = 0;
    for (const [keyName, buckets] of this.buckets) {
      if (scanned >= evictionScanMax) break;
      scanned += 1;
      if (this.isFull(buckets)) {
        this.buckets.delete(keyName);
        return;
      }
    }
    const idlest = this.buckets.keys().next();
    if (!idlest.done) this.buckets.delete(idlest.value);
  }

  private isFull(buckets: KeyBuckets): boolean {
    this.refill(buckets);
    return buckets.requestsLevel >= buckets.limits.requestsPerMinute && buckets.tokensLevel >= buckets.limits.tokensPerMinute;
  }

  private refill(buckets: KeyBuckets): void {
    const nowMs = this.now();
    // A clock that steps backwards (a wall clock being corrected) refills nothing rather than draining.
    const elapsedMs = Math.max(0, nowMs - buckets.updatedAtMs);
    buckets.updatedAtMs = Math.max(nowMs, buckets.updatedAtMs);
    const { requestsPerMinute, tokensPerMinute } = buckets.limits;
    buckets.requestsLevel = Math.min(requestsPerMinute, buckets.requestsLevel + (elapsedMs * requestsPerMinute) / minuteMs);
    buckets.tokensLevel = Math.min(tokensPerMinute, buckets.tokensLevel + (elapsedMs * tokensPerMinute) / minuteMs);
  }
}

const levelToleranceUnits = 1e-9;

/** How long until a bucket refilling at `perMinute` holds `needed`; 0 if it already does. */
function waitForLevelMs(level: number, needed: number, perMinute: number): number {
  // Refill sums fractions, so a bucket that has waited exactly the advertised time may sit a
  // rounding error short; that request is let through rather than told to wait a millisecond more.
  if (level + levelToleranceUnits >= needed) return 0;
  return Math.ceil(((needed - level) * minuteMs) / perMinute);
}
