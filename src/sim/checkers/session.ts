/**
 * Checks reads that promise less than linearizability (DESIGN.md section 5):
 *
 * - a `session` read sees the client's own latest acknowledged write to the key or something
 *   newer (read-your-writes), and never goes back before what the client read earlier
 *   (monotonic reads);
 * - a `stale` read may be old, but returns a value that was committed (or the empty value).
 *
 * "Newer" is the order of the log: `commitIndexOf(value)` is the index at which the write of
 * that value committed (values are unique per write), and the empty value counts as index 0.
 */
export interface WeakRead {
  readonly client: number;
  readonly key: string;
  readonly consistency: 'session' | 'stale';
  readonly value: string | null;
  readonly ownLatestWrite: string | undefined;
  readonly previousRead: string | null | undefined;
}

export function checkWeakReads(reads: readonly WeakRead[], commitIndexOf: (value: string) => number | undefined): string[] {
  const violations: string[] = [];
  const indexOf = (value: string | null) => (value === null ? 0 : commitIndexOf(value));
  for (const read of reads) {
    const where = `client ${read.client}, ${read.consistency} read of ${read.key}`;
    const seen = indexOf(read.value);
    if (seen === undefined) {
      violations.push(`${where} returned ${read.value}, which never committed`);
      continue;
    }
    if (read.consistency === 'stale') continue;
    if (read.ownLatestWrite !== undefined) {
      const own = indexOf(read.ownLatestWrite);
      if (own === undefined) violations.push(`${where}: the client's acknowledged write ${read.ownLatestWrite} never committed`);
      else if (seen < own) violations.push(`${where} returned ${read.value} (index ${seen}), older than the client's own write ${read.ownLatestWrite} (index ${own})`);
    }
    if (read.previousRead !== undefined) {
      const previous = indexOf(read.previousRead);
      if (previous !== undefined && seen < previous) violations.push(`${where} returned ${read.value} (index ${seen}), older than the ${read.previousRead} it read before (index ${previous})`);
    }
  }
  return violations;
}
