/**
 * Limits and calendar constants of the availability core, named with their units.
 */

/** The longest peer name (a node ID is 40 hexadecimal characters; tests and tools may use shorter names). */
export const peerNameLengthMax = 128;
/** The largest Raft term a leader event may carry; far beyond any real cluster, it only refuses garbage. */
export const termMax = Number.MAX_SAFE_INTEGER;
/** The longest window one 'requests' event may cover: a day. Gateways write 10 s windows. */
export const requestsWindowMsMax = 86_400_000;
/** The most leader changes a report lists; older ones are left out and counted in `leaderChangesOmitted`. */
export const leaderChangesMax = 1_000;
/**
 * Digits after the decimal point kept in a number of nines. `1 - 0.999` is 0.0010000000000000009
 * in floating point, so without rounding 99.9 % would be 2.9999999999999996 nines.
 */
export const ninesDecimals = 9;

export const dayMs = 86_400_000;
/** A month of 30 days, as availability tables usually count it. */
export const monthMs = 30 * dayMs;
/** A year of 365 days. */
export const yearMs = 365 * dayMs;
/** The table of nines runs from one nine (90 %) to five (99.999 %). */
export const ninesTableMin = 1;
export const ninesTableMax = 5;
