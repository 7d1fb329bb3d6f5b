/**
 * The up and down time of one thing (a peer, a service, the cluster) inside a window,
 * fed with its state each time that state may have changed, in time order.
 *
 * The window is [sinceMs, untilMs). A state set before sinceMs is the state the window
 * starts in; a change at or after sinceMs and before untilMs is a failure (up -> down) or
 * a repair (down -> up) inside the window. Time in the state `undefined` (nothing known
 * yet) is neither up nor down.
 */
import { assert } from '../core/assert.js';
import { ninesOf } from './nines.js';

export type KnownState = 'up' | 'down' | undefined;

export interface EntityAvailability {
  /** Time inside the window with a known state: uptimeMs + downtimeMs. */
  observedMs: number;
  uptimeMs: number;
  downtimeMs: number;
  /** Changes from up to down inside the window. */
  failures: number;
  /** Changes from down to up inside the window. */
  repairs: number;
  /** Down periods that overlap the window, including one that began before it or has not ended. */
  outages: number;
  /** uptimeMs / failures; null without failures. */
  mtbfMs: number | null;
  /** downtimeMs / outages; null without downtime. */
  mttrMs: number | null;
  /** uptimeMs / observedMs; null when nothing was observed. */
  availability: number | null;
  /** -log10(1 - availability); null with no downtime or nothing observed. */
  nines: number | null;
}

export class StateSpan {
  private state: KnownState = undefined;
  private fromMs = Number.NEGATIVE_INFINITY;
  private uptimeMs = 0;
  private downtimeMs = 0;
  private failures = 0;
  private repairs = 0;
  private outages = 0;
  private finished = false;

  constructor(
    private readonly sinceMs: number,
    private readonly untilMs: number,
  ) {
    assert(sinceMs <= untilMs, 'a window ends after it starts');
  }

  /** The state from `atMs` on; calls come in time order. */
  set(atMs: number, next: KnownState): void {
    assert(atMs >= this.fromMs, 'states are set in time order');
    if (next === this.state) return;
    this.close(atMs);
    if (atMs >= this.sinceMs && atMs < this.untilMs) {
      if (this.state === 'up' && next === 'down') this.failures++;
      if (this.state === 'down' && next === 'up') this.repairs++;
    }
    this.state = next;
    this.fromMs = atMs;
  }

  /** Adds the part of the current state's period [fromMs, atMs) that lies inside the window. */
  private close(atMs: number): void {
    const overlapMs = Math.min(atMs, this.untilMs) - Math.max(this.fromMs, this.sinceMs);
    if (overlapMs <= 0) return;
    if (this.state === 'up') this.uptimeMs += overlapMs;
    if (this.state === 'down') {
      this.downtimeMs += overlapMs;
      this.outages++;
    }
  }

  /** The totals, with the state held until the window ends. */
  finish(): EntityAvailability {
    assert(!this.finished, 'a span is finished once');
    this.finished = true;
    this.close(this.untilMs);
    const observedMs = this.uptimeMs + this.downtimeMs;
    const availability = observedMs === 0 ? null : this.uptimeMs / observedMs;
    return {
      observedMs,
      uptimeMs: this.uptimeMs,
      downtimeMs: this.downtimeMs,
      failures: this.failures,
      repairs: this.repairs,
      outages: this.outages,
      mtbfMs: this.failures === 0 ? null : this.uptimeMs / this.failures,
      mttrMs: this.outages === 0 ? null : this.downtimeMs / this.outages,
      availability,
      nines: availability === null ? null : ninesOf(availability),
    };
  }
}
