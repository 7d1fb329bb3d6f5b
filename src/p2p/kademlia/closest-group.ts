/**
 * The scratch space and selection step behind `RoutingTable.closest`.
 */
import type { Contact } from './contact.js';
import { compareDistance } from './node-id.js';

/**
 * Scratch space for `closest`, shared by every table: the core is synchronous and `closest`
 * calls nothing that could re-enter it, so one buffer serves all (and 10,000 simulated peers
 * do not each carry their own). It holds one group of members at a time with a sort key:
 * the top 53 bits of the XOR distance, exact unless two distances agree on all of them.
 * Entries past `size` are stale and overwritten by the next group.
 */
export const closestGroup = {
  size: 0,
  contacts: [] as Contact[],
  words: [] as Uint32Array[],
  offsets: new Int32Array(256),
  keys: new Float64Array(256),
  order: new Int32Array(256),
};

export function growClosestGroup(): void {
  const capacity = closestGroup.keys.length * 2;
  const offsets = new Int32Array(capacity);
  offsets.set(closestGroup.offsets);
  const keys = new Float64Array(capacity);
  keys.set(closestGroup.keys);
  closestGroup.offsets = offsets;
  closestGroup.keys = keys;
  closestGroup.order = new Int32Array(capacity);
}

/** Orders group members a and b by distance to `target`: by key, then by the full words on a tie. */
function groupCompare(target: Uint32Array, a: number, b: number): number {
  const keyA = closestGroup.keys[a];
  const keyB = closestGroup.keys[b];
  if (keyA !== keyB) return keyA < keyB ? -1 : 1;
  return compareDistance(target, closestGroup.words[a], closestGroup.offsets[a], closestGroup.words[b], closestGroup.offsets[b]);
}

/**
 * Appends the group's members closest to the target to `result`, up to `count` in all, in
 * order, and empties the group. It keeps a sorted list of the best `need` members seen so
 * far: most members lose to the current worst at the first comparison, so a group of
 * hundreds costs little more than one pass, and a single bucket is an insertion sort.
 */
export function takeClosestGroup(result: Contact[], count: number, target: Uint32Array): void {
  const size = closestGroup.size;
  closestGroup.size = 0;
  const need = count - result.length;
  if (size === 0 || need <= 0) return;
  const order = closestGroup.order;
  let kept = 0;
  for (let member = 0; member < size; member++) {
    if (kept === need && groupCompare(target, order[kept - 1], member) <= 0) continue;
    let position = kept < need ? kept++ : need - 1;
    while (position > 0 && groupCompare(target, order[position - 1], member) > 0) {
      order[position] = order[position - 1];
      position--;
    }
    order[position] = member;
  }
  for (let i = 0; i < kept; i++) result.push(closestGroup.contacts[order[i]]);
}
