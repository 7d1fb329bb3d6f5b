/**
 * The degradation policy: under sustained pressure the gateway gives up what is not
 * essential, one level at a time, before it refuses core chat:
 *
 *   normal -> shed-traces -> cap-max-tokens -> shed-low-priority -> refuse
 *
 * Pressure is a number from 0 (idle) to 1 (saturated): the largest of the admission
 * queue's fill, the fraction of recent requests refused, and the fraction that missed
 * their deadline. The policy climbs one level when every sample for `sustainMs` has
 * been above the next level's entry threshold, and comes down one level when every
 * sample for `recoverMs` has been below the current level's exit threshold, which sits
 * `exitMargin` under its entry threshold. Each step starts both windows afresh, so
 * steps are at least a window apart and a single spike or dip changes nothing.
 *
 * "Every sample for a window" is judged on the samples received: a run of agreeing
 * samples must span the window. A lone sample after a silence is the start of a run,
 * never a run by itself. The gateway samples on each request and on a steady tick.
 */
import { assert } from '../core/assert.js';
import { monotonicClock, type Clock } from './clock.js';
import {
  degradeSustainMsDefault,
  degradedMaxTokensDefault,
  levelEnterPressureDefault,
  levelExitMarginDefault,
  recoverSustainMsDefault,
} from './constants.js';
import { DegradedRefusalError } from './errors.js';

export const degradationLevels = ['normal', 'shed-traces', 'cap-max-tokens', 'shed-low-priority', 'refuse'] as const;
export type DegradationLevel = (typeof degradationLevels)[number];

/** The gateway's measurements over its last sampling interval, each a fraction from 0 to 1. */
export interface PressureSignals {
  /** Requests waiting / queueDepthMax. */
  queueFill: number;
  /** Requests refused (rate limit aside) / requests offered. */
  rejectionFraction: number;
  /** Requests finished after their deadline / requests finished. */
  lateFraction: number;
}

/** Pressure is the worst of the signals: any one of them saturated means the gateway is. */
export function pressureOf(signals: PressureSignals): number {
  const pressure = Math.max(signals.queueFill, signals.rejectionFraction, signals.lateFraction);
  assert(Number.isFinite(pressure) && pressure >= 0, `pressure signals must be non-negative fractions, got ${JSON.stringify(signals)}`);
  return Math.min(1, pressure);
}

export interface DegradationRequest {
  priority: 'normal' | 'low';
  maxTokens: number;
  trace: boolean;
}

export interface DegradationDecision {
  admit: boolean;
  maxTokens: number;
  trace: boolean;
  level: DegradationLevel;
  /** Value for the x-nines-degraded response header; '' at the normal level. */
  header: string;
  /** For a refused request, the soonest the level can come down; 0 when admitted. */
  retryAfterMs: number;
}

export interface DegradationOptions {
  sustainMs?: number;
  recoverMs?: number;
  /** Entry thresholds of shed-traces, cap-max-tokens, shed-low-priority and refuse, increasing. */
  levelEnterPressure?: readonly number[];
  exitMargin?: number;
  maxTokensCap?: number;
  now?: Clock;
}

export type LevelChangeListener = (change: { from: DegradationLevel; to: DegradationLevel; atMs: number; pressure: number }) => void;

const topLevel = degradationLevels.length - 1;

export class DegradationPolicy {
  private readonly sustainMs: number;
  private readonly recoverMs: number;
  private readonly enter: readonly number[];
  private readonly exitMargin: number;
  private readonly maxTokensCap: number;
  private readonly now: Clock;
  private levelIndex = 0;
  /** When the current run of samples above the next level's entry threshold began. */
  private climbRunStartMs: number | undefined;
  /** When the current run of samples below this level's exit threshold began. */
  private recoverRunStartMs: number | undefined;
  private readonly listeners = new Set<LevelChangeListener>();

  constructor(options: DegradationOptions = {}) {
    this.sustainMs = options.sustainMs ?? degradeSustainMsDefault;
    this.recoverMs = options.recoverMs ?? recoverSustainMsDefault;
    this.enter = [...(options.levelEnterPressure ?? levelEnterPressureDefault)];
    this.exitMargin = options.exitMargin ?? levelExitMarginDefault;
    this.maxTokensCap = options.maxTokensCap ?? degradedMaxTokensDefault;
    this.now = options.now ?? monotonicClock;
    assert(this.sustainMs > 0 && this.recoverMs > 0, 'sustainMs and recoverMs must be positive');
    assert(this.enter.length === topLevel, `levelEnterPressure needs ${topLevel} thresholds, one per level above normal`);
    for (let index = 1; index < this.enter.length; index += 1) {
      assert(this.enter[index] > this.enter[index - 1], 'levelEnterPressure must increase level by level');
    }
    assert(this.exitMargin > 0, 'exitMargin must be positive, or the levels would flap at their thresholds');
    assert(this.enter[0] - this.exitMargin > 0, 'the lowest exit threshold (first entry threshold minus exitMargin) must be above 0, or the policy could never return to normal');
    assert(Number.isInteger(this.maxTokensCap) && this.maxTokensCap >= 1, 'maxTokensCap must be a positive integer');
  }

  get level(): DegradationLevel {
    return degradationLevels[this.levelIndex];
  }

  /** Feeds one pressure sample (a number or the signals it is made from) and returns the level after it. */
  observe(sample: number | PressureSignals): DegradationLevel {
    const pressure = typeof sample === 'number' ? sample : pressureOf(sample);
    assert(Number.isFinite(pressure) && pressure >= 0, `pressure must be a non-negative number, got ${pressure}`);
    const nowMs = this.now();
    this.extendRuns(pressure, nowMs);
    if (this.climbRunStartMs !== undefined && nowMs - this.climbRunStartMs >= this.sustainMs) {
      this.step(+1, pressure, nowMs);
    } else if (this.recoverRunStartMs !== undefined && nowMs - this.recoverRunStartMs >= this.recoverMs) {
      this.step(-1, pressure, nowMs);
    }
    return this.level;
  }

  /** What the gateway does with one request at the current level. */
  decide(request: DegradationRequest): DegradationDecision {
    assert(Number.isInteger(request.maxTokens) && request.maxTokens >= 0, `maxTokens must be a non-negative integer, got ${request.maxTokens}`);
    const level = this.level;
    const notes: string[] = [];
    const trace = request.trace && this.levelIndex < 1;
    if (request.trace && !trace) notes.push('trace=dropped');
    const maxTokens = this.levelIndex >= 2 ? Math.min(request.maxTokens, this.maxTokensCap) : request.maxTokens;
    if (maxTokens < request.maxTokens) notes.push(`max-tokens=${maxTokens}`);
    // Core chat (normal priority) is refused only at the last level.
    const admit = this.levelIndex < 3 || (this.levelIndex === 3 && request.priority === 'normal');
    if (!admit) notes.push(this.levelIndex === 3 ? 'refused=low-priority' : 'refused=all');
    const header = this.levelIndex === 0 ? '' : [`level=${level}`, ...notes].join('; ');
    return { admit, maxTokens, trace, level, header, retryAfterMs: admit ? 0 : this.recoverMs };
  }

  /** decide(), throwing DegradedRefusalError for a refused request: for callers that answer 503 from errors. */
  admitOrThrow(request: DegradationRequest): DegradationDecision {
    const decision = this.decide(request);
    if (!decision.admit) throw new DegradedRefusalError(decision.level, decision.retryAfterMs);
    return decision;
  }

  onLevelChange(listener: LevelChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private climbThreshold(): number | undefined {
    return this.levelIndex < topLevel ? this.enter[this.levelIndex] : undefined;
  }

  private recoverThreshold(): number | undefined {
    return this.levelIndex > 0 ? this.enter[this.levelIndex - 1] - this.exitMargin : undefined;
  }

  /** Extends or breaks the two runs of agreeing samples with this one. */
  private extendRuns(pressure: number, nowMs: number): void {
    const climb = this.climbThreshold();
    if (climb !== undefined && pressure > climb) this.climbRunStartMs ??= nowMs;
    else this.climbRunStartMs = undefined;
    const recover = this.recoverThreshold();
    if (recover !== undefined && pressure < recover) this.recoverRunStartMs ??= nowMs;
    else this.recoverRunStartMs = undefined;
  }

  private step(direction: 1 | -1, pressure: number, nowMs: number): void {
    const from = this.level;
    this.levelIndex += direction;
    assert(this.levelIndex >= 0 && this.levelIndex <= topLevel, 'the level stays within its range');
    // Both windows start again at this sample, judged against the new level's thresholds.
    this.climbRunStartMs = undefined;
    this.recoverRunStartMs = undefined;
    this.extendRuns(pressure, nowMs);
    const change = { from, to: this.level, atMs: nowMs, pressure };
    for (const listener of this.listeners) listener(change);
  }
}
