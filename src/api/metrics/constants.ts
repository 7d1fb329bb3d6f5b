/**
 * The names and limits of a peer's Prometheus metrics. Every label value that comes from
 * outside the code (a peer's id, a model's name, a route) is bounded here, because each
 * distinct value is a new time series that Prometheus keeps for as long as it is scraped:
 * a label fed from client input without a bound lets any client exhaust the server's and
 * Prometheus' memory.
 */

/** Every metric of nines starts with this, the process and Node.js defaults included. */
export const metricPrefix = 'nines_';

/** Where a peer answers scrapes. */
export const metricsPath = '/metrics';

/**
 * Peers named one by one in a label (breakers, replication lag, failure detector) in one
 * scrape, at most. The peers are sorted by id and the first ones keep their name; the rest
 * are added together under `peer="other"`, so a swarm of any size costs at most this many
 * series (plus one) per metric. 64 covers every swarm nines is meant to run in one
 * cluster, where each peer is worth watching on its own.
 */
export const metricPeersMax = 64;

/**
 * Model names in a label, at most. The model a client asks for is client input (it may
 * not exist), so the first names seen keep their own series and later ones become
 * `model="other"`. A peer serves a handful of models.
 */
export const metricModelsMax = 16;

/**
 * Route patterns in a label, at most. Patterns come from the routes the server registered
 * (never the raw URL), so they are bounded already; this is the backstop should a plugin
 * register routes dynamically.
 */
export const metricRoutesMax = 64;

/** A label value's length at most, in UTF-16 units; longer ones are cut (peer ids are 40). */
export const labelCharactersMax = 64;

/** The label value that stands for everything past a bound. */
export const otherLabel = 'other';

/** The route label of a request that matched no route (fastify's 404 handler). */
export const unmatchedRoute = 'unmatched';

/**
 * HTTP request durations, in seconds: from a cached key-value read (a millisecond) to a
 * long streamed completion (minutes).
 */
export const httpDurationBucketsSeconds: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** A completion's duration from request to last token, in seconds. */
export const completionDurationBucketsSeconds: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

/**
 * A Kademlia lookup's hops (answers in a row to reach the closest peer that answered). With
 * k = 20 a lookup in a network of a million peers takes about log2(10^6)/log2(20) ~ 5 hops.
 */
export const lookupHopsBuckets: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20];

/** The event loop histogram's sampling precision for the default Node.js metrics, in milliseconds. */
export const eventLoopPrecisionMs = 10;
