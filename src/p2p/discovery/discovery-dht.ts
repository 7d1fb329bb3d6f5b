/**
 * What discovery needs from the rest of the node, as narrow interfaces so that tests can hand
 * in fakes (STYLE.md: dependencies arrive as components). The DHT shell and the transport
 * satisfy them in production.
 */
import type { PeerAddress } from '../../net/index.js';
import type { Contact, OperationResult } from '../kademlia/index.js';

export interface DiscoveryDht {
  /** A self-lookup seeded with `contacts`: how a node joins through contacts it trusts. */
  join(contacts: readonly Contact[]): Promise<OperationResult>;
  /** Hands contacts found by discovery to the DHT; those already known or offered recently are skipped. */
  offerContacts(contacts: readonly Contact[]): Promise<OperationResult | undefined>;
}

export interface PeerDialer {
  /** Opens (or reuses) an authenticated connection; rejects if the peer is unreachable or not who the address pins. */
  connect(address: PeerAddress): Promise<unknown>;
}
