/**
 * The DHT in production: the pure Kademlia core (../kademlia) driven over the TLS transport
 * (../../net), with values signed by each peer's real ECDSA P-256 key.
 *
 * - dht-shell.ts    the tick timer, RPCs in and out, ready/advance, operations as promises
 * - signatures.ts   signing with the node's key; believing only certified members' signatures
 * - routing-view.ts the routing table bucket by bucket, with last-seen times, for `nines peers`
 */
export * from './constants.js';
export * from './errors.js';
export { DhtShell, contactOfPeer, plainHost, randomKey, type DhtShellComponents } from './dht-shell.js';
export { CertifiedMembers, ValueSigner, certifiedVerifier } from './signatures.js';
export { bucketIndexOf, routingTableBuckets, type RoutingTableBucket, type RoutingTableEntry } from './routing-view.js';
