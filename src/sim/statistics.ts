/** Summaries of a list of numbers for reports: percentiles by the nearest-rank method, and histograms. */

export interface Distribution {
  count: number;
  mean: number;
  min: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
}

/** The nearest-rank percentile `fraction` (0.5 = median) of values sorted ascending. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)));
  return sorted[rank - 1];
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    min: sorted.length === 0 ? Number.NaN : sorted[0],
    median: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1],
  };
}

/** How many times each integer value occurs, as { value: count } in ascending order. */
export function histogram(values: readonly number[]): Record<string, number> {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  const result: Record<string, number> = {};
  for (const value of [...counts.keys()].sort((a, b) => a - b)) result[String(value)] = counts.get(value)!;
  return result;
}

export function formatDistribution(name: string, value: Distribution, unit = ''): string {
  const show = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1)) + unit;
  return `${name}: median ${show(value.median)}, p90 ${show(value.p90)}, p99 ${show(value.p99)}, max ${show(value.max)} (mean ${show(value.mean)}, n=${value.count})`;
}
