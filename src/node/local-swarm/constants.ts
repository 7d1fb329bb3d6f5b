/** Limits and names of a local swarm (`nines start`, `nines chaos`), with their units. */

/** Peers a local swarm may have: each is a process with the model loaded. */
export const localPeersMax = 9;
/** How long a peer may take to print its contact and API address after it is spawned. */
export const peerStartTimeoutMs = 60_000;
/** How long a SIGTERMed peer may take to stop before it is SIGKILLed. */
export const peerStopGraceMs = 10_000;
/** Standard output kept from a starting peer while looking for its contact and API lines. */
export const peerOutputBytesMax = 64 * 1024;

/** The control server listens on loopback only: other machines cannot reach it at all. */
export const controlHost = '127.0.0.1';
/** Bytes of randomness in the control server's bearer token. */
export const controlTokenBytes = 24;
/** Largest control request body, in bytes (the routes take none; anything bigger is refused). */
export const controlRequestBytesMax = 4 * 1024;
/** The environment variables through which each peer learns where its swarm's control server is. */
export const controlUrlVariable = 'NINES_LOCAL_SWARM_CONTROL';
export const controlTokenVariable = 'NINES_LOCAL_SWARM_TOKEN';
