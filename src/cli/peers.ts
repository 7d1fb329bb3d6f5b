/**
 * `nines peers --data-dir d [--json]`: the routing table of the node running in d, bucket by
 * bucket (bucket index, node ID, host, port, last seen), read over the node's loopback admin
 * channel with the token in d/node.json.
 */
import type { Command } from 'commander';
import { adminRequest } from '../node/index.js';
import type { RoutingTableBucket } from '../p2p/dht/index.js';

export interface PeersOutput {
  write(text: string): void;
}

interface RoutingTableAnswer {
  nodeId: string;
  contact: string;
  size: number;
  buckets: RoutingTableBucket[];
}

function ago(lastSeenMs: number | null, nowMs: number): string {
  if (lastSeenMs === null) return 'unknown';
  const seconds = Math.max(0, (nowMs - lastSeenMs) / 1000);
  return seconds < 100 ? `${seconds.toFixed(1)} s ago` : `${Math.round(seconds)} s ago`;
}

function count(value: number, noun: string): string {
  return `${value} ${noun}${value === 1 ? '' : 's'}`;
}

/** The routing table as text: a header, then one block per bucket. */
export function formatRoutingTable(table: RoutingTableAnswer, nowMs: number): string {
  const lines = [`node ${table.nodeId} at ${table.contact}: ${count(table.size, 'peer')} in ${count(table.buckets.length, 'bucket')}`];
  if (table.buckets.length === 0) lines.push('(the routing table is empty: no peer has answered yet)');
  for (const bucket of table.buckets) {
    lines.push(`bucket ${bucket.index} (ids sharing ${count(bucket.index, 'leading bit')} with ours), ${count(bucket.contacts.length, 'peer')}:`);
    for (const contact of bucket.contacts) {
      lines.push(`  ${contact.nodeId}  ${contact.host.padEnd(15)}  ${String(contact.port).padStart(5)}  last seen ${ago(contact.lastSeenMs, nowMs)}`);
    }
  }
  return lines.join('\n') + '\n';
}

export function registerPeers(program: Command, output: PeersOutput = { write: (text) => void process.stdout.write(text) }): Command {
  return program
    .command('peers')
    .description("print the routing table of the node running in a data directory, bucket by bucket")
    .requiredOption('--data-dir <dir>', 'the data directory of a running nines node')
    .option('--json', 'print the table as JSON', false)
    .action(async (flags: { dataDir: string; json: boolean }, command: Command) => {
      let table: RoutingTableAnswer;
      try {
        table = (await adminRequest(flags.dataDir, 'GET', '/v0/routing-table')) as RoutingTableAnswer;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string') command.error(`error: ${(error as Error).message}`, { exitCode: 1, code: `nines.${code}` });
        throw error;
      }
      output.write(flags.json ? JSON.stringify(table, null, 2) + '\n' : formatRoutingTable(table, Date.now()));
    });
}
