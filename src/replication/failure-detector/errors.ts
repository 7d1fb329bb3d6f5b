/**
 * Errors of the failure detector, each with a stable `code`. Bad settings are an operating
 * error (they come from configuration); so is watching one peer too many, since the peers
 * watched come from discovery, which the caller does not fully control.
 */
export abstract class FailureDetectorError extends Error {
  abstract readonly code: string;
}

export class FailureDetectorSettingsError extends FailureDetectorError {
  override name = 'FailureDetectorSettingsError';
  readonly code = 'FAILURE_DETECTOR_SETTINGS_INVALID';
}

export class WatchedPeersFullError extends FailureDetectorError {
  override name = 'WatchedPeersFullError';
  readonly code = 'FAILURE_DETECTOR_FULL';
  constructor(readonly watchedPeersMax: number) {
    super(`the failure detector already watches ${watchedPeersMax} peers (watchedPeersMax); unwatch peers that left before watching more`);
  }
}
