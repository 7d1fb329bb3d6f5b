/**
 * What a leader knows about each follower's log (etcd-io/raft's tracker): the highest index
 * known to match (`match`), the next index to send (`next`), and how to send it.
 *
 * - `probe`: the leader does not know where the follower's log matches; it sends one
 *   AppendEntries at a time and backs `next` off on each rejection (Raft §5.3).
 * - `replicate`: the follower's log matches up to `match`; the leader streams entries,
 *   at most `inflightAppendsMax` messages ahead of the acknowledgements.
 * - `snapshot`: the follower needs entries the leader has compacted; the leader sent a
 *   snapshot (Raft §7) and waits for it to be installed.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In `probe`, one AppendEntries is out and unanswered. */
  probeSent = false;
  /** In `replicate`, the last index of each AppendEntries in flight, oldest first. */
  readonly inflight: number[] = [];
  /** In `snapshot`, the index of the snapshot sent, and the ticks since it was sent. */
  pendingSnapshot = 0;
  ticksSinceSnapshot = 0;
  /** The follower answered since the last check-quorum round. */
  recentActive = true;

  constructor(next: number) {
    this.next = next;
  }

  becomeProbe(): void {
    // After a snapshot, the follower has at least the snapshot: probe from just past it.
    this.next = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.state = 'probe';
    this.probeSent = false;
    this.inflight.length = 0;
    this.pendingSnapshot = 0;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.inflight.length = 0;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.state = 'snapshot';
    this.pendingSnapshot = snapshotIndex;
    this.ticksSinceSnapshot = 0;
    this.probeSent = false;
    this.inflight.length = 0;
  }

  /** A successful AppendEntries response for `index`; returns whether `match` grew. */
  acknowledge(index: number): boolean {
    this.probeSent = false;
    while (this.inflight.length > 0 && this.inflight[0] <= index) this.inflight.shift();
    if (index <= this.match) return false;
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    return true;
  }

  /**
   * A rejection of the AppendEntries whose previous index was `rejected`; `hint` is where the
   * follower suggests to try next. Returns false for a stale rejection (of a message sent before
   * `next` moved), which must be ignored.
   */
  backOff(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.becomeProbe();
      this.next = Math.max(this.match + 1, Math.min(rejected, hint));
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(this.match + 1, Math.min(rejected, hint));
    this.probeSent = false;
    return true;
  }

  /** Whether the leader should hold back further AppendEntries to this follower. */
  paused(inflightAppendsMax: number): boolean {
    if (this.state === 'probe') return this.probeSent;
    if (this.state === 'replicate') return this.inflight.length >= inflightAppendsMax;
    return true;
  }
}
