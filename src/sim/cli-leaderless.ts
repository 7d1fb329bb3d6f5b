/**
 * `node dist/sim/cli-leaderless.js` (what `npm run sim:leaderless` runs): the leaderless
 * workload over many seeds. Prints progress, every failing seed (re-run it with
 * --start-seed N --seeds 1 to replay it exactly), and a summary: acknowledged writes lost,
 * convergence times after healing, read-your-writes checked where promised and counted where
 * not. Exits with status 1 when any seed broke a promise.
 *
 *   node dist/sim/cli-leaderless.js [--seeds 1000] [--start-seed 1] [--verbose]
 */
import { pathToFileURL } from 'node:url';
import { parseSeedRange } from './cli-arguments.js';
import { runLeaderlessWorkload } from './leaderless/workload.js';

export interface LeaderlessCliSummary {
  seeds: number;
  failingSeeds: number[];
  acknowledgedPuts: number;
  lostAcknowledgedWrites: number;
  convergenceMsMax: number;
  convergenceMsTotal: number;
  readYourWritesChecked: number;
  readYourWritesViolations: number;
  /** Violations in runs where read-your-writes is not promised (sloppy quorum, or r + w <= n): measured, not failures. */
  unpromisedReadYourWritesChecked: number;
  unpromisedReadYourWritesViolations: number;
  crashes: number;
  partitions: number;
  lostTransactions: number;
  membershipChanges: number;
}

export function runLeaderlessCli(argv: readonly string[], print: (line: string) => void = console.log): LeaderlessCliSummary {
  const { seeds, startSeed, verbose } = parseSeedRange(argv);
  const summary: LeaderlessCliSummary = {
    seeds: 0, failingSeeds: [], acknowledgedPuts: 0, lostAcknowledgedWrites: 0, convergenceMsMax: 0, convergenceMsTotal: 0, readYourWritesChecked: 0,
    readYourWritesViolations: 0, unpromisedReadYourWritesChecked: 0, unpromisedReadYourWritesViolations: 0, crashes: 0, partitions: 0, lostTransactions: 0,
    membershipChanges: 0,
  };
  const wallStart = performance.now();
  let lastProgress = wallStart;
  print(`leaderless simulation: seeds ${startSeed}..${startSeed + seeds - 1}`);
  for (let seed = startSeed; seed < startSeed + seeds; seed++) {
    const report = runLeaderlessWorkload(seed);
    summary.seeds++;
    summary.acknowledgedPuts += report.acknowledgedPuts;
    summary.lostAcknowledgedWrites += report.lostAcknowledgedWrites;
    summary.convergenceMsMax = Math.max(summary.convergenceMsMax, report.convergenceMs ?? 0);
    summary.convergenceMsTotal += report.convergenceMs ?? 0;
    if (report.readYourWrites.guaranteed) {
      summary.readYourWritesChecked += report.readYourWrites.checked;
      summary.readYourWritesViolations += report.readYourWrites.violations;
    } else {
      summary.unpromisedReadYourWritesChecked += report.readYourWrites.checked;
      summary.unpromisedReadYourWritesViolations += report.readYourWrites.violations;
    }
    summary.crashes += report.crashes;
    summary.partitions += report.partitions;
    summary.lostTransactions += report.lostTransactions;
    if (report.membershipChanged) summary.membershipChanges++;
    const { n, r, w, sloppyQuorum } = report.settings.store;
    if (report.failures.length > 0) {
      summary.failingSeeds.push(seed);
      print(`FAILED seed ${seed} (n=${n} r=${r} w=${w} ${sloppyQuorum ? 'sloppy' : 'strict'} quorum; replay: --start-seed ${seed} --seeds 1):`);
      for (const failure of report.failures) print(`  ${failure}`);
    } else if (verbose === true) {
      print(`seed ${seed}: n=${n} r=${r} w=${w} ${sloppyQuorum ? 'sloppy' : 'strict'}, ${report.puts} puts (${report.acknowledgedPuts} acknowledged), ${report.gets} gets, ${report.crashes} crashes, ${report.partitions} partitions, converged in ${report.convergenceMs} ms, ${report.readRepairs} read repairs, trace ${report.traceHash}`);
    }
    const now = performance.now();
    if (now - lastProgress > 5_000) {
      lastProgress = now;
      print(`[${((now - wallStart) / 1000).toFixed(0)} s] ${summary.seeds}/${seeds} seeds, ${summary.failingSeeds.length} failing, ${summary.lostAcknowledgedWrites} lost acknowledged writes`);
    }
  }
  const seconds = ((performance.now() - wallStart) / 1000).toFixed(1);
  print(`done: ${summary.seeds} seeds in ${seconds} s; ${summary.failingSeeds.length} failing${summary.failingSeeds.length > 0 ? ` (${summary.failingSeeds.slice(0, 20).join(', ')})` : ''}`);
  print(`acknowledged puts: ${summary.acknowledgedPuts}; lost: ${summary.lostAcknowledgedWrites}; unsynced transactions lost in crashes: ${summary.lostTransactions}; crashes ${summary.crashes}, partitions ${summary.partitions}, runs with a peer joining ${summary.membershipChanges}`);
  print(`convergence after healing: mean ${(summary.convergenceMsTotal / Math.max(1, summary.seeds)).toFixed(0)} ms, max ${summary.convergenceMsMax} ms of simulated time`);
  print(`read-your-writes where promised (strict quorum, r + w > n): ${summary.readYourWritesChecked} reads checked, ${summary.readYourWritesViolations} violations`);
  print(`read-your-writes where not promised (sloppy quorum, r + w <= n, or a membership change): ${summary.unpromisedReadYourWritesChecked} reads, ${summary.unpromisedReadYourWritesViolations} missed the reader's own write (expected, measured, not failures)`);
  return summary;
}

// Run when executed directly (node dist/sim/cli-leaderless.js), not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const summary = runLeaderlessCli(process.argv.slice(2));
    process.exitCode = summary.failingSeeds.length === 0 ? 0 : 1;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 2;
  }
}
