/**
 * Ranking token ids by their logits, best first: a higher logit ranks first, and among
 * equal logits the lower id does, so the order (and thus sampling) is fully determined.
 */

/** True when id a ranks before id b. */
function ranksBefore(values: Float32Array, a: number, b: number): boolean {
  return values[a] > values[b] || (values[a] === values[b] && a < b);
}

/**
 * order[0..k) = the k best ids of values, best first, in O(n log k): a heap of the k best
 * so far whose root is the worst of them, then an in-place heapsort of that heap.
 */
export function selectBest(values: Float32Array, order: Int32Array, k: number): void {
  const n = values.length;
  if (!(Number.isInteger(k) && k >= 1 && k <= n && order.length >= k)) throw new RangeError(`selectBest: k must be in 1..${n}, got ${k}`);
  let size = 0;
  for (let id = 0; id < n; id++) {
    if (size < k) {
      order[size] = id;
      siftUp(values, order, size);
      size++;
    } else if (ranksBefore(values, id, order[0])) {
      order[0] = id;
      siftDown(values, order, 0, size);
    }
  }
  // Repeatedly move the worst remaining (the root) to the end: the result is best first.
  for (let end = k - 1; end > 0; end--) {
    const worst = order[0];
    order[0] = order[end];
    order[end] = worst;
    siftDown(values, order, 0, end);
  }
}

/** Sorts order[0..count) best first. */
export function sortBest(values: Float32Array, order: Int32Array, count: number): void {
  order.subarray(0, count).sort((a, b) => (ranksBefore(values, a, b) ? -1 : ranksBefore(values, b, a) ? 1 : 0));
}

// The heap keeps the worst-ranked id at the root: a parent never ranks before its children.
function siftUp(values: Float32Array, heap: Int32Array, index: number): void {
  let child = index;
  while (child > 0) {
    const parent = (child - 1) >> 1;
    if (!ranksBefore(values, heap[parent], heap[child])) return;
    const swap = heap[parent];
    heap[parent] = heap[child];
    heap[child] = swap;
    child = parent;
  }
}

function siftDown(values: Float32Array, heap: Int32Array, index: number, size: number): void {
  let parent = index;
  for (;;) {
    const left = 2 * parent + 1;
    if (left >= size) return;
    const right = left + 1;
    const worseChild = right < size && ranksBefore(values, heap[left], heap[right]) ? right : left;
    if (!ranksBefore(values, heap[parent], heap[worseChild])) return;
    const swap = heap[parent];
    heap[parent] = heap[worseChild];
    heap[worseChild] = swap;
    parent = worseChild;
  }
}
