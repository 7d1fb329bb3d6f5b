/**
 * Metrics fed by events as they happen rather than read from a source: HTTP requests,
 * completions (from the OpenAI routes) and DHT operations. Every label value here is
 * bounded: routes are patterns, methods and statuses are folded into small fixed sets, and
 * model names past `metricModelsMax` become `other`.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { OperationKind } from '../../p2p/kademlia/index.js';
import type { RateLimitKind } from '../../resilience/index.js';
import { isOpenAiErrorCode, type OpenAiErrorCode } from '../openai/errors.js';
import { completionDurationBucketsSeconds, httpDurationBucketsSeconds, lookupHopsBuckets, metricModelsMax, metricPrefix, metricRoutesMax, unmatchedRoute } from './constants.js';
import { MetricsInputError } from './errors.js';
import { StickyLabelValues } from './labels.js';

/** How an HTTP request ended, from its status. */
export type HttpOutcome = 'success' | 'client_error' | 'rate_limited' | 'cancelled' | 'unavailable' | 'server_error';

export interface HttpObservation {
  /** The route PATTERN that matched (`/v1/kv/:key`, `/v1/*`), never the raw URL; undefined when no route matched. */
  route: string | undefined;
  method: string;
  status: number;
  durationSeconds: number;
}

/** A completion's outcome: success, or the OpenAI error code it was refused or failed with. */
export type CompletionOutcome = 'success' | OpenAiErrorCode;

/** Which limit refused a rate-limited request: the key's requests or tokens per minute, or its concurrent streams. */
export type RateLimitedBy = RateLimitKind | 'streams';

export interface CompletionObservation {
  /**
   * The model the request named, only once it is known to be one this peer serves;
   * undefined (labelled "unknown") for a request refused before that, so that client input
   * never becomes a label.
   */
  model: string | undefined;
  outcome: CompletionOutcome;
  promptTokens: number;
  completionTokens: number;
  /** From the request's arrival to its last token (or its refusal), in milliseconds. */
  durationMs: number;
  /** For outcome rate_limit_exceeded: the limit that refused it, when the caller knows. */
  rateLimit?: RateLimitedBy;
}

/** What a finished DHT operation tells (a Kademlia `OperationResult` fits). */
export interface DhtOperationObservation {
  kind: OperationKind;
  ok: boolean;
  hops: number;
}

const rateLimitKinds: ReadonlySet<string> = new Set<RateLimitedBy>(['requests', 'tokens', 'streams']);
const httpMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** The outcome a status stands for; 499 is nginx's "client closed the request", which the OpenAI routes use too. */
export function httpOutcomeOf(status: number): HttpOutcome {
  if (status < 400) return 'success';
  if (status === 429) return 'rate_limited';
  if (status === 499) return 'cancelled';
  if (status === 503) return 'unavailable';
  return status < 500 ? 'client_error' : 'server_error';
}

function statusClassOf(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new MetricsInputError(`${name} must be a non-negative integer, got ${String(value)}`);
}

function checkDuration(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new MetricsInputError(`${name} must be a non-negative finite number, got ${String(value)}`);
}

export class ObservedMetrics {
  private readonly routes = new StickyLabelValues(metricRoutesMax);
  private readonly models = new StickyLabelValues(metricModelsMax);
  private readonly httpRequests: Counter;
  private readonly httpDuration: Histogram;
  private readonly completions: Counter;
  private readonly completionDuration: Histogram;
  private readonly promptTokens: Counter;
  private readonly completionTokens: Counter;
  private readonly rateLimited: Counter;
  private readonly dhtOperations: Counter;
  private readonly lookupHops: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.httpRequests = new Counter({ name: `${metricPrefix}http_requests_total`, help: 'HTTP requests answered, by route pattern, method, status class and outcome.', labelNames: ['route', 'method', 'status_class', 'outcome'], registers });
    this.httpDuration = new Histogram({ name: `${metricPrefix}http_request_duration_seconds`, help: 'Time from an HTTP request\'s arrival to the end of its response (a stream\'s last byte), by route pattern and method.', labelNames: ['route', 'method'], buckets: [...httpDurationBucketsSeconds], registers });
    this.completions = new Counter({ name: `${metricPrefix}completions_total`, help: 'Completions asked of this gateway, by model and outcome (success or the OpenAI error code).', labelNames: ['model', 'outcome'], registers });
    this.completionDuration = new Histogram({ name: `${metricPrefix}completion_duration_seconds`, help: 'Time from a completion request\'s arrival to its last token or its refusal, by model and result.', labelNames: ['model', 'result'], buckets: [...completionDurationBucketsSeconds], registers });
    this.promptTokens = new Counter({ name: `${metricPrefix}prompt_tokens_total`, help: 'Prompt tokens of the completions this gateway served, by model.', labelNames: ['model'], registers });
    this.completionTokens = new Counter({ name: `${metricPrefix}completion_tokens_total`, help: 'Completion tokens this gateway returned to clients, by model.', labelNames: ['model'], registers });
    this.rateLimited = new Counter({ name: `${metricPrefix}rate_limited_total`, help: 'Completions refused by a rate limit (429), by the limit: requests or tokens per minute, concurrent streams, or unknown.', labelNames: ['limit'], registers });
    this.dhtOperations = new Counter({ name: `${metricPrefix}dht_operations_total`, help: 'DHT operations finished, by kind and result.', labelNames: ['kind', 'result'], registers });
    this.lookupHops = new Histogram({ name: `${metricPrefix}dht_lookup_hops`, help: 'Hops a successful DHT lookup needed to reach the closest peer that answered (1 is a peer from this peer\'s own table), by kind.', labelNames: ['kind'], buckets: [...lookupHopsBuckets], registers });
  }

  observeHttpRequest(request: HttpObservation): void {
    checkDuration('durationSeconds', request.durationSeconds);
    const route = request.route === undefined ? unmatchedRoute : this.routes.label(request.route);
    const upper = request.method.toUpperCase();
    const method = httpMethods.has(upper) ? upper : 'other';
    this.httpRequests.inc({ route, method, status_class: statusClassOf(request.status), outcome: httpOutcomeOf(request.status) });
    this.httpDuration.observe({ route, method }, request.durationSeconds);
  }

  observeCompletion(completion: CompletionObservation): void {
    checkCount('promptTokens', completion.promptTokens);
    checkCount('completionTokens', completion.completionTokens);
    checkDuration('durationMs', completion.durationMs);
    if (completion.outcome !== 'success' && !isOpenAiErrorCode(completion.outcome)) {
      throw new MetricsInputError(`outcome must be 'success' or an OpenAI error code (src/api/openai/errors.ts), got ${JSON.stringify(completion.outcome)}`);
    }
    if (completion.rateLimit !== undefined && !rateLimitKinds.has(completion.rateLimit)) {
      throw new MetricsInputError(`rateLimit must be requests, tokens or streams, got ${JSON.stringify(completion.rateLimit)}`);
    }
    const model = completion.model === undefined || completion.outcome === 'model_not_found' ? 'unknown' : this.models.label(completion.model);
    this.completions.inc({ model, outcome: completion.outcome });
    this.completionDuration.observe({ model, result: completion.outcome === 'success' ? 'success' : 'error' }, completion.durationMs / 1000);
    this.promptTokens.inc({ model }, completion.promptTokens);
    this.completionTokens.inc({ model }, completion.completionTokens);
    if (completion.outcome === 'rate_limit_exceeded') this.rateLimited.inc({ limit: completion.rateLimit ?? 'unknown' });
  }

  observeDhtOperation(operation: DhtOperationObservation): void {
    checkCount('hops', operation.hops);
    this.dhtOperations.inc({ kind: operation.kind, result: operation.ok ? 'ok' : 'failed' });
    if (operation.ok) this.lookupHops.observe({ kind: operation.kind }, operation.hops);
  }
}
