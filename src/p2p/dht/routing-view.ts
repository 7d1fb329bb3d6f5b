/**
 * The routing table as `nines peers` shows it: contacts grouped by bucket, with the time
 * each was last heard from. The core keeps no wall-clock times, so the shell records when
 * each peer last sent us anything (a request or an answer) and joins it in here.
 */
import type { Contact } from '../kademlia/index.js';

export interface RoutingTableEntry {
  nodeId: string;
  host: string;
  port: number;
  /** Wall-clock milliseconds when this node last heard from the peer, or null if never directly. */
  lastSeenMs: number | null;
}

export interface RoutingTableBucket {
  /** Bits the members' ids share with ours before the first difference (0 = the farthest half of the id space). */
  index: number;
  contacts: RoutingTableEntry[];
}

/** The bucket a peer falls into for a node: the length of their ids' common prefix in bits. */
export function bucketIndexOf(selfId: string, nodeId: string): number {
  for (let offset = 0; offset < selfId.length; offset++) {
    const difference = parseInt(selfId[offset], 16) ^ parseInt(nodeId[offset], 16);
    if (difference !== 0) return offset * 4 + (Math.clz32(difference) - 28);
  }
  return selfId.length * 4;
}

/** Groups contacts by bucket, buckets in ascending index, members in the order the table holds them. */
export function routingTableBuckets(selfId: string, contacts: readonly Contact[], lastSeenMs: (nodeId: string) => number | undefined): RoutingTableBucket[] {
  const buckets = new Map<number, RoutingTableEntry[]>();
  for (const contact of contacts) {
    const index = bucketIndexOf(selfId, contact.nodeId);
    let entries = buckets.get(index);
    if (entries === undefined) buckets.set(index, (entries = []));
    entries.push({ nodeId: contact.nodeId, host: contact.host, port: contact.port, lastSeenMs: lastSeenMs(contact.nodeId) ?? null });
  }
  return [...buckets.entries()].sort(([a], [b]) => a - b).map(([index, entries]) => ({ index, contacts: entries }));
}
