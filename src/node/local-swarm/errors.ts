/** Errors of a local swarm, each with a stable `code` (and the HTTP status its control server answers with). */

export abstract class LocalSwarmError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
}

/** A peer did not come up (it exited, or printed nothing in time); the message names its log. */
export class LocalSwarmStartError extends LocalSwarmError {
  override name = 'LocalSwarmStartError';
  readonly code = 'LOCAL_SWARM_START_FAILED';
  readonly status = 500;
}

/** No peer with that index or node ID in this swarm. */
export class LocalPeerNotFoundError extends LocalSwarmError {
  override name = 'LocalPeerNotFoundError';
  readonly code = 'LOCAL_PEER_NOT_FOUND';
  readonly status = 404;
}

/** The peer is in a state that forbids the action (restarting one that is already starting; any action once the swarm stops). */
export class LocalPeerBusyError extends LocalSwarmError {
  override name = 'LocalPeerBusyError';
  readonly code = 'LOCAL_PEER_BUSY';
  readonly status = 409;
}
