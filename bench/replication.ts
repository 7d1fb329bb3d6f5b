/**
 * `npm run bench:replication`: the same key-value workload on three members of each of nines'
 * replication modes and of etcd 3.4 (Debian's etcd-server), on loopback: 1 and 64 clients,
 * 90/10 and 50/50 reads/writes, --seconds each. Prints throughput and p50/p99 latencies with
 * the ratio of each nines mode to etcd, and writes bench/results/replication.json.
 *
 * What each store promises differs, and the table says so: etcd and single-leader nines read
 * linearizably and acknowledge writes on a majority; leaderless nines reads and writes quorums
 * (r=2, w=2 of n=3: read-your-writes, not linearizable); multi-leader nines acknowledges after
 * one local fsync and reads the local copy (fast, and eventually consistent).
 *
 * Options: --seconds <n> (default 8), --quick (2 s).
 */
import { contentionWarning, describeMachine, formatTable, integerArgument, loadAverageNow, resultsDirectory, writeResults } from './measure.js';
import { EtcdCluster } from './raft/etcd-cluster.js';
import { NinesCluster, type ReplicationMode } from './raft/nines-cluster.js';
import type { KvCluster } from './raft/kv-cluster.js';
import { runMixedLoad, type MixedLoadResult } from './replication/mixed-load.js';

const quick = process.argv.includes('--quick');
const seconds = quick ? 2 : integerArgument('seconds', 8);
const timeouts = { heartbeatMs: 100, electionMs: 500 };
const workloads = [
  { clients: 1, readFraction: 0.9 },
  { clients: 1, readFraction: 0.5 },
  { clients: 64, readFraction: 0.9 },
  { clients: 64, readFraction: 0.5 },
];

async function measure(cluster: KvCluster): Promise<MixedLoadResult[]> {
  console.log(`${cluster.name}: starting ${cluster.size} members`);
  await cluster.start();
  try {
    const results: MixedLoadResult[] = [];
    for (const { clients, readFraction } of workloads) {
      await runMixedLoad(cluster, clients, readFraction, 1);
      const result = await runMixedLoad(cluster, clients, readFraction, seconds);
      results.push(result);
      console.log(`${cluster.name}: ${clients} client(s), ${Math.round(readFraction * 100)}% reads: ${result.operationsPerSecond} ops/s, read p50 ${result.readLatencyMsP50} ms, write p50 ${result.writeLatencyMsP50} ms, failures ${result.failures}`);
      for (const sample of result.failureSamples) console.log(`  failure: ${sample}`);
    }
    return results;
  } finally {
    await cluster.stop();
  }
}

const machine = describeMachine();
const modes: ReplicationMode[] = ['single-leader', 'multi-leader', 'leaderless'];
const nines: Record<string, MixedLoadResult[]> = {};
for (const [index, mode] of modes.entries()) nines[mode] = await measure(new NinesCluster(3, timeouts, 24_790 + index * 300, mode));
const etcd = await measure(new EtcdCluster(3, timeouts));
const loadAverageAtEnd = loadAverageNow();
const ratio = (ours: number, theirs: number) => Number((ours / theirs).toFixed(3));

const rows = workloads.map((workload, position) => ({
  ...workload,
  etcd: etcd[position],
  modes: Object.fromEntries(modes.map((mode) => {
    const ours = nines[mode][position];
    return [mode, { ...ours, throughputRatioToEtcd: ratio(ours.operationsPerSecond, etcd[position].operationsPerSecond) }];
  })),
}));

const promises = {
  'single-leader': { durability: 'acknowledged after a majority fsynced (acks=quorum)', reads: 'linearizable (ReadIndex)', partition: 'the majority side serves; the minority refuses' },
  'multi-leader': { durability: 'acknowledged after the accepting peer fsynced; shipped to the others asynchronously', reads: 'the local copy (session token for read-after-write)', partition: 'every side accepts writes; merged after healing (siblings or LWW)' },
  leaderless: { durability: 'acknowledged after w=2 of n=3 replicas fsynced', reads: 'r=2 of n=3 (read-your-writes, r + w > n)', partition: 'serves while r or w replicas of a key (or sloppy stand-ins) are reachable' },
  etcd: { durability: 'acknowledged after a majority fsynced', reads: 'linearizable', partition: 'the majority side serves; the minority refuses' },
};

const results = {
  benchmark: 'replication',
  warning: contentionWarning(machine, loadAverageAtEnd),
  machine: { ...machine, loadAverageAtEnd },
  peer: 'etcd 3.4 (Debian etcd-server), v3 JSON gateway over HTTP',
  layout: { members: 3, network: 'loopback', secondsPerRun: seconds, keysPerClient: 100, leaderless: { n: 3, r: 2, w: 2 } },
  promises,
  rows,
};

console.log(`\n${formatTable(
  ['clients', 'reads', 'store', 'ops/s', 'ratio to etcd', 'read p50', 'read p99', 'write p50', 'write p99', 'failures'],
  rows.flatMap((row) => [
    ...modes.map((mode) => {
      const result = row.modes[mode];
      return [String(row.clients), `${Math.round(row.readFraction * 100)}%`, `nines ${mode}`, String(result.operationsPerSecond), String(result.throughputRatioToEtcd), String(result.readLatencyMsP50), String(result.readLatencyMsP99), String(result.writeLatencyMsP50), String(result.writeLatencyMsP99), String(result.failures)];
    }),
    [String(row.clients), `${Math.round(row.readFraction * 100)}%`, 'etcd', String(row.etcd.operationsPerSecond), '1', String(row.etcd.readLatencyMsP50), String(row.etcd.readLatencyMsP99), String(row.etcd.writeLatencyMsP50), String(row.etcd.writeLatencyMsP99), String(row.etcd.failures)],
  ]),
)}`);
if (results.warning !== undefined) console.log(`warning: ${results.warning}`);
const out = `${resultsDirectory}replication.json`;
writeResults(out, results);
console.log(`Written to ${out}`);
