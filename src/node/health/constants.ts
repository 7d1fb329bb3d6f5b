/**
 * Limits and default timings of the health shells, named with their units. The relationships
 * that must hold between them are asserted where the classes are built.
 */

// ---------------------------------------------------------------------------------
// The health log in the replicated store (health-log.ts)
// ---------------------------------------------------------------------------------

/**
 * Events in one segment key. At most ~600 bytes of JSON each (two peer names of 128
 * characters and the fields around them), 256 of them stay well under the store's 256 KiB
 * value limit, and a flush rewrites one segment of at most that.
 */
export const segmentEventsMax = 256;
/** The JSON of one event at most, used to check that a full segment fits in one value. */
export const eventJsonBytesMax = 640;
/**
 * A new segment starts with the latest state of everything its writer has recorded (the last
 * event per peer, service, breaker and each observer's last leader event), so a reader that stops at the
 * first segment older than its window still knows every initial state. At most this many.
 */
export const carriedEventsMax = 128;
/** The most events `readHealthEvents` returns; older segments beyond it are not read and the result says so. */
export const healthEventsReadMax = 200_000;
/** The most node IDs in `health/peers`. */
export const healthPeersMax = 1_024;
/** Compare-and-set rounds to add this node to `health/peers` in single-leader mode before giving up until the next flush. */
export const peersUpdateAttemptsMax = 8;

// ---------------------------------------------------------------------------------
// The recorder (recorder.ts)
// ---------------------------------------------------------------------------------

/** Events buffered while the store is unreachable; beyond it the oldest are dropped and counted. */
export const healthBufferEventsMax = 10_000;
export const flushIntervalMsDefault = 2_000;
/** The last flush when the recorder stops waits at most this long for the store. */
export const stopFlushTimeoutMs = 2_000;
/** Request outcomes are summed over windows this long before they become one 'requests' event. */
export const requestsWindowMs = 10_000;
/** Per-second request statistics kept in memory for the dashboard's live plots. */
export const recentRequestsSecondsMax = 600;
/** Latencies kept per second for the percentiles; beyond it a reservoir keeps a fair sample. */
export const latencySamplesPerSecondMax = 512;

// ---------------------------------------------------------------------------------
// The failure-detector shell (failure-detector-shell.ts)
// ---------------------------------------------------------------------------------

export const healthPingMethod = 'health.ping';
export const pingIntervalMsDefault = 250;
/** Silence after which a peer is suspected; a whole number of ping intervals. */
export const suspectAfterMsDefault = 750;
/** Silence after which a peer is declared down. */
export const downAfterMsDefault = 1_500;
