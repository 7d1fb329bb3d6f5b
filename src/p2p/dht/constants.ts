/**
 * Limits and fixed names of the DHT shell, with their units. The Kademlia core's own
 * limits live in ../kademlia/constants.ts; these are only about carrying its messages.
 */
import { kademliaConstants } from '../kademlia/index.js';

/** The one RPC method that carries every Kademlia request; its response body is the Kademlia response. */
export const kademliaMethod = 'kademlia';

/**
 * How long the shell waits for an RPC answer to a Kademlia request. The core gives up on its
 * own after `requestTimeoutTicks`; the RPC deadline is the same length so that the peer stops
 * working on a request at about the time nobody wants its answer any more.
 */
export const kademliaRequestTimeoutMs = kademliaConstants.requestTimeoutTicks * kademliaConstants.tickMs;

/**
 * A contact offered by discovery (tracker, multicast) is handed to the core at most once per
 * this interval; announcements repeat every few seconds and each offer costs a lookup.
 */
export const contactOfferIntervalMs = 60_000;
/**
 * Contacts offered within this long of each other seed one join together. Multicast
 * announcements from a whole LAN arrive within one announce interval; one join per
 * contact would start a self-lookup and a round of bucket refreshes for each of them.
 */
export const contactOfferBatchMs = 250;
/** Contacts remembered as recently offered; the oldest are forgotten beyond it. */
export const contactOffersRememberedMax = 4_096;
/** Contacts handed to the core in one offer (a self-lookup seeded with them). */
export const contactsPerOfferMax = kademliaConstants.bucketSize;
/** Peers whose last-seen time is remembered for `nines peers`; the oldest are forgotten beyond it. */
export const lastSeenRememberedMax = 16_384;
/** Operations the shell waits on for callers at once (the core refuses more than its own limit anyway). */
export const operationWaitersMax = 1_024;
