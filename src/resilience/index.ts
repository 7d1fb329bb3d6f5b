/**
 * Protecting the service (DESIGN.md section 4, step 2): per-key rate limits, the
 * bounded admission queue with deadlines, per-peer circuit breakers and the degradation
 * policy. Plain classes with injected clocks; the gateway wires them into HTTP.
 */
export { monotonicClock, realScheduler, type CancelAlarm, type Clock, type Scheduler } from './clock.js';
export * as resilienceLimits from './constants.js';
export {
  AdmissionAbortedError,
  CircuitOpenError,
  DeadlineExceededError,
  DegradedRefusalError,
  QueueFullError,
  RateLimitedError,
  RequestExceedsRateLimitError,
  ResilienceError,
  type DeadlineReason,
  type RateLimitKind,
} from './errors.js';
export { RateLimiter, type KeyLimits, type RateLimitCost, type RateLimitDecision, type RateLimiterOptions } from './rate-limit.js';
export {
  AdmissionQueue,
  type AdmissionQueueOptions,
  type AdmissionStats,
  type AdmitRequest,
  type Priority,
  type Ticket,
} from './admission-queue.js';
export type { Percentiles } from './sample-window.js';
export {
  CircuitBreakers,
  type BreakerState,
  type BreakerStatus,
  type BreakerTransition,
  type CircuitBreakersOptions,
  type TransitionListener,
} from './circuit-breakers.js';
export {
  DegradationPolicy,
  degradationLevels,
  pressureOf,
  type DegradationDecision,
  type DegradationLevel,
  type DegradationOptions,
  type DegradationRequest,
  type LevelChangeListener,
  type PressureSignals,
} from './degradation.js';
