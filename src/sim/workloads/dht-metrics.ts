/**
 * What the DHT workload measures, phase by phase, and the report it writes
 * (bench/results/dht.json when run at full size).
 */
import { distribution, formatDistribution, histogram, type Distribution } from '../statistics.js';

/** Outcomes of one kind of query (lookups, or provider queries) in one phase. */
export class QueryMetrics {
  succeeded = 0;
  failed = 0;
  /** Queries whose asking peer left before they finished: neither a success nor a failure. */
  abandoned = 0;
  readonly hops: number[] = [];
  readonly latencyMs: number[] = [];
  readonly requests: number[] = [];

  add(success: boolean, hops: number, latencyMs: number, requests: number): void {
    if (success) this.succeeded++;
    else this.failed++;
    this.hops.push(hops);
    this.latencyMs.push(latencyMs);
    this.requests.push(requests);
  }

  get successRate(): number {
    const total = this.succeeded + this.failed;
    return total === 0 ? Number.NaN : this.succeeded / total;
  }

  summary(): QuerySummary {
    return {
      count: this.succeeded + this.failed,
      succeeded: this.succeeded,
      failed: this.failed,
      abandoned: this.abandoned,
      successRate: this.successRate,
      hops: distribution(this.hops),
      hopsHistogram: histogram(this.hops),
      latencyMs: distribution(this.latencyMs),
      requestsPerQuery: distribution(this.requests),
    };
  }
}

export interface QuerySummary {
  count: number;
  succeeded: number;
  failed: number;
  abandoned: number;
  successRate: number;
  hops: Distribution;
  hopsHistogram: Record<string, number>;
  latencyMs: Distribution;
  requestsPerQuery: Distribution;
}

export interface RoutingTableSummary {
  peers: number;
  /** Contacts per routing table. */
  contacts: Distribution;
  /** Mean contacts in bucket i (i = shared prefix length with the owner), for the first buckets. */
  meanBucketFill: number[];
  /** The Kademlia counters (KademliaStats) summed over the live peers. */
  liveNodeCounters?: Record<string, number>;
}

export function routingTableSummary(tables: readonly { size: number; bucketFill: readonly number[] }[], bucketsShown = 24): RoutingTableSummary {
  const meanBucketFill: number[] = new Array<number>(bucketsShown).fill(0);
  for (const table of tables) {
    for (let index = 0; index < bucketsShown && index < table.bucketFill.length; index++) meanBucketFill[index] += table.bucketFill[index];
  }
  while (meanBucketFill.length > 0 && meanBucketFill[meanBucketFill.length - 1] === 0) meanBucketFill.pop();
  return {
    peers: tables.length,
    contacts: distribution(tables.map((table) => table.size)),
    meanBucketFill: meanBucketFill.map((total) => Math.round((total / Math.max(1, tables.length)) * 10) / 10),
  };
}

export interface Threshold {
  name: string;
  required: string;
  actual: number;
  pass: boolean;
}

export function describeQueries(name: string, summary: QuerySummary): string[] {
  const rate = Number.isNaN(summary.successRate) ? 'n/a' : `${(summary.successRate * 100).toFixed(2)}%`;
  const histogramText = Object.entries(summary.hopsHistogram).map(([hops, count]) => `${hops}:${count}`).join(' ');
  return [
    `${name}: ${summary.succeeded}/${summary.count} succeeded (${rate})${summary.abandoned > 0 ? `, ${summary.abandoned} abandoned by a departing peer` : ''}`,
    `  ${formatDistribution('hops', summary.hops)}`,
    `  hops histogram: ${histogramText}`,
    `  ${formatDistribution('latency', summary.latencyMs, ' ms')}`,
    `  ${formatDistribution('requests per query', summary.requestsPerQuery)}`,
  ];
}

export function describeRoutingTables(name: string, summary: RoutingTableSummary): string[] {
  const lines = [
    `${name}: ${formatDistribution('contacts per table', summary.contacts)}`,
    `  mean fill of buckets 0..${summary.meanBucketFill.length - 1}: ${summary.meanBucketFill.join(' ')}`,
  ];
  if (summary.liveNodeCounters !== undefined) {
    lines.push(`  counters of the live peers: ${Object.entries(summary.liveNodeCounters).map(([counter, value]) => `${counter} ${value}`).join(', ')}`);
  }
  return lines;
}
