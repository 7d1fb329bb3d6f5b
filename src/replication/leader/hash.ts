/**
 * The hash chain over the log: every entry carries SHA-256(previous hash || term || index ||
 * type || data), so a replica can prove its history was not altered, and a torn or corrupted
 * write on disk shows up as the first entry whose hash does not match. `node:crypto`'s hash
 * does no I/O, so the pure core may use it.
 */
import { createHash } from 'node:crypto';
import type { Entry, EntryType } from './types.js';

/** The hash before the first entry of a log that starts empty: 64 hex zeros. */
export const genesisHash = '0'.repeat(64);

const typeCodes: Record<EntryType, number> = { normal: 0, configuration: 1, empty: 2 };

export function entryHash(previousHash: string, term: number, index: number, type: EntryType, data: Uint8Array): string {
  const header = Buffer.alloc(17);
  // Terms and indexes are safe integers: written as 64-bit big-endian so the encoding is unambiguous.
  header.writeBigUInt64BE(BigInt(term), 0);
  header.writeBigUInt64BE(BigInt(index), 8);
  header.writeUInt8(typeCodes[type] ?? 255, 16);
  return createHash('sha256').update(previousHash, 'hex').update(header).update(data).digest('hex');
}

export function makeEntry(previousHash: string, term: number, index: number, type: EntryType, data: Uint8Array): Entry {
  return { term, index, type, data, hash: entryHash(previousHash, term, index, type, data) };
}
