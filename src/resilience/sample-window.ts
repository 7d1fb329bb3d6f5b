/**
 * A bounded ring of timestamped measurements (wait times, service times) with the
 * summaries the admission queue needs: percentiles and the mean over a recent window.
 * It holds at most `capacity` samples whatever the traffic, so memory stays flat.
 */
import { assert } from '../core/assert.js';

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export class SampleWindow {
  private readonly atMs: Float64Array;
  private readonly values: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(readonly capacity: number) {
    assert(Number.isInteger(capacity) && capacity >= 1, `a sample window needs a positive integer capacity, got ${capacity}`);
    this.atMs = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  add(atMs: number, value: number): void {
    this.atMs[this.next] = atMs;
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    this.filled = Math.min(this.filled + 1, this.capacity);
  }

  get size(): number {
    return this.filled;
  }

  /** The values recorded at or after `sinceMs`, in no particular order. */
  valuesSince(sinceMs: number): number[] {
    const result: number[] = [];
    for (let index = 0; index < this.filled; index += 1) {
      if (this.atMs[index] >= sinceMs) result.push(this.values[index]);
    }
    return result;
  }

  /** The mean of every kept value, or undefined when there is none. */
  mean(): number | undefined {
    if (this.filled === 0) return undefined;
    let sum = 0;
    for (let index = 0; index < this.filled; index += 1) sum += this.values[index];
    return sum / this.filled;
  }

  /** Nearest-rank percentiles of the values recorded at or after `sinceMs` (zeros when there are none). */
  percentilesSince(sinceMs: number): Percentiles {
    const values = this.valuesSince(sinceMs).sort((left, right) => left - right);
    const rank = (fraction: number): number => (values.length === 0 ? 0 : values[Math.max(0, Math.ceil(fraction * values.length) - 1)]);
    return { count: values.length, p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: rank(1) };
  }
}
