/**
 * `npm run bench:raft`: nines' single-leader replication against etcd 3.4 (Debian's
 * etcd-server), three members each on loopback, same heartbeat (100 ms) and election
 * timeout (500 ms), same durability (a majority fsynced before the acknowledgement).
 *
 * 1. Write throughput and p50/p99 latency with 1 client and with 64 concurrent clients
 *    (closed loop, --seconds each), ours and etcd's, and the ratios ours / etcd.
 * 2. Failover: SIGKILL the leader, measure until a write sent after the kill succeeds,
 *    restart the killed member, --rounds times each; median and max.
 * Results go to bench/results/raft.json. Options: --seconds <n> (default 10), --rounds <n>
 * (default 20), --quick (3 s, 3 rounds).
 */
import { contentionWarning, describeMachine, formatTable, integerArgument, loadAverageNow, resultsDirectory, writeResults } from './measure.js';
import { EtcdCluster } from './raft/etcd-cluster.js';
import { NinesCluster } from './raft/nines-cluster.js';
import { measureFailover, runLoad, type FailoverResult, type LoadResult } from './raft/load.js';
import type { KvCluster } from './raft/kv-cluster.js';

const quick = process.argv.includes('--quick');
const seconds = quick ? 3 : integerArgument('seconds', 10);
const rounds = quick ? 3 : integerArgument('rounds', 20);
const timeouts = { heartbeatMs: 100, electionMs: 500 };
const clientCounts = [1, 64];

interface StoreResults {
  load: LoadResult[];
  failover: FailoverResult;
}

async function measure(cluster: KvCluster): Promise<StoreResults> {
  console.log(`${cluster.name}: starting ${cluster.size} members`);
  await cluster.start();
  try {
    const load: LoadResult[] = [];
    for (const clients of clientCounts) {
      // A short warm-up, so connections and caches exist before the clock runs.
      await runLoad(cluster, clients, 1);
      load.push(await runLoad(cluster, clients, seconds));
      console.log(`${cluster.name}: ${clients} client(s): ${load.at(-1)!.writesPerSecond} writes/s, p50 ${load.at(-1)!.latencyMsP50} ms, p99 ${load.at(-1)!.latencyMsP99} ms`);
    }
    const failover = await measureFailover(cluster, rounds, console.log);
    return { load, failover };
  } finally {
    await cluster.stop();
  }
}

const machine = describeMachine();
const nines = await measure(new NinesCluster(3, timeouts));
const etcd = await measure(new EtcdCluster(3, timeouts));
const loadAverageAtEnd = loadAverageNow();
const ratio = (ours: number, theirs: number) => Number((ours / theirs).toFixed(3));

const rows = clientCounts.map((clients, position) => {
  const ours = nines.load[position];
  const theirs = etcd.load[position];
  return { clients, nines: ours, etcd: theirs, throughputRatio: ratio(ours.writesPerSecond, theirs.writesPerSecond), latencyP50Ratio: ratio(ours.latencyMsP50, theirs.latencyMsP50), latencyP99Ratio: ratio(ours.latencyMsP99, theirs.latencyMsP99) };
});
const results = {
  benchmark: 'raft',
  warning: contentionWarning(machine, loadAverageAtEnd),
  machine: { ...machine, loadAverageAtEnd },
  peer: 'etcd 3.4 (Debian etcd-server), v3 JSON gateway over HTTP',
  layout: { members: 3, network: 'loopback', heartbeatMs: timeouts.heartbeatMs, electionTimeoutMs: timeouts.electionMs, ninesAcks: 'quorum', secondsPerRun: seconds, failoverRounds: rounds },
  throughput: rows,
  failover: { nines: nines.failover, etcd: etcd.failover, medianRatio: ratio(nines.failover.medianMs, etcd.failover.medianMs) },
  mustReach: {
    throughputRatioAt64Clients: { target: '>= 0.8', measured: rows[1].throughputRatio, met: rows[1].throughputRatio >= 0.8 },
    failoverMedianMs: { target: '<= 1000', measured: nines.failover.medianMs, met: nines.failover.medianMs <= 1000 },
    failoverMaxMs: { target: '<= 2000', measured: nines.failover.maxMs, met: nines.failover.maxMs <= 2000 },
  },
};

console.log(`\n${formatTable(
  ['clients', 'nines w/s', 'etcd w/s', 'ratio', 'nines p50 ms', 'etcd p50 ms', 'nines p99 ms', 'etcd p99 ms'],
  rows.map((row) => [String(row.clients), String(row.nines.writesPerSecond), String(row.etcd.writesPerSecond), String(row.throughputRatio), String(row.nines.latencyMsP50), String(row.etcd.latencyMsP50), String(row.nines.latencyMsP99), String(row.etcd.latencyMsP99)]),
)}`);
console.log(`failover (ms until writes resume): nines median ${nines.failover.medianMs}, max ${nines.failover.maxMs}; etcd median ${etcd.failover.medianMs}, max ${etcd.failover.maxMs}`);
if (results.warning !== undefined) console.log(`warning: ${results.warning}`);
const out = `${resultsDirectory}raft.json`;
writeResults(out, results);
console.log(`Written to ${out}`);
