/** Errors of the DHT shell, each with a stable `code`. */

export abstract class DhtError extends Error {
  abstract readonly code: string;
}

/** An operation was asked of, or still waiting on, a DHT shell that has stopped. */
export class DhtStoppedError extends DhtError {
  override name = 'DhtStoppedError';
  readonly code = 'DHT_STOPPED';
}

/** Too many callers are waiting on operations already; try again when some have finished. */
export class DhtBusyError extends DhtError {
  override name = 'DhtBusyError';
  readonly code = 'DHT_BUSY';
}

/** A key or value handed to the DHT that it cannot use; the message says what to pass instead. */
export class DhtInputError extends DhtError {
  override name = 'DhtInputError';
  readonly code = 'DHT_INPUT_INVALID';
}
