/**
 * The breakers run on opossum, whose reset timer is a real setTimeout; these tests fake
 * setTimeout and Date together, so the registry's clock (Date.now by default) and
 * opossum's timer agree and a 10 s reset timeout passes in no time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreakers, type BreakerTransition } from '../../src/resilience/circuit-breakers.js';
import { CircuitOpenError } from '../../src/resilience/errors.js';

const resetTimeoutMs = 10_000;
const failing = (): Promise<never> => Promise.reject(new Error('peer unreachable'));
const working = (): Promise<string> => Promise.resolve('ok');

let breakers: CircuitBreakers;
let transitions: string[];

function build(options: ConstructorParameters<typeof CircuitBreakers>[0] = {}): CircuitBreakers {
  breakers = new CircuitBreakers({ volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeoutMs, rollingWindowMs: 10_000, rollingBuckets: 10, ...options });
  breakers.onTransition((event: BreakerTransition) => transitions.push(`${event.peerId}/${event.path}: ${event.from}->${event.to}`));
  return breakers;
}

async function failTimes(peerId: string, path: string, times: number): Promise<void> {
  for (let index = 0; index < times; index += 1) await expect(breakers.call(peerId, path, failing)).rejects.toThrow('peer unreachable');
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  transitions = [];
});

afterEach(() => {
  breakers.close();
  vi.useRealTimers();
});

describe('CircuitBreakers', () => {
  it('opens after enough failures and then fails fast without calling the peer', async () => {
    build();
    await failTimes('peer-a', 'generate', 4);
    expect(transitions).toEqual(['peer-a/generate: closed->open']);
    const action = vi.fn(working);
    const error = await breakers.call('peer-a', 'generate', action).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).code).toBe('CIRCUIT_OPEN');
    expect((error as CircuitOpenError).retryAfterMs).toBe(resetTimeoutMs);
    expect(action).not.toHaveBeenCalled();
    expect(breakers.isOpen('peer-a')).toBe(true);
    expect(breakers.isOpen('peer-a', 'generate')).toBe(true);
    expect(breakers.isOpen('peer-a', 'kv.get')).toBe(false);
    expect(breakers.isOpen('peer-b')).toBe(false);
    // Other paths of the same peer are judged on their own.
    await expect(breakers.call('peer-a', 'kv.get', working)).resolves.toBe('ok');
  });

  it('turns half-open after the reset timeout and closes on a successful trial call', async () => {
    build();
    await failTimes('peer-a', 'generate', 4);
    vi.advanceTimersByTime(resetTimeoutMs - 1);
    expect(breakers.states()[0].state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(breakers.states()[0].state).toBe('half-open');
    expect(breakers.isOpen('peer-a')).toBe(false);
    // One trial call at a time: a second call while it runs is refused.
    let finishTrial: (value: string) => void = () => {};
    const trial = breakers.call('peer-a', 'generate', () => new Promise<string>((resolve) => (finishTrial = resolve)));
    await expect(breakers.call('peer-a', 'generate', working)).rejects.toBeInstanceOf(CircuitOpenError);
    finishTrial('recovered');
    await expect(trial).resolves.toBe('recovered');
    expect(breakers.states()[0].state).toBe('closed');
    expect(transitions).toEqual(['peer-a/generate: closed->open', 'peer-a/generate: open->half-open', 'peer-a/generate: half-open->closed']);
    // The failures that opened it have left the window: one new failure does not reopen it.
    await failTimes('peer-a', 'generate', 1);
    expect(breakers.isOpen('peer-a')).toBe(false);
  });

  it('reopens when the trial call fails, for another reset timeout', async () => {
    build();
    await failTimes('peer-a', 'generate', 4);
    vi.advanceTimersByTime(resetTimeoutMs);
    await failTimes('peer-a', 'generate', 1);
    expect(breakers.isOpen('peer-a')).toBe(true);
    vi.advanceTimersByTime(resetTimeoutMs);
    expect(breakers.states()[0].state).toBe('half-open');
    expect(transitions).toEqual([
      'peer-a/generate: closed->open',
      'peer-a/generate: open->half-open',
      'peer-a/generate: half-open->open',
      'peer-a/generate: open->half-open',
    ]);
  });

  it('stays closed below the volume threshold and below the error percentage', async () => {
    build();
    await failTimes('peer-a', 'generate', 3);
    expect(breakers.isOpen('peer-a')).toBe(false);
    for (let index = 0; index < 7; index += 1) await breakers.call('peer-b', 'generate', working);
    await failTimes('peer-b', 'generate', 3); // 3 of 10 failed: 30% < 50%
    expect(breakers.isOpen('peer-b')).toBe(false);
    await failTimes('peer-b', 'generate', 5); // 8 of 15: 53% > 50%
    expect(breakers.isOpen('peer-b')).toBe(true);
  });

  it('forgets failures that slid out of the rolling window', async () => {
    build();
    await failTimes('peer-a', 'generate', 3);
    vi.advanceTimersByTime(10_000);
    await failTimes('peer-a', 'generate', 3);
    expect(breakers.isOpen('peer-a')).toBe(false);
    expect(breakers.states()[0]).toMatchObject({ calls: 3, failures: 3 });
    await failTimes('peer-a', 'generate', 1);
    expect(breakers.isOpen('peer-a')).toBe(true);
  });

  it('does not count errors the caller says are not the peer failing', async () => {
    build({ isFailure: (error) => !(error instanceof RangeError) });
    for (let index = 0; index < 10; index += 1) {
      await expect(breakers.call('peer-a', 'generate', () => Promise.reject(new RangeError('bad request')))).rejects.toBeInstanceOf(RangeError);
    }
    expect(breakers.isOpen('peer-a')).toBe(false);
  });

  it('tracks at most peersTrackedMax peers, keeping open breakers over healthy ones', async () => {
    build({ peersTrackedMax: 3 });
    await failTimes('sick', 'generate', 4);
    for (const peerId of ['p1', 'p2', 'p3', 'p4', 'p5']) {
      await breakers.call(peerId, 'generate', working);
      expect(breakers.trackedPeers).toBeLessThanOrEqual(3);
    }
    expect(breakers.isOpen('sick')).toBe(true);
    expect(new Set(breakers.states().map((status) => status.peerId))).toEqual(new Set(['sick', 'p4', 'p5']));
    breakers.forget('sick');
    expect(breakers.isOpen('sick')).toBe(false);
  });

  it('reports every breaker in states() for status pages', async () => {
    build();
    await breakers.call('peer-a', 'generate', working);
    await failTimes('peer-a', 'kv.get', 4);
    const byPath = Object.fromEntries(breakers.states().map((status) => [status.path, status]));
    expect(byPath.generate).toMatchObject({ peerId: 'peer-a', state: 'closed', calls: 1, failures: 0, openedAtMs: undefined });
    expect(byPath['kv.get']).toMatchObject({ peerId: 'peer-a', state: 'open', calls: 4, failures: 4, openedAtMs: Date.now() });
  });

  it('refuses settings under which a closed breaker would reopen on its first failure', () => {
    expect(() => new CircuitBreakers({ rollingWindowMs: 20_000, resetTimeoutMs: 10_000 })).toThrow(/must not exceed resetTimeoutMs/);
    breakers = new CircuitBreakers();
  });
});
