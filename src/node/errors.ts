/** Errors of the node's composition root and its local admin channel, each with a stable `code`. */

export abstract class NodeError extends Error {
  abstract readonly code: string;
}

/** The node's configuration cannot work; the message says which setting and what to pass. */
export class NodeConfigError extends NodeError {
  override name = 'NodeConfigError';
  readonly code = 'NODE_CONFIG_INVALID';
}

/** No running node recorded in a data directory, or one that does not answer. */
export class NodeNotRunningError extends NodeError {
  override name = 'NodeNotRunningError';
  readonly code = 'NODE_NOT_RUNNING';
}

/** The node answered an admin request with an error. */
export class AdminRequestError extends NodeError {
  override name = 'AdminRequestError';
  readonly code = 'ADMIN_REQUEST_FAILED';
  constructor(
    readonly status: number,
    readonly remoteCode: string,
    message: string,
  ) {
    super(message);
  }
}
