/**
 * A closed-loop key-value workload of reads and writes: `clients` concurrent clients, each
 * sending one request after the other through member `client % size`, a read with probability
 * `readFraction`, else a write, over 100 keys per client, for `seconds`. The same code runs
 * against every store, so the numbers compare like with like.
 */
import type { KvCluster } from '../raft/kv-cluster.js';

export interface MixedLoadResult {
  clients: number;
  readFraction: number;
  seconds: number;
  operations: number;
  failures: number;
  /** The first few failures' messages, to tell a refusal from a timeout. */
  failureSamples: string[];
  operationsPerSecond: number;
  readLatencyMsP50: number;
  readLatencyMsP99: number;
  writeLatencyMsP50: number;
  writeLatencyMsP99: number;
}

const requestTimeoutMs = 2_000;
const keysPerClient = 100;

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))].toFixed(2));
}

export async function runMixedLoad(cluster: KvCluster, clients: number, readFraction: number, seconds: number): Promise<MixedLoadResult> {
  const reads: number[] = [];
  const writes: number[] = [];
  let failures = 0;
  const failureSamples: string[] = [];
  const end = performance.now() + seconds * 1000;
  const client = async (id: number) => {
    let sequence = 0;
    // A fixed per-client pattern (no shared RNG): reads and writes interleave evenly at the asked fraction.
    let credit = 0;
    while (performance.now() < end) {
      const key = `bench/${id}/${sequence % keysPerClient}`;
      credit += readFraction;
      const isRead = credit >= 1;
      if (isRead) credit -= 1;
      const started = performance.now();
      try {
        if (isRead) await cluster.get(id % cluster.size, key, requestTimeoutMs);
        else await cluster.put(id % cluster.size, key, `value-${sequence}`, requestTimeoutMs);
        (isRead ? reads : writes).push(performance.now() - started);
      } catch (error) {
        failures++;
        if (failureSamples.length < 5) failureSamples.push(`${isRead ? 'read' : 'write'}: ${(error as Error).message.slice(0, 300)}`);
      }
      sequence++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, id) => client(id)));
  const elapsed = (performance.now() - started) / 1000;
  reads.sort((a, b) => a - b);
  writes.sort((a, b) => a - b);
  return {
    clients,
    readFraction,
    seconds: Number(elapsed.toFixed(2)),
    operations: reads.length + writes.length,
    failures,
    failureSamples,
    operationsPerSecond: Number(((reads.length + writes.length) / elapsed).toFixed(1)),
    readLatencyMsP50: percentile(reads, 0.5),
    readLatencyMsP99: percentile(reads, 0.99),
    writeLatencyMsP50: percentile(writes, 0.5),
    writeLatencyMsP99: percentile(writes, 0.99),
  };
}
