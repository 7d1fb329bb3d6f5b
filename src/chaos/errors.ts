/** Errors of a chaos run, each with a stable `code`. */

export abstract class ChaosError extends Error {
  abstract readonly code: string;
}

/** A flag or combination of flags that cannot work; the message says which and what to pass. */
export class ChaosConfigError extends ChaosError {
  override name = 'ChaosConfigError';
  readonly code = 'CHAOS_CONFIG_INVALID';
}

/** A --target the run will not drive (not loopback, or cannot kill peers); the message says why. */
export class ChaosTargetError extends ChaosError {
  override name = 'ChaosTargetError';
  readonly code = 'CHAOS_TARGET_REFUSED';
}

/** The run could not be carried out (the swarm did not start, no gateway answered). */
export class ChaosRunError extends ChaosError {
  override name = 'ChaosRunError';
  readonly code = 'CHAOS_RUN_FAILED';
}
