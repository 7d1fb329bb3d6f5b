/**
 * Prometheus metrics for every peer (issue 8): `createMetrics(sources)` builds one peer's
 * registry, reading each part's status while Prometheus scrapes, and `mountMetrics(app,
 * metrics)` serves it at `GET /metrics` and counts the app's HTTP requests by route pattern.
 * The OpenAI routes report completions with `metrics.observeCompletion`, the DHT its
 * operations with `metrics.observeDhtOperation`.
 */
export { Metrics, createMetrics, type MetricsOptions } from './metrics.js';
export { mountMetrics } from './mount.js';
export {
  protectionSource,
  peerHealthStates,
  type AvailabilitySnapshot,
  type DhtSnapshot,
  type MetricsSourceName,
  type MetricsSources,
  type PeerHealth,
  type ProtectionSnapshot,
  type ReplicaStatus,
} from './sources.js';
export {
  httpOutcomeOf,
  type CompletionObservation,
  type CompletionOutcome,
  type DhtOperationObservation,
  type HttpObservation,
  type HttpOutcome,
  type RateLimitedBy,
} from './observed-metrics.js';
export { MetricsInputError } from './errors.js';
export {
  metricPrefix,
  metricsPath,
  metricPeersMax,
  metricModelsMax,
  metricRoutesMax,
  labelCharactersMax,
  otherLabel,
  unmatchedRoute,
} from './constants.js';
