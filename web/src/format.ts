/**
 * How numbers read on the dashboard: availabilities as percentages with as many digits as
 * their nines need, durations in the unit that suits them, node IDs shortened.
 */

/** 0.99953 -> "99.953%": as many decimals as the fraction has nines, so the first digit that is not a nine shows. */
export function percent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '–';
  if (fraction >= 1) return '100%';
  const ninesCount = Math.floor(-Math.log10(1 - fraction));
  const decimals = Math.max(1, Math.min(decimalsMax, ninesCount));
  return `${(fraction * 100).toFixed(decimals)}%`;
}

const decimalsMax = 6;

/** The number of nines, with one decimal ("3.2 nines"). */
export function nines(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toFixed(1);
}

/** 850 -> "850 ms", 12_300 -> "12.3 s", 5_400_000 -> "1.5 h". */
export function duration(milliseconds: number | null | undefined): string {
  if (milliseconds === null || milliseconds === undefined || !Number.isFinite(milliseconds)) return '–';
  const sign = milliseconds < 0 ? '-' : '';
  const ms = Math.abs(milliseconds);
  if (ms < 1_000) return `${sign}${Math.round(ms)} ms`;
  if (ms < 60_000) return `${sign}${(ms / 1_000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${sign}${(ms / 60_000).toFixed(1)} min`;
  if (ms < 86_400_000) return `${sign}${(ms / 3_600_000).toFixed(1)} h`;
  return `${sign}${(ms / 86_400_000).toFixed(1)} d`;
}

/** A probability as a percentage with one decimal: 0.8641 -> "86.4%". */
export function probability(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return `${(value * 100).toFixed(1)}%`;
}

/** The first characters of a 40-hex-digit node ID, enough to tell a swarm's peers apart. */
export function shortId(nodeId: string): string {
  return nodeId.slice(0, 8);
}

/** A token as the model sees it: spaces and line breaks made visible. */
export function visibleToken(text: string): string {
  return JSON.stringify(text);
}
