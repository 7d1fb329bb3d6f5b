/**
 * One peer's metrics: a prom-client registry of its own (never the process-wide default
 * one, so that several peers in one process, and tests, do not collide), with the Node.js
 * process metrics, the gauges and counters read from the sources the peer hands in, and
 * the metrics fed by events (HTTP requests, completions, DHT operations).
 */
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { registerAvailabilityMetrics, registerBreakerMetrics, registerDhtMetrics } from './cluster-metrics.js';
import { eventLoopPrecisionMs, metricPrefix } from './constants.js';
import { ObservedMetrics, type CompletionObservation, type DhtOperationObservation, type HttpObservation } from './observed-metrics.js';
import { registerComputeMetrics, registerProtectionMetrics } from './service-metrics.js';
import { SourceReader, type MetricsSourceName, type MetricsSources } from './sources.js';
import { registerRaftMetrics, registerReplicaMetrics } from './storage-metrics.js';

export interface MetricsOptions {
  /**
   * Whether to add prom-client's process and Node.js metrics (CPU, memory, event loop lag,
   * garbage collection), default true. They describe the whole process, and prom-client
   * cannot stop their event loop and GC observers once started, so a process that hosts
   * several peers (tests, the simulator) may want them on one peer only.
   */
  processMetrics?: boolean;
  /** Told about every failed source read (the scrape goes on without that source's series), e.g. to log it. */
  onSourceError?: (source: MetricsSourceName, error: unknown) => void;
}

export class Metrics {
  readonly registry: Registry;
  private readonly observed: ObservedMetrics;

  constructor(sources: MetricsSources, options: MetricsOptions = {}) {
    this.registry = new Registry();
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: metricPrefix, eventLoopMonitoringPrecision: eventLoopPrecisionMs });
    this.observed = new ObservedMetrics(this.registry);
    const sourceErrors = new Counter({
      name: `${metricPrefix}metrics_source_errors_total`,
      help: 'Scrapes in which a source of metrics failed: it threw (its gauges were left out of the scrape), or gave a value of the wrong shape (the gauges that met it were left out).',
      labelNames: ['source'],
      registers: [this.registry],
    });
    const onError = (source: MetricsSourceName, error: unknown) => {
      sourceErrors.inc({ source });
      options.onSourceError?.(source, error);
    };
    // Every source given starts its error count at 0, so that the series exists before the first failure.
    for (const [name, read] of Object.entries(sources)) if (read !== undefined) sourceErrors.inc({ source: name }, 0);
    const reader = <T>(name: MetricsSourceName, read: () => T | undefined) => new SourceReader<T>(name, read, onError);
    if (sources.raft !== undefined) registerRaftMetrics(this.registry, reader('raft', sources.raft));
    if (sources.replica !== undefined) registerReplicaMetrics(this.registry, reader('replica', sources.replica));
    if (sources.dht !== undefined) registerDhtMetrics(this.registry, reader('dht', sources.dht));
    if (sources.protection !== undefined) registerProtectionMetrics(this.registry, reader('protection', sources.protection));
    if (sources.breakers !== undefined) registerBreakerMetrics(this.registry, reader('breakers', sources.breakers));
    if (sources.compute !== undefined) registerComputeMetrics(this.registry, reader('compute', sources.compute));
    if (sources.availability !== undefined) registerAvailabilityMetrics(this.registry, reader('availability', sources.availability));
  }

  /** The content type of `scrape()`'s text: Prometheus' text exposition format 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the text exposition format, read from the sources now. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** One finished HTTP request; `mountMetrics` calls it for every response of the app it is mounted on. */
  observeHttpRequest(request: HttpObservation): void {
    this.observed.observeHttpRequest(request);
  }

  /** One completion request as the OpenAI routes ended it: served, refused or failed. */
  observeCompletion(completion: CompletionObservation): void {
    this.observed.observeCompletion(completion);
  }

  /** One finished DHT operation (a Kademlia `OperationResult` fits): counts it and, if it succeeded, its lookup's hops. */
  observeDhtOperation(operation: DhtOperationObservation): void {
    this.observed.observeDhtOperation(operation);
  }
}

/** A peer's metrics, reading the given sources at every scrape. */
export function createMetrics(sources: MetricsSources, options: MetricsOptions = {}): Metrics {
  return new Metrics(sources, options);
}
