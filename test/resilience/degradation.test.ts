import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DegradationPolicy, degradationLevels, pressureOf, type DegradationLevel } from '../../src/resilience/degradation.js';
import { DegradedRefusalError } from '../../src/resilience/errors.js';
import { ManualClock } from './manual-clock.js';

const sustainMs = 5_000;
const recoverMs = 15_000;
const enter = [0.5, 0.7, 0.85, 0.97];
const margin = 0.2;

function policy(clock: ManualClock): DegradationPolicy {
  return new DegradationPolicy({ sustainMs, recoverMs, levelEnterPressure: enter, exitMargin: margin, maxTokensCap: 256, now: clock.now });
}

/** Feeds `pressure` every `everyMs` for `durationMs` and returns the levels seen, one per sample. */
function hold(clock: ManualClock, degradation: DegradationPolicy, pressure: number, durationMs: number, everyMs = 250): DegradationLevel[] {
  const seen: DegradationLevel[] = [];
  for (let elapsedMs = 0; elapsedMs < durationMs; elapsedMs += everyMs) {
    clock.advance(everyMs);
    seen.push(degradation.observe(pressure));
  }
  return seen;
}

describe('DegradationPolicy', () => {
  it('climbs one level per sustained window of pressure, no faster', () => {
    const clock = new ManualClock();
    const degradation = policy(clock);
    // The first sample starts the window; the step comes on the sample a full window later.
    expect(hold(clock, degradation, 1, 5_000).every((level) => level === 'normal')).toBe(true);
    expect(hold(clock, degradation, 1, 250)).toEqual(['shed-traces']);
    hold(clock, degradation, 1, 4_750);
    expect(degradation.level).toBe('shed-traces');
    hold(clock, degradation, 1, 250);
    expect(degradation.level).toBe('cap-max-tokens');
    hold(clock, degradation, 1, 10_000);
    expect(degradation.level).toBe('refuse');
    hold(clock, degradation, 1, 60_000);
    expect(degradation.level).toBe('refuse');
  });

  it('stops at the level the pressure justifies', () => {
    const clock = new ManualClock();
    const degradation = policy(clock);
    hold(clock, degradation, 0.75, 60_000);
    expect(degradation.level).toBe('cap-max-tokens');
  });

  it('comes back down one level per recovery window once the pressure has passed', () => {
    const clock = new ManualClock();
    const degradation = policy(clock);
    hold(clock, degradation, 1, 20_250);
    expect(degradation.level).toBe('refuse');
    const seen = hold(clock, degradation, 0.1, 4 * recoverMs + 250);
    expect([...new Set(seen)]).toEqual(['refuse', 'shed-low-priority', 'cap-max-tokens', 'shed-traces', 'normal']);
    expect(seen.filter((level) => level === 'refuse')).toHaveLength(recoverMs / 250);
  });

  it('holds its level inside the hysteresis band instead of flapping at a threshold', () => {
    const clock = new ManualClock();
    const degradation = policy(clock);
    hold(clock, degradation, 0.75, 10_250);
    expect(degradation.level).toBe('cap-max-tokens');
    // 0.6 is below cap-max-tokens' entry (0.7) but above its exit (0.5): stay.
    const seen = hold(clock, degradation, 0.6, 120_000);
    expect(new Set(seen)).toEqual(new Set(['cap-max-tokens']));
  });

  it('ignores a single spike and a single dip', () => {
    const clock = new ManualClock();
    const degradation = policy(clock);
    for (let index = 0; index < 50; index += 1) {
      hold(clock, degradation, 0.2, 5_000, 1_000);
      hold(clock, degradation, 1, 1, 1);
    }
    expect(degradation.level).toBe('normal');
    hold(clock, degradation, 1, 20_250);
    for (let index = 0; index < 20; index += 1) {
      hold(clock, degradation, 1, 10_000, 1_000);
      hold(clock, degradation, 0, 1, 1);
    }
    expect(degradation.level).toBe('refuse');
  });

  it('a lone sample after a silence starts a window rather than completing one', () => {
    const clock = new ManualClock();
    const degradation = policy(clock);
    clock.advance(60_000);
    expect(degradation.observe(1)).toBe('normal');
    clock.advance(sustainMs);
    expect(degradation.observe(1)).toBe('shed-traces');
  });

  it('decides each request by level: traces, then max_tokens, then low priority, then everything', () => {
    const clock = new ManualClock();
    const degradation = policy(clock);
    const request = { priority: 'normal' as const, maxTokens: 2_048, trace: true };
    const low = { ...request, priority: 'low' as const };
    expect(degradation.decide(request)).toEqual({ admit: true, maxTokens: 2_048, trace: true, level: 'normal', header: '', retryAfterMs: 0 });
    hold(clock, degradation, 1, sustainMs + 250);
    expect(degradation.decide(request)).toEqual({ admit: true, maxTokens: 2_048, trace: false, level: 'shed-traces', header: 'level=shed-traces; trace=dropped', retryAfterMs: 0 });
    expect(degradation.decide({ ...request, trace: false }).header).toBe('level=shed-traces');
    hold(clock, degradation, 1, sustainMs);
    expect(degradation.decide(request)).toMatchObject({ admit: true, maxTokens: 256, trace: false, header: 'level=cap-max-tokens; trace=dropped; max-tokens=256' });
    expect(degradation.decide({ ...request, maxTokens: 100 }).maxTokens).toBe(100);
    hold(clock, degradation, 1, sustainMs);
    expect(degradation.decide(request)).toMatchObject({ admit: true, maxTokens: 256, level: 'shed-low-priority' });
    expect(degradation.decide(low)).toMatchObject({ admit: false, header: 'level=shed-low-priority; trace=dropped; max-tokens=256; refused=low-priority', retryAfterMs: recoverMs });
    expect(() => degradation.admitOrThrow(low)).toThrow(DegradedRefusalError);
    expect(degradation.admitOrThrow(request).maxTokens).toBe(256);
    hold(clock, degradation, 1, sustainMs);
    expect(degradation.decide(request)).toMatchObject({ admit: false, level: 'refuse', retryAfterMs: recoverMs });
    expect(() => degradation.admitOrThrow(request)).toThrow(expect.objectContaining({ code: 'SERVICE_DEGRADED', level: 'refuse', retryAfterMs: recoverMs }));
  });

  it('takes pressure as the worst of its signals, and reports level changes', () => {
    expect(pressureOf({ queueFill: 0.3, rejectionFraction: 0.8, lateFraction: 0.1 })).toBe(0.8);
    expect(pressureOf({ queueFill: 1.5, rejectionFraction: 0, lateFraction: 0 })).toBe(1);
    const clock = new ManualClock();
    const degradation = policy(clock);
    const changes: string[] = [];
    degradation.onLevelChange((change) => changes.push(`${change.from}->${change.to}`));
    for (let index = 0; index <= 20; index += 1) {
      degradation.observe({ queueFill: 0.9, rejectionFraction: 0, lateFraction: 0 });
      clock.advance(500);
    }
    expect(changes).toEqual(['normal->shed-traces', 'shed-traces->cap-max-tokens']);
  });

  it('refuses settings that would flap or never recover', () => {
    expect(() => new DegradationPolicy({ exitMargin: 0 })).toThrow(/exitMargin/);
    expect(() => new DegradationPolicy({ levelEnterPressure: [0.5, 0.4, 0.9, 0.95] })).toThrow(/increase/);
    expect(() => new DegradationPolicy({ levelEnterPressure: [0.1, 0.4, 0.9, 0.95], exitMargin: 0.2 })).toThrow(/never return to normal/);
  });

  it('on any pressure series: steps are one level, a window apart, and each is justified by a full window of samples', () => {
    const sample = fc.record({ gapMs: fc.integer({ min: 1, max: 3_000 }), pressure: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.3, 0.6, 0.8, 0.9, 1)) });
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 400 }), (series) => {
        const clock = new ManualClock(0);
        const degradation = policy(clock);
        const history: { atMs: number; pressure: number; levelBefore: number; levelAfter: number }[] = [];
        let lastChangeMs = -Infinity;
        for (const { gapMs, pressure } of series) {
          clock.advance(gapMs);
          const levelBefore = degradationLevels.indexOf(degradation.level);
          const levelAfter = degradationLevels.indexOf(degradation.observe(pressure));
          history.push({ atMs: clock.now(), pressure, levelBefore, levelAfter });
          if (levelAfter === levelBefore) continue;
          if (Math.abs(levelAfter - levelBefore) !== 1) return false;
          if (clock.now() - lastChangeMs < Math.min(sustainMs, recoverMs)) return false;
          // The run of samples that justified the step: all on the right side of the
          // threshold, since the previous change, spanning the whole window.
          const climbing = levelAfter > levelBefore;
          const agrees = (value: number): boolean => (climbing ? value > enter[levelBefore] : value < enter[levelBefore - 1] - margin);
          let runStartMs = clock.now();
          for (let index = history.length - 1; index >= 0 && history[index].atMs >= lastChangeMs && agrees(history[index].pressure); index -= 1) {
            runStartMs = history[index].atMs;
          }
          if (clock.now() - runStartMs < (climbing ? sustainMs : recoverMs)) return false;
          lastChangeMs = clock.now();
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('on any calm series with single-sample spikes, never leaves normal', () => {
    const calm = fc.double({ min: 0, max: 0.5, noNaN: true });
    const spike = fc.double({ min: 0.5, max: 1, noNaN: true, minExcluded: true });
    fc.assert(
      fc.property(fc.array(fc.record({ gapMs: fc.integer({ min: 1, max: 10_000 }), calm, spike, spiky: fc.boolean() }), { maxLength: 300 }), (series) => {
        const clock = new ManualClock(0);
        const degradation = policy(clock);
        for (const step of series) {
          clock.advance(step.gapMs);
          degradation.observe(step.calm);
          if (step.spiky) {
            clock.advance(step.gapMs);
            degradation.observe(step.spike);
          }
          if (degradation.level !== 'normal') return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
