/**
 * What the simulator needs from a peer, whatever protocol core it wraps (Kademlia today,
 * Raft and the leaderless store later). The wrapper drives the production core and turns
 * its outputs into addressed messages; the simulator only moves messages and time.
 */
import type { Rng } from '../core/rng.js';

export interface AddressedMessage<Message> {
  readonly to: string;
  readonly message: Message;
}

export interface SimulatedPeer<Message> {
  /** One tick: the simulator applies one for every `tickMs` of simulated time while the peer is up. */
  tick(): void;
  /**
   * How many ticks may pass before a tick does more than count (a timeout, a periodic task);
   * the simulator may apply those ticks late, just before the peer's next input, instead of
   * one by one. A peer that cannot tell returns 1.
   */
  ticksUntilDue(): number;
  /** A message from the peer at address `from` arrived. */
  receive(from: string, message: Message): void;
  /** Messages produced since the last call (by ticks, receipts or calls the workload made); the simulator sends them. */
  takeMessages(): readonly AddressedMessage<Message>[];
}

/**
 * Makes the in-memory state of the peer at `address`: called when the peer is added and
 * again on every restart after a crash, so a restarted peer has its identity (the factory
 * knows it) but none of its memory. `rng` is a fresh stream from the run's seed.
 */
export type PeerFactory<Message> = (address: string, rng: Rng) => SimulatedPeer<Message>;
