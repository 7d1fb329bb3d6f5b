/**
 * An open-addressing hash table from a pair of token ids to the rank of their merge.
 *
 * The encoder asks "may these two neighbours merge, and how early?" once per adjacent pair
 * and again after every merge, so this lookup is the hot spot. A JavaScript Map keyed by
 * `left * vocabSize + right` would hash heap numbers once the key passes 2^30 (GPT-2's does),
 * so the keys live in two Int32Arrays with linear probing instead.
 */
export const noRank = 0x7fffffff;

export class PairTable {
  private readonly mask: number;
  private readonly lefts: Int32Array;
  private readonly rights: Int32Array;
  private readonly ranks: Int32Array;

  /** Room for `pairCount` pairs at a load factor of at most one half. */
  constructor(pairCount: number) {
    let capacity = 16;
    while (capacity < pairCount * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.lefts = new Int32Array(capacity).fill(-1);
    this.rights = new Int32Array(capacity);
    this.ranks = new Int32Array(capacity);
  }

  private static slot(left: number, right: number, mask: number): number {
    return (Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x7f4a7c15, 0x85ebca6b)) & mask;
  }

  /** Records a pair's rank; returns false (and changes nothing) if the pair is already there. */
  insert(left: number, right: number, rank: number): boolean {
    let slot = PairTable.slot(left, right, this.mask);
    for (;;) {
      const storedLeft = this.lefts[slot];
      if (storedLeft === -1) {
        this.lefts[slot] = left;
        this.rights[slot] = right;
        this.ranks[slot] = rank;
        return true;
      }
      if (storedLeft === left && this.rights[slot] === right) return false;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The rank of the merge of `left` then `right`, or `noRank` if they never merge. */
  rank(left: number, right: number): number {
    const mask = this.mask;
    const lefts = this.lefts;
    let slot = PairTable.slot(left, right, mask);
    for (;;) {
      const storedLeft = lefts[slot];
      if (storedLeft === left && this.rights[slot] === right) return this.ranks[slot];
      if (storedLeft === -1) return noRank;
      slot = (slot + 1) & mask;
    }
  }
}
