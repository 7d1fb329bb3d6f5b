/**
 * Label values with a bound. Each distinct value of a label is a time series of its own, so
 * every value that comes from outside the code is cut to `labelCharactersMax` and counted
 * against a limit (constants.ts); past the limit it becomes `other`.
 */
import { labelCharactersMax, otherLabel } from './constants.js';

/** A value cut to the longest label nines writes. */
export function truncatedLabel(value: string): string {
  return value.length <= labelCharactersMax ? value : value.slice(0, labelCharactersMax);
}

/**
 * The label of each peer in one snapshot: the peers sorted by id, the first `peersMax`
 * under their own (cut) id and the rest under `other`. Sorting makes the choice the same
 * from scrape to scrape while the set of peers does not change. Callers add the values of
 * peers that share a label, so `other` carries the sum over the peers it stands for.
 */
export function peerLabeller(peerIds: Iterable<string>, peersMax: number): (peerId: string) => string {
  const named = new Set([...new Set(peerIds)].sort().slice(0, peersMax));
  return (peerId) => (named.has(peerId) ? truncatedLabel(peerId) : otherLabel);
}

/**
 * A label whose first `valuesMax` distinct values keep their name for the life of the
 * process and later ones become `other`. For values that arrive one observation at a time
 * (a model's name, a route pattern), where there is no snapshot to sort.
 */
export class StickyLabelValues {
  private readonly known = new Set<string>();

  constructor(private readonly valuesMax: number) {}

  label(value: string): string {
    const cut = truncatedLabel(value);
    if (this.known.has(cut)) return cut;
    if (this.known.size >= this.valuesMax) return otherLabel;
    this.known.add(cut);
    return cut;
  }
}
