/**
 * Applying ranked merges to one pre-token (the inner loop of BPE encoding).
 *
 * The rule, shared with GPT-2's encoder.py, tiktoken and llama.cpp: among all adjacent pairs
 * that have a merge, merge the one with the lowest rank; if that pair occurs more than once,
 * the leftmost goes first. Repeat until no adjacent pair has a merge.
 *
 * Two implementations of the same rule: a scan for short pieces (almost all words), and a
 * heap over a linked list for long ones, where the scan's quadratic cost would bite (a run
 * of a million spaces is one pre-token). The tests check that they agree.
 */
import { noRank, type PairTable } from './pair-table.js';

/** The merges of a vocabulary in lookup form. */
export interface MergeRules {
  /** (left id, right id) to the merge's rank. */
  pairs: PairTable;
  /** results[rank] is the id of the token the merge of that rank produces. */
  results: Int32Array;
}

/** Reusable scratch arrays, grown on demand, so that merging allocates nothing per word. */
export class MergeWorkspace {
  ranks = new Int32Array(64);
  previous = new Int32Array(64);
  next = new Int32Array(64);
  heapRanks = new Int32Array(192);
  heapPositions = new Int32Array(192);

  ensure(length: number): void {
    if (this.ranks.length >= length) return;
    let capacity = this.ranks.length;
    while (capacity < length) capacity *= 2;
    this.ranks = new Int32Array(capacity);
    this.previous = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    // A merge pushes at most two new pairs, and there are fewer merges than positions.
    this.heapRanks = new Int32Array(capacity * 3);
    this.heapPositions = new Int32Array(capacity * 3);
  }
}

/**
 * Merges `ids[0..length)` in place by repeated scanning and returns the new length.
 * `ranks[i]` caches the rank of the pair (ids[i], ids[i + 1]) so that each merge only
 * looks up the two pairs it changed.
 */
export function mergeByScan(ids: Int32Array, length: number, rules: MergeRules, workspace: MergeWorkspace): number {
  workspace.ensure(length);
  const ranks = workspace.ranks;
  const pairs = rules.pairs;
  for (let index = 0; index + 1 < length; index++) ranks[index] = pairs.rank(ids[index], ids[index + 1]);
  while (length > 1) {
    let bestRank = noRank;
    let bestIndex = -1;
    for (let index = 0; index + 1 < length; index++) {
      if (ranks[index] < bestRank) {
        bestRank = ranks[index];
        bestIndex = index;
      }
    }
    if (bestIndex < 0) break;
    ids[bestIndex] = rules.results[bestRank];
    ids.copyWithin(bestIndex + 1, bestIndex + 2, length);
    ranks.copyWithin(bestIndex + 1, bestIndex + 2, length - 1);
    length--;
    if (bestIndex > 0) ranks[bestIndex - 1] = pairs.rank(ids[bestIndex - 1], ids[bestIndex]);
    if (bestIndex + 1 < length) ranks[bestIndex] = pairs.rank(ids[bestIndex], ids[bestIndex + 1]);
  }
  return length;
}

/** A binary min-heap of (rank, position) entries in the workspace's arrays, ordered by rank and then position. */
class PairHeap {
  size = 0;
  constructor(private readonly ranks: Int32Array, private readonly positions: Int32Array) {}

  private less(a: number, b: number): boolean {
    const rankA = this.ranks[a];
    const rankB = this.ranks[b];
    return rankA < rankB || (rankA === rankB && this.positions[a] < this.positions[b]);
  }

  private swap(a: number, b: number): void {
    const rank = this.ranks[a];
    const position = this.positions[a];
    this.ranks[a] = this.ranks[b];
    this.positions[a] = this.positions[b];
    this.ranks[b] = rank;
    this.positions[b] = position;
  }

  push(rank: number, position: number): void {
    let index = this.size++;
    this.ranks[index] = rank;
    this.positions[index] = position;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.less(index, parent)) break;
      this.swap(index, parent);
      index = parent;
    }
  }

  /** Removes the smallest entry; read it from `topRank`/`topPosition` first. */
  pop(): void {
    this.size--;
    this.ranks[0] = this.ranks[this.size];
    this.positions[0] = this.positions[this.size];
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= this.size) break;
      const smaller = left + 1 < this.size && this.less(left + 1, left) ? left + 1 : left;
      if (!this.less(smaller, index)) break;
      this.swap(smaller, index);
      index = smaller;
    }
  }

  topRank(): number {
    return this.ranks[0];
  }

  topPosition(): number {
    return this.positions[0];
  }
}

/**
 * Merges `ids[0..length)` in place with a heap of candidate pairs and returns the new length.
 * Symbols stay at their first byte's position in a doubly linked list; a merged-away symbol
 * is marked -1. Heap entries are not removed when a merge invalidates them: a popped entry
 * is used only if its pair still exists with the same rank (equal ranks mean the same pair).
 */
export function mergeByHeap(ids: Int32Array, length: number, rules: MergeRules, workspace: MergeWorkspace): number {
  workspace.ensure(length);
  const { previous, next } = workspace;
  const pairs = rules.pairs;
  const heap = new PairHeap(workspace.heapRanks, workspace.heapPositions);
  for (let index = 0; index < length; index++) {
    previous[index] = index - 1;
    next[index] = index + 1;
    if (index + 1 < length) {
      const rank = pairs.rank(ids[index], ids[index + 1]);
      if (rank !== noRank) heap.push(rank, index);
    }
  }
  while (heap.size > 0) {
    const rank = heap.topRank();
    const position = heap.topPosition();
    heap.pop();
    if (ids[position] < 0) continue;
    const right = next[position];
    if (right >= length || pairs.rank(ids[position], ids[right]) !== rank) continue;
    ids[position] = rules.results[rank];
    ids[right] = -1;
    const after = next[right];
    next[position] = after;
    if (after < length) {
      previous[after] = position;
      const rankAfter = pairs.rank(ids[position], ids[after]);
      if (rankAfter !== noRank) heap.push(rankAfter, position);
    }
    const before = previous[position];
    if (before >= 0) {
      const rankBefore = pairs.rank(ids[before], ids[position]);
      if (rankBefore !== noRank) heap.push(rankBefore, before);
    }
  }
  let written = 0;
  for (let position = 0; position < length; position = next[position]) ids[written++] = ids[position];
  return written;
}
