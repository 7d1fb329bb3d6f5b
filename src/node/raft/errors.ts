/**
 * What a key-value client can be told when its operation cannot be carried out. Each has a
 * stable `code`; the HTTP layer maps codes to statuses in one place (kv-http.ts).
 */

/** No leader right now, or this peer is stopping or full: retry shortly, perhaps elsewhere. */
export class KvUnavailableError extends Error {
  override name = 'KvUnavailableError';
  readonly code = 'KV_UNAVAILABLE';

  constructor(
    message: string,
    /** The leader this peer believes in, when it knows one. */
    readonly leaderHint: string | undefined,
  ) {
    super(message);
  }
}

/** The operation did not complete within its deadline. */
export class KvTimeoutError extends Error {
  override name = 'KvTimeoutError';
  readonly code = 'KV_TIMEOUT';
}

/** A write whose fate nobody can tell (its leader stepped down or the answer was lost): it may or may not have been applied. */
export class KvOutcomeUnknownError extends Error {
  override name = 'KvOutcomeUnknownError';
  readonly code = 'KV_OUTCOME_UNKNOWN';
}
