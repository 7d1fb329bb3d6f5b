/**
 * Checks a stored log against its hash chain: what `nines log verify` runs over a data
 * directory, and what recovery runs to find where a torn write begins.
 */
import { entryHash, genesisHash } from './hash.js';
import type { Entry, SnapshotMeta } from './types.js';

export type LogVerification =
  | { readonly ok: true; readonly lastIndex: number; readonly lastHash: string }
  | {
    readonly ok: false;
    /** The index the first bad entry has, or should have had. */
    readonly index: number;
    /** Position of the bad entry in the array handed in. */
    readonly position: number;
    readonly reason: string;
    /** The last index before it that checked out: a recovery truncates the log after this. */
    readonly lastGoodIndex: number;
  };

const entryTypes = new Set(['normal', 'configuration', 'empty']);

/**
 * Verifies `entries` (in log order) continue the chain from `snapshot` (or from the empty log):
 * consecutive indexes, terms that never decrease, and every hash recomputed. Names the first bad entry.
 */
export function verifyLog(entries: readonly Entry[], snapshot: Pick<SnapshotMeta, 'index' | 'term' | 'hash'> | undefined): LogVerification {
  let previousIndex = snapshot?.index ?? 0;
  let previousTerm = snapshot?.term ?? 0;
  let previousHash = snapshot?.hash ?? genesisHash;
  for (let position = 0; position < entries.length; position++) {
    const entry = entries[position];
    const expectedIndex = previousIndex + 1;
    const fail = (reason: string): LogVerification => ({ ok: false, index: expectedIndex, position, reason, lastGoodIndex: previousIndex });
    if (entry.index !== expectedIndex) return fail(`entry at position ${position} has index ${entry.index}, expected ${expectedIndex} (a gap or a reordering)`);
    if (!Number.isSafeInteger(entry.term) || entry.term < previousTerm) return fail(`term ${entry.term} is lower than the previous entry's term ${previousTerm}`);
    if (!entryTypes.has(entry.type)) return fail(`unknown entry type ${JSON.stringify(entry.type)}`);
    if (!(entry.data instanceof Uint8Array)) return fail('entry data is not bytes');
    const expectedHash = entryHash(previousHash, entry.term, entry.index, entry.type, entry.data);
    if (entry.hash !== expectedHash) return fail(`hash mismatch: stored ${entry.hash.slice(0, 16)}..., computed ${expectedHash.slice(0, 16)}... (the entry or one before it was altered or torn)`);
    previousIndex = entry.index;
    previousTerm = entry.term;
    previousHash = entry.hash;
  }
  return { ok: true, lastIndex: previousIndex, lastHash: previousHash };
}
