/** Errors of peer discovery, each with a stable `code`; the message says what to do. */

export abstract class DiscoveryError extends Error {
  abstract readonly code: string;
}

/** Discovery options that cannot work (too many contacts, a bad multicast group). */
export class DiscoveryConfigError extends DiscoveryError {
  override name = 'DiscoveryConfigError';
  readonly code = 'DISCOVERY_CONFIG_INVALID';
}

/** The multicast socket could not be opened or could not join the group. */
export class MulticastUnavailableError extends DiscoveryError {
  override name = 'MulticastUnavailableError';
  readonly code = 'MULTICAST_UNAVAILABLE';
}
