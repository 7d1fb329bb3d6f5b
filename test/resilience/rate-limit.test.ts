import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RateLimiter } from '../../src/resilience/rate-limit.js';
import { RateLimitedError, RequestExceedsRateLimitError } from '../../src/resilience/errors.js';
import { ManualClock } from './manual-clock.js';

function limiter(clock: ManualClock, requestsPerMinute: number, tokensPerMinute: number, trackedKeysMax?: number): RateLimiter {
  return new RateLimiter({ defaults: { requestsPerMinute, tokensPerMinute }, now: clock.now, trackedKeysMax });
}

describe('RateLimiter', () => {
  it('refuses the request over the requests-per-minute limit and says when one refills', () => {
    const clock = new ManualClock();
    const limits = limiter(clock, 3, 1_000_000);
    for (let index = 0; index < 3; index += 1) expect(limits.check('alice', { requests: 1, tokens: 10 })).toEqual({ allowed: true });
    // Three per minute refill one request every 20 s.
    expect(limits.check('alice', { requests: 1, tokens: 10 })).toEqual({ allowed: false, limit: 'requests', retryAfterMs: 20_000 });
    clock.advance(19_999);
    expect(limits.check('alice', { requests: 1, tokens: 10 }).allowed).toBe(false);
    clock.advance(1);
    expect(limits.check('alice', { requests: 1, tokens: 10 })).toEqual({ allowed: true });
  });

  it('refuses the request over the tokens-per-minute limit, and a refused request takes nothing', () => {
    const clock = new ManualClock();
    const limits = limiter(clock, 100, 1_000);
    expect(limits.check('bob', { requests: 1, tokens: 600 })).toEqual({ allowed: true });
    // 400 tokens left; 600 more need 200 tokens of refill at 1000 per minute = 12 s.
    expect(limits.check('bob', { requests: 1, tokens: 600 })).toEqual({ allowed: false, limit: 'tokens', retryAfterMs: 12_000 });
    expect(limits.levels('bob')).toEqual({ requests: 99, tokens: 400 });
    clock.advance(12_000);
    expect(limits.check('bob', { requests: 1, tokens: 600 })).toEqual({ allowed: true });
  });

  it('enforce() throws RateLimitedError with the limit and the wait', () => {
    const clock = new ManualClock();
    const limits = limiter(clock, 1, 1_000);
    limits.enforce('gina', { requests: 1, tokens: 1 });
    try {
      limits.enforce('gina', { requests: 1, tokens: 1 });
      expect.unreachable('the second request in the same second must be refused');
    } catch (error) {
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toMatchObject({ code: 'RATE_LIMITED', keyName: 'gina', limit: 'requests', retryAfterMs: 60_000 });
    }
  });

  it('reports the slower bucket when both are short', () => {
    const clock = new ManualClock();
    const limits = limiter(clock, 1, 1_000);
    expect(limits.check('carol', { requests: 1, tokens: 1_000 }).allowed).toBe(true);
    // Requests need 60 s; tokens need 6 s for 100. The client must wait for both.
    expect(limits.check('carol', { requests: 1, tokens: 100 })).toEqual({ allowed: false, limit: 'requests', retryAfterMs: 60_000 });
  });

  it('refills in proportion to the time passed, never above one minute of allowance', () => {
    const clock = new ManualClock();
    const limits = limiter(clock, 60, 6_000);
    for (let index = 0; index < 60; index += 1) limits.check('dave', { requests: 1, tokens: 100 });
    expect(limits.levels('dave')).toEqual({ requests: 0, tokens: 0 });
    clock.advance(15_000);
    expect(limits.levels('dave')).toEqual({ requests: 15, tokens: 1_500 });
    clock.advance(10 * 60_000);
    expect(limits.levels('dave')).toEqual({ requests: 60, tokens: 6_000 });
  });

  it('settle charges tokens used beyond the estimate and gives back the unused ones', () => {
    const clock = new ManualClock();
    const limits = limiter(clock, 100, 1_000);
    expect(limits.check('erin', { requests: 1, tokens: 500 }).allowed).toBe(true);
    limits.settle('erin', 900); // used 1400 in all: the bucket goes 400 into debt.
    expect(limits.levels('erin').tokens).toBe(-400);
    expect(limits.check('erin', { requests: 1, tokens: 1 })).toEqual({ allowed: false, limit: 'tokens', retryAfterMs: 24_060 });
    limits.settle('erin', -5_000); // a refund never lifts the bucket above its size
    expect(limits.levels('erin').tokens).toBe(1_000);
    limits.settle('nobody-seen', 10); // a key not tracked has nothing to correct
    expect(limits.trackedKeys).toBe(1);
  });

  it('refuses as bad input a request larger than a minute of tokens', () => {
    const limits = limiter(new ManualClock(), 10, 1_000);
    expect(() => limits.check('frank', { requests: 1, tokens: 1_001 })).toThrow(RequestExceedsRateLimitError);
    try {
      limits.check('frank', { requests: 1, tokens: 5_000 });
    } catch (error) {
      expect((error as RequestExceedsRateLimitError).code).toBe('REQUEST_EXCEEDS_RATE_LIMIT');
      expect((error as Error).message).toMatch(/lower max_tokens/);
    }
  });

  it('applies per-key limits over the defaults and rejects nonsense limits clearly', () => {
    const clock = new ManualClock();
    const limits = new RateLimiter({ defaults: { requestsPerMinute: 2 }, limits: { premium: { requestsPerMinute: 5 } }, now: clock.now });
    expect(limits.limitsOf('premium')).toEqual({ requestsPerMinute: 5, tokensPerMinute: 60_000 });
    let premium = 0;
    let basic = 0;
    for (let index = 0; index < 10; index += 1) {
      if (limits.check('premium', { requests: 1, tokens: 1 }).allowed) premium += 1;
      if (limits.check('basic', { requests: 1, tokens: 1 }).allowed) basic += 1;
    }
    expect([premium, basic]).toEqual([5, 2]);
    expect(() => limits.setLimits('broken', { tokensPerMinute: 0 })).toThrow(/tokensPerMinute must be a number of at least 1/);
    expect(() => new RateLimiter({ defaults: { requestsPerMinute: Number.NaN } })).toThrow(RangeError);
  });

  it('keeps at most trackedKeysMax keys, forgetting a refilled idle key before a busy one', () => {
    const clock = new ManualClock();
    const limits = new RateLimiter({ defaults: { requestsPerMinute: 60 }, limits: { slow: { requestsPerMinute: 1 } }, now: clock.now, trackedKeysMax: 2 });
    expect(limits.check('slow', { requests: 1, tokens: 1 }).allowed).toBe(true);
    expect(limits.check('fast', { requests: 1, tokens: 1 }).allowed).toBe(true);
    clock.advance(2_000); // 'fast' has refilled; 'slow' needs a minute.
    expect(limits.check('newcomer', { requests: 1, tokens: 1 }).allowed).toBe(true);
    expect(limits.trackedKeys).toBe(2);
    // 'slow' was kept with its state: it is still refused.
    expect(limits.check('slow', { requests: 1, tokens: 1 }).allowed).toBe(false);
  });

  it('never tracks more keys than its bound, whatever the traffic', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 5_000 })), { maxLength: 300 }), fc.integer({ min: 1, max: 8 }), (traffic, bound) => {
        const clock = new ManualClock();
        const limits = limiter(clock, 5, 10_000, bound);
        for (const [key, delayMs] of traffic) {
          clock.advance(delayMs);
          limits.check(`key-${key}`, { requests: 1, tokens: 50 });
          if (limits.trackedKeys > bound) return false;
        }
        return true;
      }),
    );
  });

  it('never lets a key exceed its allowance over any stretch of time (bucket property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 400 }), (gapsMs) => {
        const clock = new ManualClock();
        const perMinute = 10;
        const limits = limiter(clock, perMinute, 1_000_000);
        const startMs = clock.now();
        let allowed = 0;
        for (const gapMs of gapsMs) {
          clock.advance(gapMs);
          if (limits.check('k', { requests: 1, tokens: 0 }).allowed) allowed += 1;
        }
        // A burst of one minute's allowance plus the refill over the elapsed time.
        const elapsedMs = clock.now() - startMs;
        return allowed <= perMinute + Math.floor((elapsedMs * perMinute) / 60_000);
      }),
    );
  });
});
