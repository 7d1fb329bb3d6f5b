/**
 * Errors the Kademlia core raises on purpose. Only its own callers can cause them (a bad key
 * handed to `lookup`, a malformed bootstrap contact): anything from the network is checked,
 * dropped and counted instead, never thrown.
 */

/** An argument of a Kademlia call that the core cannot use. */
export class KademliaInputError extends Error {
  override name = 'KademliaInputError';
  readonly code = 'KADEMLIA_INPUT';

  /**
   * @param argument the argument at fault, e.g. `key` or `contacts[2]`
   * @param problem what is wrong with it, and what to pass instead
   */
  constructor(
    readonly argument: string,
    readonly problem: string,
  ) {
    super(`${argument}: ${problem}`);
  }
}
