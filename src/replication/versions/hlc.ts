/**
 * Hybrid logical clocks (Kulkarni et al., 2014): a timestamp that stays within the clock skew
 * of physical time, yet never goes backwards and always moves past every timestamp a node has
 * seen. Last-writer-wins uses it to order concurrent writes the way their writers' clocks
 * did, and ties break on the node id, so every replica picks the same winner.
 *
 * Pure: the physical time is an argument (the shell passes Date.now(); the simulator its clock).
 */
export interface HlcTimestamp {
  /** Milliseconds since the epoch: the largest physical time this clock has seen. */
  wallMs: number;
  /** Events at the same wallMs, counted. */
  logical: number;
  node: string;
}

export const zeroTimestamp: HlcTimestamp = Object.freeze({ wallMs: 0, logical: 0, node: '' });

export function compareTimestamps(left: HlcTimestamp, right: HlcTimestamp): number {
  if (left.wallMs !== right.wallMs) return left.wallMs < right.wallMs ? -1 : 1;
  if (left.logical !== right.logical) return left.logical < right.logical ? -1 : 1;
  return left.node < right.node ? -1 : left.node > right.node ? 1 : 0;
}

export class HybridLogicalClock {
  private wallMs: number;
  private logical: number;

  constructor(
    readonly node: string,
    /** The largest timestamp this node issued or saw before a restart, so the clock never repeats one. */
    last: HlcTimestamp = zeroTimestamp,
  ) {
    this.wallMs = last.wallMs;
    this.logical = last.logical;
  }

  /** A timestamp for a local event. */
  now(physicalMs: number): HlcTimestamp {
    if (physicalMs > this.wallMs) {
      this.wallMs = physicalMs;
      this.logical = 0;
    } else {
      this.logical += 1;
    }
    return { wallMs: this.wallMs, logical: this.logical, node: this.node };
  }

  /** Moves the clock past a timestamp received from another node. */
  observe(remote: HlcTimestamp, physicalMs: number): void {
    const wallMs = Math.max(this.wallMs, remote.wallMs, physicalMs);
    if (wallMs === this.wallMs && wallMs === remote.wallMs) this.logical = Math.max(this.logical, remote.logical) + 1;
    else if (wallMs === this.wallMs) this.logical += 1;
    else if (wallMs === remote.wallMs) this.logical = remote.logical + 1;
    else this.logical = 0;
    this.wallMs = wallMs;
  }

  last(): HlcTimestamp {
    return { wallMs: this.wallMs, logical: this.logical, node: this.node };
  }
}

export function timestampProblem(value: unknown): string | undefined {
  const timestamp = value as Partial<HlcTimestamp> | null;
  if (typeof timestamp !== 'object' || timestamp === null) return 'a timestamp must be an object {wallMs, logical, node}';
  if (!Number.isSafeInteger(timestamp.wallMs) || timestamp.wallMs! < 0) return 'a timestamp needs wallMs, a non-negative integer';
  if (!Number.isSafeInteger(timestamp.logical) || timestamp.logical! < 0) return 'a timestamp needs logical, a non-negative integer';
  if (typeof timestamp.node !== 'string' || timestamp.node.length > 128) return 'a timestamp needs node, a string of at most 128 characters';
  return undefined;
}
