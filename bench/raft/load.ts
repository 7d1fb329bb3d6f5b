/**
 * The two measurements of `npm run bench:raft`, the same code for every store:
 *
 * - throughput and latency: `clients` concurrent writers, each writing one key after the
 *   other (closed loop) through member `client % size`, for `seconds`;
 * - failover: under a light steady load through the followers, SIGKILL the leader and
 *   measure the time until a write SENT AFTER the kill succeeds; then restart the killed
 *   member and wait for it to serve again before the next round.
 */
import { median } from '../measure.js';
import type { KvCluster } from './kv-cluster.js';

export interface LoadResult {
  clients: number;
  seconds: number;
  writes: number;
  failures: number;
  writesPerSecond: number;
  latencyMsP50: number;
  latencyMsP99: number;
}

const requestTimeoutMs = 2_000;
const probeIntervalMs = 20;
const probeTimeoutMs = 10_000;
const probeWindowMs = 30_000;

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

export async function runLoad(cluster: KvCluster, clients: number, seconds: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  const end = performance.now() + seconds * 1000;
  const writer = async (client: number) => {
    let sequence = 0;
    while (performance.now() < end) {
      const started = performance.now();
      try {
        await cluster.put(client % cluster.size, `bench/${client}/${sequence++ % 100}`, `value-${sequence}`, requestTimeoutMs);
        latencies.push(performance.now() - started);
      } catch {
        failures++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, client) => writer(client)));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    clients,
    seconds: Number(elapsed.toFixed(2)),
    writes: latencies.length,
    failures,
    writesPerSecond: Number((latencies.length / elapsed).toFixed(1)),
    latencyMsP50: Number(percentile(latencies, 0.5).toFixed(2)),
    latencyMsP99: Number(percentile(latencies, 0.99).toFixed(2)),
  };
}

export interface FailoverResult {
  rounds: number;
  /** Milliseconds from the SIGKILL to the first successful write sent after it, per round. */
  unavailableMs: number[];
  medianMs: number;
  maxMs: number;
}

export async function measureFailover(cluster: KvCluster, rounds: number, log: (line: string) => void): Promise<FailoverResult> {
  const unavailableMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const leader = await waitForLeader(cluster);
    const survivors = Array.from({ length: cluster.size }, (_, member) => member).filter((member) => member !== leader);
    const killedAt = performance.now();
    cluster.kill(leader);
    let recoveredAt: number | undefined;
    // Open loop: a new write through a survivor every `probeIntervalMs`, each allowed up to
    // `probeTimeoutMs`. A write sent into the election may hang or fail; the first one that
    // completes marks the recovery, to within one probe interval.
    const probes: Promise<void>[] = [];
    for (let probe = 0; recoveredAt === undefined && performance.now() - killedAt < probeWindowMs; probe++) {
      const member = survivors[probe % survivors.length];
      probes.push(cluster.put(member, `failover/${round}/${probe}`, String(probe), probeTimeoutMs).then(
        () => {
          recoveredAt ??= performance.now();
        },
        () => undefined,
      ));
      await new Promise((resolve) => setTimeout(resolve, probeIntervalMs));
    }
    await Promise.all(probes);
    if (recoveredAt === undefined) throw new Error(`${cluster.name}: no write succeeded within 30 s of killing the leader (round ${round + 1})`);
    unavailableMs.push(Number((recoveredAt - killedAt).toFixed(1)));
    log(`${cluster.name} failover ${round + 1}/${rounds}: writes resumed after ${unavailableMs.at(-1)} ms`);
    await cluster.restart(leader);
  }
  return { rounds, unavailableMs, medianMs: median(unavailableMs), maxMs: Math.max(...unavailableMs) };
}

async function waitForLeader(cluster: KvCluster): Promise<number> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const leader = await cluster.leader();
    if (leader !== undefined) return leader;
    if (performance.now() > deadline) throw new Error(`${cluster.name}: no leader within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
