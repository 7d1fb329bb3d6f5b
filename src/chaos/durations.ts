/**
 * Durations as people type them: 500ms, 30s, 10m, 2h, or a bare number of seconds.
 */
import { ChaosConfigError } from './errors.js';

const unitMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Milliseconds in `text`; throws a ChaosConfigError naming `flag` when it is not a duration in [minMs, maxMs]. */
export function parseDurationMs(text: string, flag: string, minMs: number, maxMs: number): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) throw new ChaosConfigError(`${flag} must be a duration such as 500ms, 30s, 10m or 2h, got '${text}'`);
  const milliseconds = Math.round(Number(match[1]) * unitMs[match[2] ?? 's']);
  if (milliseconds < minMs || milliseconds > maxMs) {
    throw new ChaosConfigError(`${flag} must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)}, got ${text}`);
  }
  return milliseconds;
}

/** A duration for people: 850 ms, 12.5 s, 10 min. */
export function formatDuration(milliseconds: number): string {
  if (milliseconds < 1_000) return `${Math.round(milliseconds)} ms`;
  if (milliseconds < 120_000) return `${Number((milliseconds / 1_000).toFixed(milliseconds < 10_000 ? 2 : 1))} s`;
  if (milliseconds < 7_200_000) return `${Number((milliseconds / 60_000).toFixed(1))} min`;
  return `${Number((milliseconds / 3_600_000).toFixed(1))} h`;
}
