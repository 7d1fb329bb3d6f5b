/**
 * When each outstanding lookup request stops holding up its lookup (`lookupStallTicks`).
 * Every lookup request waits the same number of ticks, so the checks come due in the order
 * they were made: a queue, read from the front.
 */
import type { NodeId } from './node-id.js';

export interface StallCheck {
  readonly dueTick: number;
  readonly operationId: number;
  readonly nodeId: NodeId;
}

export class StallChecks {
  private checks: StallCheck[] = [];
  private head = 0;

  add(check: StallCheck): void {
    this.checks.push(check);
  }

  /** The tick at which the next check falls due, or infinity. */
  nextDueTick(): number {
    return this.head < this.checks.length ? this.checks[this.head].dueTick : Number.POSITIVE_INFINITY;
  }

  /** Removes and returns the checks due by `nowTick`. */
  takeDue(nowTick: number): StallCheck[] {
    const due: StallCheck[] = [];
    while (this.head < this.checks.length && this.checks[this.head].dueTick <= nowTick) due.push(this.checks[this.head++]);
    // Drop the consumed front now and then, so the array does not grow for ever.
    if (this.head > 1024 && this.head * 2 > this.checks.length) {
      this.checks = this.checks.slice(this.head);
      this.head = 0;
    }
    return due;
  }
}
