/**
 * Errors of the protection layer, each with a stable `code`. Every one of them is an
 * operating error the gateway turns into an HTTP answer (the API layer owns the table
 * from codes to statuses: 429 for RATE_LIMITED, 503 with Retry-After for the rest,
 * 400 for REQUEST_EXCEEDS_RATE_LIMIT). Those a client may retry carry `retryAfterMs`.
 */

export abstract class ResilienceError extends Error {
  abstract readonly code: string;
}

/** Which per-key limit refused a request. */
export type RateLimitKind = 'requests' | 'tokens';

/** An API key used up its requests or tokens for now; the bucket refills by `retryAfterMs`. */
export class RateLimitedError extends ResilienceError {
  override name = 'RateLimitedError';
  readonly code = 'RATE_LIMITED';
  constructor(
    readonly keyName: string,
    readonly limit: RateLimitKind,
    readonly retryAfterMs: number,
  ) {
    super(`API key '${keyName}' is over its ${limit}-per-minute limit; retry after ${Math.ceil(retryAfterMs / 1000)} s or ask for a higher limit`);
  }
}

/**
 * A request that asks for more tokens than its key may use in a whole minute. Waiting
 * would not help, so it is refused as bad input rather than rate limited.
 */
export class RequestExceedsRateLimitError extends ResilienceError {
  override name = 'RequestExceedsRateLimitError';
  readonly code = 'REQUEST_EXCEEDS_RATE_LIMIT';
  constructor(
    readonly keyName: string,
    readonly tokensRequested: number,
    readonly tokensPerMinute: number,
  ) {
    super(`the request may use ${tokensRequested} tokens but API key '${keyName}' is allowed ${tokensPerMinute} tokens per minute; lower max_tokens or shorten the prompt`);
  }
}

/** The admission queue is full: the request is refused at once, before it waits at all. */
export class QueueFullError extends ResilienceError {
  override name = 'QueueFullError';
  readonly code = 'QUEUE_FULL';
  constructor(
    readonly queueDepthMax: number,
    readonly retryAfterMs: number,
  ) {
    super(`the gateway is at capacity (${queueDepthMax} requests already waiting); retry after ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/** Why a request's deadline could not be met before it got a slot. */
export type DeadlineReason = 'expired-in-queue' | 'expired-on-arrival' | 'unreachable';

/**
 * The request's deadline passed (or would pass, by the queue's estimate of its wait)
 * before it got a slot. It never started, so it cost no compute.
 */
export class DeadlineExceededError extends ResilienceError {
  override name = 'DeadlineExceededError';
  readonly code = 'DEADLINE_EXCEEDED';
  constructor(
    readonly reason: DeadlineReason,
    readonly waitedMs: number,
    readonly retryAfterMs: number,
  ) {
    super(reason === 'unreachable'
      ? `the request's deadline is nearer than the expected wait for a slot; retry after ${Math.ceil(retryAfterMs / 1000)} s or allow a longer deadline`
      : `the request's deadline passed after ${Math.round(waitedMs)} ms in the admission queue, before it started; retry after ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/** The client went away (its abort signal fired) while the request waited for a slot. */
export class AdmissionAbortedError extends ResilienceError {
  override name = 'AdmissionAbortedError';
  readonly code = 'ADMISSION_ABORTED';
  constructor(readonly waitedMs: number) {
    super(`the request was cancelled by its caller after ${Math.round(waitedMs)} ms in the admission queue`);
  }
}

/** The circuit breaker for this peer and path is open: the call was not attempted. */
export class CircuitOpenError extends ResilienceError {
  override name = 'CircuitOpenError';
  readonly code = 'CIRCUIT_OPEN';
  constructor(
    readonly peerId: string,
    readonly path: string,
    readonly retryAfterMs: number,
  ) {
    super(`calls to peer ${peerId} on '${path}' are suspended after repeated failures; choose another peer or retry after ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/** The gateway is shedding load at this degradation level and refused the request. */
export class DegradedRefusalError extends ResilienceError {
  override name = 'DegradedRefusalError';
  readonly code = 'SERVICE_DEGRADED';
  constructor(
    readonly level: string,
    readonly retryAfterMs: number,
  ) {
    super(`the service is overloaded (degradation level '${level}') and is refusing this request; retry after ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}
