import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventQueue } from '../../src/sim/event-queue.js';

describe('EventQueue', () => {
  it('pops events in (time, scheduling order) order, against a sort of everything pushed', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.boolean()), { maxLength: 300 }), (operations) => {
      const queue = new EventQueue<number>();
      const reference: { time: number; order: number }[] = [];
      let order = 0;
      let now = 0;
      for (const [delay, popFirst] of operations) {
        if (popFirst && reference.length > 0) {
          reference.sort((a, b) => a.time - b.time || a.order - b.order);
          const expected = reference.shift()!;
          expect(queue.peekTime()).toBe(expected.time);
          expect(queue.pop()).toBe(expected.order);
          now = expected.time;
        }
        // Like a simulator, never schedule into the past.
        queue.push(now + delay, order);
        reference.push({ time: now + delay, order });
        order++;
      }
      reference.sort((a, b) => a.time - b.time || a.order - b.order);
      for (const expected of reference) expect(queue.pop()).toBe(expected.order);
      expect(queue.size).toBe(0);
      expect(queue.peekTime()).toBe(Number.POSITIVE_INFINITY);
    }));
  });

  it('keeps events at the same time in the order they were scheduled', () => {
    const queue = new EventQueue<string>();
    for (const name of ['a', 'b', 'c', 'd', 'e']) queue.push(5, name);
    queue.push(1, 'first');
    expect([queue.pop(), queue.pop(), queue.pop(), queue.pop(), queue.pop(), queue.pop()]).toEqual(['first', 'a', 'b', 'c', 'd', 'e']);
  });

  it('handles a million events', () => {
    const queue = new EventQueue<number>();
    let seed = 12345;
    for (let i = 0; i < 1_000_000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      queue.push(seed % 100_000, i);
    }
    let lastTime = -1;
    let popped = 0;
    let outOfOrder = 0;
    while (queue.size > 0) {
      const time = queue.peekTime();
      if (time < lastTime) outOfOrder++;
      lastTime = time;
      queue.pop();
      popped++;
    }
    expect(outOfOrder).toBe(0);
    expect(popped).toBe(1_000_000);
  });

  it('refuses an empty pop and a non-finite time', () => {
    const queue = new EventQueue<number>();
    expect(() => queue.pop()).toThrow(/empty/);
    expect(() => queue.push(Number.NaN, 1)).toThrow(/finite/);
  });
});
