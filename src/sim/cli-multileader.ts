/**
 * `node dist/sim/cli-multileader.js` (what `npm run sim:multileader` runs): the multi-leader
 * workload over many seeds. Prints progress, every failing seed (re-run it with --start-seed N
 * --seeds 1 to replay it exactly), and a summary with the slowest convergence after healing.
 * Exits with status 1 when any seed broke a promise.
 *
 *   node dist/sim/cli-multileader.js [--seeds 1000] [--start-seed 1] [--verbose]
 */
import { pathToFileURL } from 'node:url';
import { parseSeedRange } from './cli-arguments.js';
import { runMultiLeaderWorkload } from './multi-leader/index.js';

export interface MultiLeaderCliSummary {
  seeds: number;
  failingSeeds: number[];
  acknowledgedWrites: number;
  refusals: Record<string, number>;
  samePeerReads: number;
  sessionReads: number;
  sessionReadsTimedOut: number;
  crashes: number;
  partitions: number;
  lostUnsyncedTransactions: number;
  /** The slowest convergence after the clients stopped, in simulated milliseconds (over the seeds that converged). */
  convergenceMsMax: number;
  convergenceMsMean: number;
}

export function runMultiLeaderCli(argv: readonly string[], print: (line: string) => void = console.log): MultiLeaderCliSummary {
  const { seeds, startSeed, verbose } = parseSeedRange(argv);
  const summary: MultiLeaderCliSummary = {
    seeds: 0, failingSeeds: [], acknowledgedWrites: 0, refusals: {}, samePeerReads: 0, sessionReads: 0, sessionReadsTimedOut: 0,
    crashes: 0, partitions: 0, lostUnsyncedTransactions: 0, convergenceMsMax: 0, convergenceMsMean: 0,
  };
  let convergenceMsTotal = 0;
  let converged = 0;
  const wallStart = performance.now();
  let lastProgress = wallStart;
  print(`multi-leader simulation: seeds ${startSeed}..${startSeed + seeds - 1}`);
  for (let seed = startSeed; seed < startSeed + seeds; seed++) {
    const report = runMultiLeaderWorkload(seed);
    summary.seeds++;
    summary.acknowledgedWrites += report.acknowledgedPuts + report.acknowledgedAppends;
    for (const [code, count] of Object.entries(report.refusals)) summary.refusals[code] = (summary.refusals[code] ?? 0) + count;
    summary.samePeerReads += report.samePeerReads;
    summary.sessionReads += report.sessionReads;
    summary.sessionReadsTimedOut += report.sessionReadsTimedOut;
    summary.crashes += report.crashes;
    summary.partitions += report.partitions;
    summary.lostUnsyncedTransactions += report.lostUnsyncedTransactions;
    if (Number.isFinite(report.convergenceMs)) {
      converged++;
      convergenceMsTotal += report.convergenceMs;
      summary.convergenceMsMax = Math.max(summary.convergenceMsMax, report.convergenceMs);
    }
    if (report.failures.length > 0) {
      summary.failingSeeds.push(seed);
      print(`FAILED seed ${seed} (replay: --start-seed ${seed} --seeds 1):`);
      for (const failure of report.failures) print(`  ${failure}`);
    } else if (verbose === true) {
      print(`seed ${seed}: ${report.settings.peers} peers, ${report.writes} writes (${report.acknowledgedPuts} puts and ${report.acknowledgedAppends} appends acknowledged), ${report.crashes} crashes, ${report.partitions} partitions, converged in ${report.convergenceMs} ms, trace ${report.traceHash}`);
    }
    const now = performance.now();
    if (now - lastProgress > 5_000) {
      lastProgress = now;
      print(`[${((now - wallStart) / 1000).toFixed(0)} s] ${summary.seeds}/${seeds} seeds, ${summary.failingSeeds.length} failing`);
    }
  }
  summary.convergenceMsMean = converged === 0 ? 0 : Math.round(convergenceMsTotal / converged);
  const seconds = ((performance.now() - wallStart) / 1000).toFixed(1);
  const refusals = Object.entries(summary.refusals).map(([code, count]) => `${code} ${count}`).join(', ') || 'none';
  print(`done: ${summary.seeds} seeds in ${seconds} s; ${summary.failingSeeds.length} failing${summary.failingSeeds.length > 0 ? ` (${summary.failingSeeds.slice(0, 20).join(', ')})` : ''}`);
  print(`acknowledged writes: ${summary.acknowledgedWrites}, all found on every peer unless reported above; refused writes: ${refusals}`);
  print(`reads checked for read-your-writes: ${summary.samePeerReads} at the writer's peer, ${summary.sessionReads - summary.sessionReadsTimedOut} with a session token (${summary.sessionReadsTimedOut} timed out waiting for it)`);
  print(`faults: ${summary.crashes} crashes (${summary.lostUnsyncedTransactions} unsynced transactions lost), ${summary.partitions} partitions`);
  print(`convergence after the clients stopped: mean ${summary.convergenceMsMean} ms, slowest ${summary.convergenceMsMax} ms (simulated)`);
  return summary;
}

// Run when executed directly (node dist/sim/cli-multileader.js), not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const summary = runMultiLeaderCli(process.argv.slice(2));
    process.exitCode = summary.failingSeeds.length === 0 ? 0 : 1;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 2;
  }
}
