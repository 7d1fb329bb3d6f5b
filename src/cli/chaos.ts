/**
 * `nines chaos`: kill and restart peers at random under a steady workload, and write a report
 * (report.json and a self-contained report.html) of what clients saw, how fast the storage
 * leader failed over, whether an acknowledged write was lost, and the measured MTBF, MTTR,
 * availability and nines next to the configured ones. Exits 1 when a target is missed.
 *
 *   nines chaos [--peers 5] [--duration 10m] [--mtbf 30s] [--repair 10s] [--seed N] [--replication single-leader]
 *               [--acks quorum] [--kills-max N] [--out dir] [--target http://127.0.0.1:port ...] [--api-key k]
 *
 * Without --target it starts a swarm of its own in a temporary directory (removed at the end;
 * the peers' logs are kept in <out>/logs). With --target it drives an existing swarm on this
 * machine, and kills only through that swarm's own local control (nines start provides one).
 */
import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { chaosSettings, ChaosError, formatDuration, runChaos, type ChaosFlags, type ChaosReport } from '../chaos/index.js';
import { collect } from './options.js';

export function registerChaos(program: Command): void {
  program
    .command('chaos')
    .description('kill and restart peers at random under a chat and key-value workload; report availability, failover MTTR and lost writes (exit 1 when a target is missed)')
    .option('--peers <n>', 'peers of the swarm the run starts', '5')
    .option('--duration <time>', 'how long the workload runs (500ms, 30s, 10m, 2h)', '10m')
    .option('--mtbf <time>', 'mean time between kills, over the whole swarm (exponentially distributed)', '30s')
    .option('--repair <time>', 'how long a killed peer stays down before it is restarted', '10s')
    .option('--seed <n>', 'the seed of the kill plan and the workload (default: drawn, and printed)')
    .option('--replication <mode>', 'single-leader, multi-leader or leaderless (for the swarm the run starts)', 'single-leader')
    .option('--acks <level>', 'durability of the workload\'s writes: leader, quorum or all', 'quorum')
    .option('--kills-max <n>', 'kill at most this many times')
    .option('--front-gateways <n>', 'gateway-only peers in front of the run\'s swarm: the chat clients talk to them, the kills hit the peers behind them (0: clients talk to the peers\' own gateways, and a killed gateway fails its requests in flight)', '1')
    .option('--leader-kills <n>', 'aim the first n kills at the storage leader of the moment (to measure its failover), the rest at random peers', '0')
    .option('--out <dir>', 'where report.json, report.html and the peers\' logs go (default ./chaos-report-<time>)')
    .option('--target <url>', 'drive an existing swarm at this loopback API address instead (repeatable: each is a gateway)', collect)
    .option('--api-key <key>', 'with --target: the swarm\'s API key (default: $NINES_API_KEY)')
    .option('--model <file.gguf>', 'the model the run\'s own swarm serves (default: the built-in model)')
    .option('--threads <n>', 'kernel threads per peer', '1')
    .option('--partitions', 'network partitions (not built: needs root; the error says what it would take)')
    .action((flags: ChaosFlags, command: Command) => chaos(flags, command));
}

async function chaos(flags: ChaosFlags, command: Command): Promise<void> {
  let settings;
  try {
    settings = chaosSettings({ ...flags, apiKey: flags.apiKey ?? process.env.NINES_API_KEY }, () => randomInt(0, 2 ** 31), new Date().toISOString());
  } catch (error) {
    if (error instanceof ChaosError) command.error(`error: ${error.message}`, { exitCode: 1, code: `nines.${error.code}` });
    throw error;
  }
  const log = (line: string) => void process.stdout.write(`nines chaos: ${line}\n`);
  log(`seed ${settings.seed}${settings.seedGiven ? '' : ' (drawn; pass --seed to replay)'}, ${formatDuration(settings.durationMs)}, MTBF ${formatDuration(settings.mtbfMs)}, repair ${formatDuration(settings.repairMs)}`);
  const interrupt = new AbortController();
  const onSignal = () => {
    if (!interrupt.signal.aborted) log('interrupted: finishing the run early, reading back and writing the report (the peers stop at the end)');
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { report, written } = await runChaos({ ...settings, outDir: resolve(settings.outDir), log, signal: interrupt.signal, ...(settings.apiKey !== undefined && { apiKey: settings.apiKey }), ...(settings.model !== undefined && { model: settings.model }) });
    process.stdout.write(summary(report, written.json, written.html));
    if (!report.passed) process.exitCode = 1;
  } catch (error) {
    if (error instanceof ChaosError) {
      process.stderr.write(`nines chaos: ${error.message} (seed ${settings.seed})\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The lines printed at the end: each target, the figures, where the report is, and the seed when a target was missed. */
export function summary(report: ChaosReport, jsonPath: string, htmlPath: string): string {
  const percent = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(3)} %`);
  const { measured } = report;
  const lines = [
    `kills ${measured.kills} (planned ${report.plan.kills}), leader failovers ${report.failovers.length}, chat requests ${report.requests.chat.ok + report.requests.chat.failed} (+${report.requests.chat.refused} refused connections)`,
    `measured: peer MTTR ${measured.peerMttrMs === null ? '—' : formatDuration(measured.peerMttrMs)}, peer availability ${percent(measured.peerAvailability)}, cluster availability ${percent(measured.clusterAvailability)}, chat availability ${percent(measured.chatAvailability)}`,
    ...report.targets.map((target) => `${target.outcome === 'met' ? 'met    ' : target.outcome === 'missed' ? 'MISSED ' : 'n/a    '} ${target.name}: ${target.measured} (required ${target.required})`),
    `report: ${htmlPath}`,
    `        ${jsonPath}`,
    report.passed ? 'every measured target was met' : `a target was missed; replay with --seed ${report.seed}`,
  ];
  return `${lines.join('\n')}\n`;
}
