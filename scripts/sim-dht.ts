/**
 * Thin entry for the DHT simulation (`npm run sim:dht`). The workload lives in
 * src/sim/workloads/dht.ts and its command line in src/sim/cli-dht.ts, which `npm run build`
 * compiles to dist/sim/cli-dht.js; Node 20 cannot run TypeScript directly, so the npm script
 * runs that compiled file. This file is the same entry for TypeScript runners (tsx, Node 22+):
 *
 *   npm run build && node dist/sim/cli-dht.js [--seed N] [--peers 10000] ...
 */
import { runDhtCli } from '../src/sim/cli-dht.js';

try {
  const report = runDhtCli(process.argv.slice(2));
  process.exitCode = report.passed ? 0 : 1;
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
}
