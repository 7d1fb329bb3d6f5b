import { describe, expect, it } from 'vitest';
import { HealthEventInvalidError, parseHealthEvent, sortEvents, type HealthEvent } from '../../src/availability/index.js';

describe('parseHealthEvent', () => {
  it('accepts every kind and keeps only the known fields', () => {
    expect(parseHealthEvent({ kind: 'peer', atMs: 5, observer: 'a', subject: 'b', state: 'down', extra: 1 })).toEqual({ kind: 'peer', atMs: 5, observer: 'a', subject: 'b', state: 'down' });
    expect(parseHealthEvent({ kind: 'service', atMs: 0, peer: 'a', service: 'compute', state: 'up' })).toEqual({ kind: 'service', atMs: 0, peer: 'a', service: 'compute', state: 'up' });
    expect(parseHealthEvent({ kind: 'leader', atMs: 1, observer: 'a', leader: null, term: 3 })).toEqual({ kind: 'leader', atMs: 1, observer: 'a', leader: null, term: 3 });
    expect(parseHealthEvent({ kind: 'breaker', atMs: 1, observer: 'a', peer: 'b', state: 'half-open' })).toEqual({ kind: 'breaker', atMs: 1, observer: 'a', peer: 'b', state: 'half-open' });
    const requests = { kind: 'requests', atMs: 10_000, windowMs: 10_000, gateway: 'g', ok: 9, failed: 1, rejected: 0, latencyMsSum: 120.5, latencyMsMax: 40 };
    expect(parseHealthEvent(requests)).toEqual(requests);
  });

  it.each([
    [null, /expected an object/],
    [[1], /expected an object/],
    [{ kind: 'nap', atMs: 1 }, /kind must be one of/],
    [{ kind: 'peer', atMs: -1, observer: 'a', subject: 'b', state: 'up' }, /atMs must be a number of milliseconds/],
    [{ kind: 'peer', atMs: '1', observer: 'a', subject: 'b', state: 'up' }, /atMs/],
    [{ kind: 'peer', atMs: 1, observer: '', subject: 'b', state: 'up' }, /observer must be a peer name/],
    [{ kind: 'peer', atMs: 1, observer: 'a\n', subject: 'b', state: 'up' }, /observer must be a peer name/],
    [{ kind: 'peer', atMs: 1, observer: 'a', subject: 'x'.repeat(129), state: 'up' }, /subject must be a peer name/],
    [{ kind: 'peer', atMs: 1, observer: 'a', subject: 'b', state: 'suspect' }, /state must be one of up, down/],
    [{ kind: 'service', atMs: 1, peer: 'a', service: 'tracker', state: 'up' }, /service must be one of gateway, compute, storage/],
    [{ kind: 'leader', atMs: 1, observer: 'a', leader: 'b', term: 1.5 }, /term must be a whole number/],
    [{ kind: 'leader', atMs: 1, observer: 'a', leader: 7, term: 1 }, /leader must be a peer name/],
    [{ kind: 'breaker', atMs: 1, observer: 'a', peer: 'b', state: 'ajar' }, /state must be one of closed, open, half-open/],
    [{ kind: 'requests', atMs: 1, windowMs: 0, gateway: 'g', ok: 0, failed: 0, rejected: 0, latencyMsSum: 0, latencyMsMax: 0 }, /windowMs must be more than 0/],
    [{ kind: 'requests', atMs: 1, windowMs: 10, gateway: 'g', ok: -1, failed: 0, rejected: 0, latencyMsSum: 0, latencyMsMax: 0 }, /ok must be a whole number/],
    [{ kind: 'requests', atMs: 1, windowMs: 10, gateway: 'g', ok: 1, failed: 0, rejected: 0, latencyMsSum: 1, latencyMsMax: 5 }, /latencyMsMax \(5\) cannot exceed latencyMsSum/],
  ])('refuses %j with a typed error that says what is wrong', (value, message) => {
    let thrown: unknown;
    try {
      parseHealthEvent(value);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HealthEventInvalidError);
    expect((thrown as HealthEventInvalidError).code).toBe('HEALTH_EVENT_INVALID');
    expect((thrown as Error).message).toMatch(message);
  });
});

describe('sortEvents', () => {
  it('orders by time, breaks ties by content whatever the key order, and drops exact duplicates', () => {
    const up: HealthEvent = { kind: 'peer', atMs: 5, observer: 'a', subject: 'b', state: 'up' };
    const down: HealthEvent = { kind: 'peer', atMs: 5, observer: 'a', subject: 'b', state: 'down' };
    const sameAsUpOtherKeyOrder = { state: 'up', subject: 'b', observer: 'a', atMs: 5, kind: 'peer' } as HealthEvent;
    const early: HealthEvent = { kind: 'service', atMs: 1, peer: 'b', service: 'gateway', state: 'up' };
    expect(sortEvents([up, down, sameAsUpOtherKeyOrder, early])).toEqual([early, down, up]);
    expect(sortEvents([down, early, up])).toEqual([early, down, up]);
  });
});
