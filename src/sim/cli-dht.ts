/**
 * `node dist/sim/cli-dht.js` (what `npm run sim:dht` runs): the DHT workload at full size,
 * or at the size given by flags. Prints the seed first, then progress and the distributions,
 * and writes the report as JSON (bench/results/dht.json by default). Exits with status 1
 * when a threshold of the P2P issue is missed, so CI can run it.
 *
 *   node dist/sim/cli-dht.js [--seed N] [--peers 10000] [--bootstrap 3] [--lookups 10000]
 *     [--churn-minutes 60] [--churn-percent 1] [--loss 0] [--out bench/results/dht.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { fullSizeDhtOptions, runDhtWorkload, type DhtReport } from './workloads/dht.js';

export function runDhtCli(argv: readonly string[]): DhtReport {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seed: { type: 'string' },
      peers: { type: 'string' },
      bootstrap: { type: 'string' },
      lookups: { type: 'string' },
      'churn-minutes': { type: 'string' },
      'churn-percent': { type: 'string' },
      loss: { type: 'string' },
      out: { type: 'string', default: 'bench/results/dht.json' },
    },
    strict: true,
  });
  const number = (name: string, text: string | undefined, fallback: number, integer = true): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0 || (integer && !Number.isSafeInteger(value))) {
      throw new RangeError(`--${name} must be a non-negative ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
  // Without --seed a fresh one is drawn; it is printed first, so any run can be replayed.
  const seed = number('seed', values.seed, Math.floor(Math.random() * 2 ** 32));
  const wallStart = performance.now();
  const log = (line: string) => console.log(`[${((performance.now() - wallStart) / 1000).toFixed(1)} s] ${line}`);
  const lossPercent = number('loss', values.loss, 0, false);
  const report = runDhtWorkload({
    ...fullSizeDhtOptions,
    seed,
    peers: number('peers', values.peers, fullSizeDhtOptions.peers),
    bootstrapPeers: number('bootstrap', values.bootstrap, fullSizeDhtOptions.bootstrapPeers),
    lookups: number('lookups', values.lookups, fullSizeDhtOptions.lookups),
    churnDurationMs: number('churn-minutes', values['churn-minutes'], fullSizeDhtOptions.churnDurationMs / 60_000, false) * 60_000,
    churnFractionPerMinute: number('churn-percent', values['churn-percent'], fullSizeDhtOptions.churnFractionPerMinute * 100, false) / 100,
    network: { lossRate: lossPercent / 100 },
    log,
  });
  const wallSeconds = Math.round((performance.now() - wallStart) / 100) / 10;
  log(`seed ${seed}: ${report.passed ? 'all thresholds met' : 'THRESHOLDS MISSED'}; ${report.simulation.events} events, ${report.simulation.messagesSent} messages, ${(report.simulation.simulatedMs / 60_000).toFixed(1)} simulated minutes in ${wallSeconds} s; trace ${report.simulation.traceHash}`);
  const out = values.out!;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ ...report, wallSeconds }, null, 2) + '\n');
  log(`wrote ${out}`);
  return report;
}

// Run when executed directly (node dist/sim/cli-dht.js), not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const report = runDhtCli(process.argv.slice(2));
    process.exitCode = report.passed ? 0 : 1;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 2;
  }
}
