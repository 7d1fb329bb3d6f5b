/**
 * Metrics that read a source while Prometheus scrapes (sources.ts): gauges that show the
 * snapshot as it is, and counters that follow a source's own running totals.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { metricPrefix } from './constants.js';
import { MetricsInputError } from './errors.js';
import type { SourceReader } from './sources.js';

export type Labels = Record<string, string>;

/** Adds `value` to the series with these labels; values of entries that share labels are summed. */
export type AddValue = (value: number, labels?: Labels) => void;

export interface MetricDefinition {
  /** The name without the `nines_` prefix. */
  name: string;
  help: string;
  labelNames?: readonly string[];
}

function checkedValue(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new MetricsInputError(`${metricPrefix}${name}: the source gave ${String(value)}, not a finite number`);
  }
  return value;
}

/**
 * A gauge that shows the source's snapshot: every scrape starts it empty and `fill` adds
 * the series of this snapshot, so a peer or a state that is gone leaves no stale series.
 * When the source has nothing or fails, the gauge has no series in that scrape.
 */
export function snapshotGauge<T>(registry: Registry, reader: SourceReader<T>, definition: MetricDefinition, fill: (snapshot: T, add: AddValue) => void): Gauge {
  const labelNames = [...(definition.labelNames ?? [])];
  const gauge: Gauge = new Gauge({
    name: metricPrefix + definition.name,
    help: definition.help,
    labelNames,
    registers: [registry],
    collect() {
      clear(gauge, labelNames.length);
      const snapshot = reader.snapshot();
      if (snapshot === undefined) return;
      try {
        fill(snapshot, (value, labels = {}) => gauge.inc(labels, checkedValue(definition.name, value)));
      } catch (error) {
        clear(gauge, labelNames.length);
        reader.fail(error);
      }
    },
  });
  clear(gauge, labelNames.length);
  return gauge;
}

/** Empties a gauge; prom-client's reset() leaves an unlabelled gauge at 0 rather than empty. */
function clear(gauge: Gauge, labelCount: number): void {
  gauge.reset();
  if (labelCount === 0) gauge.remove({});
}

/**
 * A counter that follows running totals the source keeps itself (`ComputeEngine.counters`,
 * the Kademlia stats): each scrape adds what each total grew by since the last one. A total
 * that went down means the source started over (a role restarted in the same process), so
 * all of it is new. Counters rather than gauges so that Prometheus' `rate()` and
 * `increase()` apply, and the series keep going up across such restarts. When the source
 * has nothing or fails, the counter keeps its value and catches up at the next good scrape.
 */
export function snapshotCounter<T>(registry: Registry, reader: SourceReader<T>, definition: MetricDefinition, fill: (snapshot: T, add: AddValue) => void): Counter {
  const labelNames = [...(definition.labelNames ?? [])];
  const lastTotals = new Map<string, number>();
  const counter: Counter = new Counter({
    name: metricPrefix + definition.name,
    help: definition.help,
    labelNames,
    registers: [registry],
    collect() {
      const snapshot = reader.snapshot();
      if (snapshot === undefined) return;
      const totals = new Map<string, { labels: Labels; total: number }>();
      try {
        fill(snapshot, (value, labels = {}) => {
          const key = labelKey(labels);
          const entry = totals.get(key) ?? { labels, total: 0 };
          entry.total += checkedValue(definition.name, value);
          totals.set(key, entry);
        });
      } catch (error) {
        reader.fail(error);
        return;
      }
      for (const [key, { labels, total }] of totals) {
        const last = lastTotals.get(key) ?? 0;
        const grown = total >= last ? total - last : total;
        counter.inc(labels, Math.max(0, grown));
        lastTotals.set(key, total);
      }
    },
  });
  return counter;
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
