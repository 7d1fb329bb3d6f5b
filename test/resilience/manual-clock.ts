/**
 * A simulated clock and scheduler for the protection layer's tests: time moves only
 * when the test advances it, and alarms fire in time order as it passes them.
 */
import type { CancelAlarm, Scheduler } from '../../src/resilience/clock.js';

interface Alarm {
  atMs: number;
  order: number;
  callback: () => void;
  cancelled: boolean;
}

export class ManualClock implements Scheduler {
  private currentMs: number;
  private alarms: Alarm[] = [];
  private order = 0;

  constructor(startMs = 1_000_000) {
    this.currentMs = startMs;
  }

  readonly now = (): number => this.currentMs;

  setAlarm(delayMs: number, callback: () => void): CancelAlarm {
    const alarm: Alarm = { atMs: this.currentMs + Math.max(0, delayMs), order: this.order++, callback, cancelled: false };
    this.alarms.push(alarm);
    return () => {
      alarm.cancelled = true;
    };
  }

  /** Alarms armed and neither fired nor cancelled. */
  get pendingAlarms(): number {
    return this.alarms.filter((alarm) => !alarm.cancelled).length;
  }

  /** Moves time forward to `targetMs`, firing every alarm due on the way at its own time. */
  advanceTo(targetMs: number): void {
    for (;;) {
      this.alarms = this.alarms.filter((alarm) => !alarm.cancelled);
      let next: Alarm | undefined;
      for (const alarm of this.alarms) {
        if (alarm.atMs <= targetMs && (next === undefined || alarm.atMs < next.atMs || (alarm.atMs === next.atMs && alarm.order < next.order))) next = alarm;
      }
      if (next === undefined) break;
      this.currentMs = Math.max(this.currentMs, next.atMs);
      next.cancelled = true;
      next.callback();
    }
    this.currentMs = Math.max(this.currentMs, targetMs);
  }

  advance(deltaMs: number): void {
    this.advanceTo(this.currentMs + deltaMs);
  }
}
