/**
 * Every limit and period of the Kademlia core, named with its unit.
 *
 * The core counts time in ticks and never reads a clock; the shell (the TLS transport in
 * production, the simulator in tests) calls `tick()` once every `tickMs`. Periods are
 * written as minutes or seconds times `ticksPerSecond` so that changing the tick length
 * keeps every period the same length in real time.
 */

/** How long one tick lasts in production, in milliseconds. */
export const tickMs = 100;
export const ticksPerSecond = 1000 / tickMs;
const ticksPerMinute = 60 * ticksPerSecond;

/** Width of node ids and record keys, in bits (SHA-256 truncated to 160 bits, DESIGN.md section 6). */
export const idBits = 160;
/** Width of node ids and record keys written as lowercase hexadecimal, in characters. */
export const idHexLength = idBits / 4;

/** k: contacts per bucket, and how many closest peers a lookup returns and stores records on. */
export const bucketSize = 20;
/** alpha: requests a lookup keeps in flight at once. */
export const alpha = 3;
/** Answered contacts kept per full bucket, waiting for a member to fail. */
export const replacementCacheSize = 8;

/** A request unanswered after this many ticks counts as a failed ping of its peer (2 seconds). */
export const requestTimeoutTicks = 2 * ticksPerSecond;
/**
 * A lookup request unanswered after this many ticks (half a second, several round trips)
 * stops holding up its lookup: it frees its alpha slot and leaves the k closest until it
 * answers (the paper's "removed from consideration until and unless they do respond"). It
 * counts as failed only at `requestTimeoutTicks`. Without it, every departed peer still in
 * some routing table cost a lookup the whole timeout: in the 2,000-peer simulation with 30
 * minutes of 1%-per-minute churn, lookups took 2.9 s at the median and 8.7 s at p99; with it,
 * 1.2 s and 2.8 s, with the same success and traffic.
 */
export const lookupStallTicks = ticksPerSecond / 2;
/**
 * When a full bucket meets a new contact, its least-recently-seen member is pinged, and
 * evicted only if the ping fails. A member heard from within this many ticks is taken as
 * alive without a ping (15 minutes, BitTorrent's "good node" window). With 1 minute, the
 * 2,000-peer simulation sent more pings than lookup requests: every request from a stranger
 * cost a verification ping and an eviction ping. Dead members are still found sooner by the
 * lookups that time out on them.
 */
export const contactFreshTicks = 15 * ticksPerMinute;
/** A table member that failed this many requests in a row, with no replacement waiting, is dropped. */
export const contactFailuresMax = 3;

/** A bucket in which no lookup started for this long is refreshed with a lookup of a random id in its range (1 hour, as in the paper). */
export const refreshIntervalTicks = 60 * ticksPerMinute;
/** How often the core looks for idle buckets, records due for republishing and expired records (1 minute). */
export const housekeepingIntervalTicks = 1 * ticksPerMinute;

/** A stored provider record or value lives this long after it was last stored (30 minutes). */
export const recordTtlTicks = 30 * ticksPerMinute;
/** The peer that provides a key or published a value stores it again this often (10 minutes), well inside the TTL. */
export const republishIntervalTicks = 10 * ticksPerMinute;

/** Providers stored per key; more are refused until some expire. Also the most a `providers` response carries. */
export const providersPerKeyMax = 20;
/** Signed values stored per key (one per publisher); more are refused. */
export const valuesPerKeyMax = 8;
/** Records (provider records and values) stored on behalf of any one peer; more are refused. */
export const recordsPerPeerMax = 256;
/** Records stored in all; more are refused. */
export const recordsStoredMax = 16_384;
/** Largest value payload, in bytes: values are small (a model manifest hash, an address), not files. */
export const valueBytesMax = 1024;
/** Largest publisher public key, in bytes (an SPKI-encoded P-256 key is 91 bytes). */
export const publicKeyBytesMax = 128;
/** Largest signature, in bytes (a DER-encoded P-256 ECDSA signature is at most 72 bytes). */
export const signatureBytesMax = 128;
/** Keys this peer provides itself and keeps republishing. */
export const providedKeysMax = 1024;
/** Values this peer published itself and keeps republishing. */
export const publishedValuesMax = 256;

/** Longest host name in a contact, in characters (the DNS limit). */
export const hostLengthMax = 253;
/**
 * Verification pings (to strangers that asked us something) out at once; beyond it strangers
 * go unverified. This is the one kind of request other peers can make us send at will; every
 * other request is bounded by `operationsInFlightMax` times `bucketSize`, plus one eviction
 * ping per bucket.
 */
export const verificationsInFlightMax = 512;
/** Lookups, stores and fetches this peer may run at once; more are refused with `busy`. */
export const operationsInFlightMax = 64;
/** Candidates one lookup remembers; the farthest are forgotten beyond it. */
export const lookupCandidatesMax = 8 * bucketSize;
/** Results (completed operations) waiting in `ready()`; the oldest are dropped beyond it if the shell never drains them. */
export const resultsPendingMax = 4096;
/** Messages waiting in `ready()`; beyond it new messages are dropped and counted, as if the network had lost them. */
export const messagesPendingMax = 65_536;
