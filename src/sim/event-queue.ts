/**
 * The simulator's event queue: a binary min-heap ordered by (time, sequence). The sequence
 * number is the order of scheduling, so events at the same time run in the order they were
 * scheduled and a run never depends on how the heap happens to break ties. Times, sequence
 * numbers and payloads live in three parallel arrays, so millions of events cost no more
 * than one small object each (the payload).
 */
export class EventQueue<T> {
  private readonly times: number[] = [];
  private readonly sequences: number[] = [];
  private readonly values: T[] = [];
  private nextSequence = 0;

  get size(): number {
    return this.values.length;
  }

  /** Time of the earliest event, or infinity when the queue is empty. */
  peekTime(): number {
    return this.values.length === 0 ? Number.POSITIVE_INFINITY : this.times[0];
  }

  push(time: number, value: T): void {
    if (!Number.isFinite(time)) throw new RangeError(`event time must be finite, got ${time}`);
    const sequence = this.nextSequence++;
    let index = this.values.length;
    this.times.push(time);
    this.sequences.push(sequence);
    this.values.push(value);
    // Sift up: move the hole toward the root while the parent is later.
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.times[parent] < time || (this.times[parent] === time && this.sequences[parent] < sequence)) break;
      this.move(parent, index);
      index = parent;
    }
    this.place(index, time, sequence, value);
  }

  /** Removes and returns the earliest event's payload; the queue must not be empty. */
  pop(): T {
    const count = this.values.length;
    if (count === 0) throw new RangeError('pop from an empty event queue');
    const top = this.values[0];
    const lastTime = this.times.pop()!;
    const lastSequence = this.sequences.pop()!;
    const lastValue = this.values.pop()!;
    if (count > 1) this.siftDown(lastTime, lastSequence, lastValue);
    return top;
  }

  private siftDown(time: number, sequence: number, value: T): void {
    const count = this.values.length;
    let index = 0;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= count) break;
      const right = child + 1;
      if (right < count && this.earlier(right, child)) child = right;
      if (time < this.times[child] || (time === this.times[child] && sequence < this.sequences[child])) break;
      this.move(child, index);
      index = child;
    }
    this.place(index, time, sequence, value);
  }

  private earlier(a: number, b: number): boolean {
    return this.times[a] < this.times[b] || (this.times[a] === this.times[b] && this.sequences[a] < this.sequences[b]);
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from];
    this.sequences[to] = this.sequences[from];
    this.values[to] = this.values[from];
  }

  private place(index: number, time: number, sequence: number, value: T): void {
    this.times[index] = time;
    this.sequences[index] = sequence;
    this.values[index] = value;
  }
}
