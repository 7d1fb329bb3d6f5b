/**
 * What a Kademlia node is made from, and the counters it keeps. Dependencies arrive as one
 * components object (STYLE.md, js-libp2p), so tests hand in a seeded Rng and a fake verifier.
 */
import type { Rng } from '../../core/rng.js';
import type { Contact } from './contact.js';

/** Checks a signature; injected so that the core stays pure (the shell wraps node:crypto). */
export type VerifySignature = (publicKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array) => boolean;

/** What a node is made from. */
export interface KademliaComponents {
  /** This peer's own contact: the node id its certificate proves, and the address it listens on. */
  readonly self: Contact;
  readonly rng: Rng;
  readonly verify: VerifySignature;
}

/** Counters of what the node dropped or refused, and of its traffic. */
export interface KademliaStats {
  /** Messages (or senders) whose shape was wrong; `lastMalformed` says why for the latest one. */
  malformedDropped: number;
  lastMalformed: string | null;
  /** Well-formed answers that answered nothing we asked that peer (late, duplicated or forged). */
  unexpectedDropped: number;
  /** Values whose signature did not verify, in stores and in answers. */
  invalidSignatures: number;
  /** Messages and results dropped because the shell did not drain `ready()`. */
  outboxOverflowDropped: number;
  /** Verification pings skipped because `verificationsInFlightMax` of them were out already. */
  verificationsSkipped: number;
  requestsSent: number;
  /** Of those, pings to strangers before they may enter the table, and pings to decide an eviction. */
  verificationPingsSent: number;
  evictionPingsSent: number;
  requestsTimedOut: number;
  requestsServed: number;
}

export function emptyStats(): KademliaStats {
  return {
    malformedDropped: 0, lastMalformed: null, unexpectedDropped: 0, invalidSignatures: 0, outboxOverflowDropped: 0, verificationsSkipped: 0,
    requestsSent: 0, verificationPingsSent: 0, evictionPingsSent: 0, requestsTimedOut: 0, requestsServed: 0,
  };
}
