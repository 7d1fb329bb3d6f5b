/**
 * Peer discovery: how a node finds its first peers and hands them to the DHT.
 *
 * - bootstrap.ts      trusted contacts (pure P2P), retried with exponential backoff (backoff.ts)
 * - tracker.ts        the tracker role and its client (hybrid P2P); tracker-registry.ts forgets the silent
 * - multicast.ts      signed announcements on a UDP multicast group (LAN); announcement.ts checks them
 * - discovery.ts      any combination of the three, started in that order
 *
 * Every limit is in constants.ts, every error in errors.ts.
 */
export * from './constants.js';
export * from './errors.js';
export { announcementSignedBytes, announcementVersion, CertificateCache, encodeAnnouncement, verifyAnnouncement } from './announcement.js';
export type { AnnouncementDropReason, AnnouncementVerdict, Announcer } from './announcement.js';
export { backoffCeilingMs, backoffDelayMs, bootstrapBackoffDefault, checkBackoffLimits, type BackoffLimits } from './backoff.js';
export { Bootstrap, type BootstrapContactState, type BootstrapOptions, type BootstrapStatus } from './bootstrap.js';
export type { DiscoveryDht, PeerDialer } from './discovery-dht.js';
export { Discovery, type DiscoveryComponents, type DiscoveryConfig, type DiscoveryStatus, type MulticastConfig } from './discovery.js';
export { isMulticastGroup, MulticastDiscovery, type MulticastOptions, type MulticastStatus } from './multicast.js';
export { parsePeersAnswer, TrackerClient, TrackerServer, type TrackerClientOptions, type TrackerServerOptions, type TrackerStatus } from './tracker.js';
export { TrackerRegistry, type AnnounceOutcome } from './tracker-registry.js';
