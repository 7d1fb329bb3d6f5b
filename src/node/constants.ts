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
/** How long a clean stop may take before the process gives up waiting and exits. */
export const stopTimeoutMs = 5_000;
