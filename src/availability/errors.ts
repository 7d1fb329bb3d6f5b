/**
 * Errors of the availability core, each with a stable `code`. Both are operating errors:
 * health events come from the replicated store (input that may be corrupt or written by
 * another version), and report options come from a user.
 */
export abstract class AvailabilityError extends Error {
  abstract readonly code: string;
}

/** A stored health event is malformed; the message says which field and what was expected. */
export class HealthEventInvalidError extends AvailabilityError {
  override name = 'HealthEventInvalidError';
  readonly code = 'HEALTH_EVENT_INVALID';
}

/** The window or the SLO target of a report is impossible (since after until, a target outside (0, 1)). */
export class AvailabilityOptionsInvalidError extends AvailabilityError {
  override name = 'AvailabilityOptionsInvalidError';
  readonly code = 'AVAILABILITY_OPTIONS_INVALID';
}
