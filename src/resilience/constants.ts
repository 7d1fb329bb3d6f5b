/**
 * Every default limit and threshold of the service's protection layer, named with its
 * unit. Each class takes these as defaults and may be configured per cluster; the
 * relationships that must hold between them are asserted where the classes are built.
 */

// ---------------------------------------------------------------------------------
// Rate limits (rate-limit.ts)
// ---------------------------------------------------------------------------------

/** Requests an API key may make per minute when the cluster configures no limit for it. */
export const requestsPerMinuteDefault = 60;
/** Prompt plus completion tokens an API key may use per minute by default. */
export const tokensPerMinuteDefault = 60_000;
/**
 * The most API keys whose buckets are kept in memory. Beyond it the idlest bucket is
 * forgotten; a forgotten bucket comes back full, which only matters for a key that was
 * both idle the longest and not yet refilled.
 */
export const trackedKeysMax = 10_000;
/** Idle keys examined, from the least recently used end, for a fully refilled one to forget. */
export const evictionScanMax = 32;
/** A minute, the period both per-key limits are expressed in. */
export const minuteMs = 60_000;

// ---------------------------------------------------------------------------------
// Admission queue (admission-queue.ts)
// ---------------------------------------------------------------------------------

/** Requests served at once by one gateway (generation slots). */
export const concurrencyMaxDefault = 8;
/** Requests that may wait for a slot; beyond it a request is refused at once. */
export const queueDepthMaxDefault = 64;
/** Service time assumed before any request has completed, used for Retry-After and wait estimates. */
export const serviceTimeMsInitial = 1_000;
/** Recent service times kept to estimate the service rate. */
export const serviceSamplesMax = 128;
/** Recent wait times kept for the wait-time percentiles in the stats. */
export const waitSamplesMax = 1_024;
/** Wait times older than this are left out of the percentiles. */
export const waitWindowMsDefault = 60_000;
/** The shortest Retry-After the queue suggests; HTTP's Retry-After counts whole seconds. */
export const retryAfterMsMin = 1_000;
/** The longest Retry-After the queue suggests, so that one slow burst does not send clients away for long. */
export const retryAfterMsMax = 60_000;

// ---------------------------------------------------------------------------------
// Circuit breakers (circuit-breakers.ts)
// ---------------------------------------------------------------------------------

/** Percentage of failed calls in the rolling window above which a breaker opens. */
export const errorThresholdPercentageDefault = 50;
/** Calls in the rolling window before the error percentage is judged at all. */
export const volumeThresholdDefault = 5;
/** How long an open breaker refuses calls before it lets one trial call through (half-open). */
export const resetTimeoutMsDefault = 10_000;
/** The rolling window over which failures are counted. */
export const rollingWindowMsDefault = 10_000;
/** Buckets the rolling window is divided into; the window slides one bucket at a time. */
export const rollingBucketsDefault = 10;
/** Peers whose breakers are kept; beyond it the least recently used healthy peer is forgotten. */
export const peersTrackedMax = 1_024;
/** RPC paths per peer; paths are names from our own code, so more than this is a bug. */
export const pathsPerPeerMax = 64;

// ---------------------------------------------------------------------------------
// Degradation (degradation.ts)
// ---------------------------------------------------------------------------------

/** How long pressure must stay above a level's entry threshold before the gateway steps up to it. */
export const degradeSustainMsDefault = 5_000;
/**
 * How long pressure must stay below the current level's exit threshold before the gateway
 * steps down. Longer than the climb, so that recovery is cautious.
 */
export const recoverSustainMsDefault = 15_000;
/** The largest `max_tokens` granted from the `cap-max-tokens` level up. */
export const degradedMaxTokensDefault = 256;
/**
 * Pressure (0 = idle, 1 = saturated) at which each level above `normal` is entered,
 * in level order: shed-traces, cap-max-tokens, shed-low-priority, refuse.
 */
export const levelEnterPressureDefault: readonly number[] = [0.5, 0.7, 0.85, 0.97];
/**
 * How far below a level's entry threshold pressure must fall before the gateway leaves
 * that level: the hysteresis band that keeps it from flapping at a boundary.
 */
export const levelExitMarginDefault = 0.2;
