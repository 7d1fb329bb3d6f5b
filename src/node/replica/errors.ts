/**
 * A replica's refusal, carrying the core's stable code (KV_UNAVAILABLE, KV_TIMEOUT,
 * KV_COMMAND_INVALID, KV_TOO_MANY_SIBLINGS) to the API's one table of statuses.
 */
export class ReplicaError extends Error {
  override name = 'ReplicaError';

  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
