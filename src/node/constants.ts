/** Names, files and limits of a running node, with their units. */

/** Written into the data directory once the node listens; removed on a clean stop. */
export const nodeFileName = 'node.json';
export const nodeFileVersion = 1;
/** The admin channel listens on loopback only; other machines cannot reach it at all. */
export const adminHost = '127.0.0.1';
/** Largest admin request body, in bytes. */
export const adminRequestBytesMax = 64 * 1024;
/** Bytes of randomness in the admin token, which node.json (mode 0600) holds for local commands. */
export const adminTokenBytes = 24;
/** Keys one admin request may look up at once (each is one DHT operation). */
export const adminKeysPerRequestMax = 64;
/** How long `nines peers` and other local commands wait for the node's admin channel. */
export const adminRequestTimeoutMs = 30_000;
/** Certified members remembered for verifying signed values; the oldest are forgotten beyond it. */
export const certifiedMembersMax = 65_536;
/**
 * A clean stop (SIGTERM) lets answers in progress finish for this long: the HTTP streams this
 * peer's gateway serves, and the jobs gateways pull from its compute role. What is unfinished
 * then is cut (a gateway hands its job to another compute peer; a client's stream ends).
 */
export const drainMs = 8_000;
/** How long a clean stop may take in all (the drain, then flushing and closing) before the process gives up and exits. */
export const stopTimeoutMs = drainMs + 7_000;
/**
 * How often a running peer checks its cluster directory's api-keys.json for changes (`nines
 * cluster key add|revoke`): a new key works, and a revoked one is refused, within about this long.
 */
export const apiKeysReloadIntervalMs = 1_000;
