import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FailureDetector, FailureDetectorSettingsError, WatchedPeersFullError, type Health, type Transition } from '../../../src/replication/failure-detector/index.js';

function ticks(detector: FailureDetector, count: number): Transition[] {
  const transitions: Transition[] = [];
  for (let index = 0; index < count; index++) transitions.push(...detector.tick());
  return transitions;
}

describe('FailureDetector', () => {
  it('suspects a silent peer, then declares it down, and brings it up when heard', () => {
    const detector = new FailureDetector({ suspectAfterTicks: 3, downAfterTicks: 6 });
    detector.watch('b');
    expect(detector.state('b')).toBe('up');
    expect(ticks(detector, 2)).toEqual([]);
    expect(detector.tick()).toEqual([{ peer: 'b', from: 'up', to: 'suspect' }]);
    expect(ticks(detector, 2)).toEqual([]);
    expect(detector.tick()).toEqual([{ peer: 'b', from: 'suspect', to: 'down' }]);
    expect(ticks(detector, 10)).toEqual([]);
    expect(detector.states()).toEqual([{ peer: 'b', state: 'down', silentTicks: 16 }]);
    expect(detector.heard('b')).toEqual({ peer: 'b', from: 'down', to: 'up' });
    expect(detector.heard('b')).toBeUndefined();
    expect(detector.states()).toEqual([{ peer: 'b', state: 'up', silentTicks: 0 }]);
  });

  it('brings a suspected peer back up without ever declaring it down', () => {
    const detector = new FailureDetector({ suspectAfterTicks: 1, downAfterTicks: 2 });
    detector.watch('b');
    expect(detector.tick()).toEqual([{ peer: 'b', from: 'up', to: 'suspect' }]);
    expect(detector.heard('b')).toEqual({ peer: 'b', from: 'suspect', to: 'up' });
    // Heard during this interval: the tick that ends it finds the peer fine; the next silent one suspects it.
    expect(detector.tick()).toEqual([]);
    expect(detector.tick()).toEqual([{ peer: 'b', from: 'up', to: 'suspect' }]);
  });

  it('gives a watched peer never heard from downAfterTicks to speak, and ignores peers it does not watch', () => {
    const detector = new FailureDetector({ suspectAfterTicks: 2, downAfterTicks: 4 });
    detector.watch('b');
    ticks(detector, 3);
    detector.watch('c');
    detector.watch('b');
    expect(detector.states().map((entry) => [entry.peer, entry.state])).toEqual([['b', 'suspect'], ['c', 'up']]);
    expect(detector.heard('stranger')).toBeUndefined();
    expect(detector.state('stranger')).toBeUndefined();
    detector.unwatch('b');
    expect(ticks(detector, 4)).toEqual([{ peer: 'c', from: 'up', to: 'suspect' }, { peer: 'c', from: 'suspect', to: 'down' }]);
  });

  it('watches at most watchedPeersMax peers', () => {
    const detector = new FailureDetector({ suspectAfterTicks: 1, downAfterTicks: 2, watchedPeersMax: 2 });
    detector.watch('a');
    detector.watch('b');
    expect(() => detector.watch('c')).toThrow(WatchedPeersFullError);
    expect(() => detector.watch('c')).toThrow(/already watches 2 peers/);
    detector.unwatch('a');
    detector.watch('c');
    expect(detector.states().map((entry) => entry.peer)).toEqual(['b', 'c']);
  });

  it.each([
    [{ suspectAfterTicks: 0, downAfterTicks: 2 }, /suspectAfterTicks/],
    [{ suspectAfterTicks: 3, downAfterTicks: 3 }, /downAfterTicks must be .* above suspectAfterTicks/],
    [{ suspectAfterTicks: 1.5, downAfterTicks: 3 }, /suspectAfterTicks/],
    [{ suspectAfterTicks: 1, downAfterTicks: 3, watchedPeersMax: 0 }, /watchedPeersMax/],
  ])('refuses settings %j', (settings, message) => {
    expect(() => new FailureDetector(settings)).toThrow(FailureDetectorSettingsError);
    expect(() => new FailureDetector(settings)).toThrow(message);
  });

  it('never suspects a peer heard every tick, whatever happens to the others', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant('tick' as const), fc.constantFrom('b', 'c')), { maxLength: 200 }), fc.integer({ min: 1, max: 5 }), (steps, suspectAfterTicks) => {
        const detector = new FailureDetector({ suspectAfterTicks, downAfterTicks: suspectAfterTicks + 1 });
        for (const peer of ['a', 'b', 'c']) detector.watch(peer);
        for (const step of steps) {
          if (step !== 'tick') {
            detector.heard(step);
            continue;
          }
          detector.heard('a');
          expect(detector.tick().filter((transition) => transition.peer === 'a')).toEqual([]);
          expect(detector.state('a')).toBe('up');
        }
      }),
    );
  });

  it('matches a model: the state follows from the ticks since last heard, and every change is reported once', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant('tick'), fc.constantFrom('heard a', 'heard b', 'watch a', 'watch b', 'unwatch a')), { maxLength: 150 }), (steps) => {
        const detector = new FailureDetector({ suspectAfterTicks: 2, downAfterTicks: 5 });
        const silent = new Map<string, number>();
        const heardThisTick = new Set<string>();
        const reported = new Map<string, Health>();
        const modelState = (ticksSilent: number): Health => (ticksSilent >= 5 ? 'down' : ticksSilent >= 2 ? 'suspect' : 'up');
        const record = (transition: Transition | undefined) => {
          if (transition === undefined) return;
          expect(reported.get(transition.peer)).toBe(transition.from);
          expect(transition.to).not.toBe(transition.from);
          reported.set(transition.peer, transition.to);
        };
        for (const step of steps) {
          const [verb, peer] = step.split(' ') as [string, string];
          if (verb === 'tick') {
            for (const [name, count] of silent) if (!heardThisTick.has(name)) silent.set(name, count + 1);
            heardThisTick.clear();
            detector.tick().forEach(record);
          } else if (verb === 'heard') {
            if (silent.has(peer)) {
              silent.set(peer, 0);
              heardThisTick.add(peer);
            }
            record(detector.heard(peer));
          } else if (verb === 'watch') {
            if (!silent.has(peer)) {
              silent.set(peer, 0);
              reported.set(peer, 'up');
            }
            detector.watch(peer);
          } else {
            silent.delete(peer);
            reported.delete(peer);
            heardThisTick.delete(peer);
            detector.unwatch(peer);
          }
          for (const [name, count] of silent) {
            expect(detector.state(name)).toBe(modelState(count));
            expect(reported.get(name)).toBe(modelState(count));
          }
        }
      }),
    );
  });
});
