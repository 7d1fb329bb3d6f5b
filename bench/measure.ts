/**
 * What every benchmark shares: timing, medians, the machine it ran on, and writing the
 * results to bench/results/. Absolute times on a shared machine mean little, so each
 * benchmark runs nines and its peer side by side on the same input and reports the ratio.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const resultsDirectory = fileURLToPath(new URL('./results/', import.meta.url));

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Seconds taken by `work` (awaited), by the monotonic clock. */
export async function secondsOf(work: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export interface MachineDescription {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  date: string;
  /** The 1-, 5- and 15-minute load averages when the benchmark started: above the core count, other work competed for the CPU. */
  loadAverageAtStart: number[];
}

export function describeMachine(): MachineDescription {
  const processors = cpus();
  return {
    cpu: processors[0]?.model ?? 'unknown',
    cores: processors.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
    loadAverageAtStart: loadavg().map((value) => Number(value.toFixed(2))),
  };
}

/** The load averages now, for the end of a benchmark. */
export function loadAverageNow(): number[] {
  return loadavg().map((value) => Number(value.toFixed(2)));
}

/**
 * A warning for results taken while other work held the CPU (a 1-minute load average
 * above the core count at the start or the end), or undefined. Under contention the
 * figures mean little, the multi-threaded ones least: a thread that waits for a core
 * stalls every thread that waits for it.
 */
export function contentionWarning(machine: MachineDescription, loadAverageAtEnd: readonly number[]): string | undefined {
  const worst = Math.max(machine.loadAverageAtStart[0], loadAverageAtEnd[0]);
  if (worst <= machine.cores) return undefined;
  return `measured under contention: the 1-minute load average reached ${worst} on ${machine.cores} cores; rerun on a quiet machine before drawing conclusions, above all from the multi-threaded rows`;
}

export function writeResults(path: string, results: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}

/** A plain-text table: one header row, then rows, columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** The value of `--name <value>` on the command line, or undefined. */
export function argumentValue(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return undefined;
  const value = process.argv[index + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
  return value;
}

/** A positive integer from `--name <n>`, or the default. */
export function integerArgument(name: string, fallback: number): number {
  const text = argumentValue(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}
