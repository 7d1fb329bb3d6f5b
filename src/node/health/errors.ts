/**
 * Errors of the health shells, each with a stable `code`.
 */
export abstract class HealthError extends Error {
  abstract readonly code: string;
}

/** A key of the health log holds something no nines peer writes: the message names the key and the problem. */
export class HealthLogCorruptError extends HealthError {
  override name = 'HealthLogCorruptError';
  readonly code = 'HEALTH_LOG_CORRUPT';
}

/** A setting of the recorder or the monitor is impossible; the message says which and why. */
export class HealthSettingsError extends HealthError {
  override name = 'HealthSettingsError';
  readonly code = 'HEALTH_SETTINGS_INVALID';
}

/** `health/peers` already lists healthPeersMax node IDs. */
export class HealthPeersFullError extends HealthError {
  override name = 'HealthPeersFullError';
  readonly code = 'HEALTH_PEERS_FULL';
}

/** Another writer kept winning the compare-and-set on `health/peers`; the recorder tries again at its next flush. */
export class HealthPeersContendedError extends HealthError {
  override name = 'HealthPeersContendedError';
  readonly code = 'HEALTH_PEERS_CONTENDED';
}
