/**
 * The trainer's bookkeeping: how often each adjacent pair of tokens occurs in the counted
 * words, which words hold it, and a heap to find the most frequent pair quickly.
 *
 * Counts change in batches (one batch per merge). A batch records each pair's count
 * before it, and at the end pushes one heap entry for every pair whose count really
 * changed. Entries are snapshots: one is current only if its count still equals the
 * pair's, and stale ones are dropped when they reach the top. Ties go to the smallest
 * left token id, then the smallest right token id.
 */

/** A max-heap of (count, left, right, pair id) snapshots in parallel arrays. */
class PairCountHeap {
  private readonly counts: number[] = [];
  private readonly lefts: number[] = [];
  private readonly rights: number[] = [];
  private readonly pairIds: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  private before(a: number, b: number): boolean {
    if (this.counts[a] !== this.counts[b]) return this.counts[a] > this.counts[b];
    if (this.lefts[a] !== this.lefts[b]) return this.lefts[a] < this.lefts[b];
    return this.rights[a] < this.rights[b];
  }

  private swap(a: number, b: number): void {
    const count = this.counts[a];
    const left = this.lefts[a];
    const right = this.rights[a];
    const pairId = this.pairIds[a];
    this.counts[a] = this.counts[b];
    this.lefts[a] = this.lefts[b];
    this.rights[a] = this.rights[b];
    this.pairIds[a] = this.pairIds[b];
    this.counts[b] = count;
    this.lefts[b] = left;
    this.rights[b] = right;
    this.pairIds[b] = pairId;
  }

  push(count: number, left: number, right: number, pairId: number): void {
    let index = this.counts.length;
    this.counts.push(count);
    this.lefts.push(left);
    this.rights.push(right);
    this.pairIds.push(pairId);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(index, parent)) break;
      this.swap(index, parent);
      index = parent;
    }
  }

  topCount(): number {
    return this.counts[0];
  }

  topPairId(): number {
    return this.pairIds[0];
  }

  /** Removes the top entry; read it with topCount/topPairId first. */
  pop(): void {
    const last = this.counts.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.lefts.pop();
    this.rights.pop();
    this.pairIds.pop();
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= last) break;
      const first = left + 1 < last && this.before(left + 1, left) ? left + 1 : left;
      if (!this.before(first, index)) break;
      this.swap(first, index);
      index = first;
    }
  }
}

export interface FrequentPair {
  pairId: number;
  left: number;
  right: number;
  count: number;
}

export class PairStatistics {
  /** left * keyBase + right to pair id. */
  private readonly pairIdByKey = new Map<number, number>();
  private readonly lefts: number[] = [];
  private readonly rights: number[] = [];
  private readonly counts: number[] = [];
  /** The words that held each pair at some point (may repeat and may be stale: check before use). */
  private readonly wordLists: number[][] = [];
  private readonly heap = new PairCountHeap();
  private readonly touched: number[] = [];
  private readonly touchedBatches: number[] = [];
  private readonly countsBefore: number[] = [];
  private batch = 0;

  /** `keyBase` must exceed every token id that will be counted. */
  constructor(private readonly keyBase: number) {}

  private pairId(left: number, right: number): number {
    const key = left * this.keyBase + right;
    let id = this.pairIdByKey.get(key);
    if (id === undefined) {
      id = this.lefts.length;
      this.pairIdByKey.set(key, id);
      this.lefts.push(left);
      this.rights.push(right);
      this.counts.push(0);
      this.wordLists.push([]);
      this.touchedBatches.push(-1);
      this.countsBefore.push(0);
    }
    return id;
  }

  /** Adds `delta` to a pair's count; `word`, if given, is recorded as holding the pair. */
  change(left: number, right: number, delta: number, word: number | undefined): void {
    const id = this.pairId(left, right);
    if (this.touchedBatches[id] !== this.batch) {
      this.touchedBatches[id] = this.batch;
      this.countsBefore[id] = this.counts[id];
      this.touched.push(id);
    }
    this.counts[id] += delta;
    if (word !== undefined) this.wordLists[id].push(word);
  }

  /** Ends a batch of changes: every pair whose count changed and is still positive gets a fresh heap entry. */
  commit(): void {
    for (const id of this.touched) {
      const count = this.counts[id];
      if (count !== this.countsBefore[id] && count > 0) this.heap.push(count, this.lefts[id], this.rights[id], id);
    }
    this.touched.length = 0;
    this.batch++;
  }

  /** The most frequent pair with a positive count, or undefined when none is left. */
  mostFrequent(): FrequentPair | undefined {
    while (this.heap.size > 0) {
      const pairId = this.heap.topPairId();
      const count = this.heap.topCount();
      this.heap.pop();
      if (count === this.counts[pairId]) return { pairId, left: this.lefts[pairId], right: this.rights[pairId], count };
    }
    return undefined;
  }

  /** Hands over the words recorded for a pair and forgets them (the pair is about to be merged away everywhere). */
  takeWords(pairId: number): number[] {
    const words = this.wordLists[pairId];
    this.wordLists[pairId] = [];
    return words;
  }
}
