/**
 * Every limit and default of peer discovery, named with its unit. Intervals can be set
 * lower per node (tests, small labs) through the options of each mode.
 */

// ---- bootstrap ----------------------------------------------------------------------------

/** The first retry of a bootstrap contact that did not answer waits about this long. */
export const bootstrapRetryDelayMsInitial = 500;
/** Each further retry waits this many times longer than the one before... */
export const bootstrapRetryBackoffFactor = 2;
/** ...up to this long. */
export const bootstrapRetryDelayMsMax = 30_000;
/**
 * A retry waits a random time between this fraction of its delay and the whole delay, so that
 * peers started together do not all knock on a restarted bootstrap peer at the same moment.
 */
export const bootstrapRetryJitterFraction = 0.5;
/** Attempts per bootstrap contact before it is given up (about ten minutes at the longest delay). */
export const bootstrapAttemptsMax = 24;
/** Trusted contacts a node may be given. */
export const bootstrapContactsMax = 64;

// ---- tracker ----------------------------------------------------------------------------

/** RPC methods of the tracker role. */
export const trackerAnnounceMethod = 'tracker.announce';
export const trackerPeersMethod = 'tracker.peers';
/** How often a peer announces itself to its trackers and asks them for peers. */
export const trackerAnnounceIntervalMsDefault = 15_000;
/** A tracker forgets a peer that has not announced for this long (three missed announcements). */
export const trackerPeerTtlMsDefault = 3 * trackerAnnounceIntervalMsDefault;
/** How many times per TTL a tracker looks for silent peers even when nobody calls it. */
export const trackerExpiryChecksPerTtl = 4;
/** Peers a tracker remembers; announcements from new peers are refused beyond it until some expire. */
export const trackerPeersMax = 10_000;
/** Peers in one answer to `tracker.peers` (a random sample when the tracker knows more). */
export const trackerPeersPerAnswerMax = 50;
/** How long a peer waits for a tracker's answer. */
export const trackerRequestTimeoutMs = 5_000;
/** Trackers a node may be given. */
export const trackersMax = 16;

// ---- multicast ----------------------------------------------------------------------------

/** The default group: in the organisation-local scope 239.255.0.0/16 (RFC 2365), so routers do not carry it off the site. */
export const multicastGroupDefault = '239.255.90.9';
export const multicastPortDefault = 7409;
/** How often a peer announces itself on the group. */
export const multicastAnnounceIntervalMsDefault = 5_000;
/** An announcement whose timestamp is further than this from our clock (either way) is dropped as stale. */
export const multicastFreshnessMs = 30_000;
/** Hops a multicast datagram may take: 1 keeps announcements on the local network. */
export const multicastTimeToLive = 1;
/** The largest announcement sent or read; a P-256 certificate is about 500 bytes, so this leaves room. */
export const announcementBytesMax = 4_096;
/** Member certificates remembered as checked, so that repeated announcements skip the chain check. */
export const multicastCertificatesCachedMax = 1_024;
/** Announcements with the same drop reason are logged at most once per this interval (the rest are counted). */
export const dropLogIntervalMs = 10_000;
