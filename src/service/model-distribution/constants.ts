/**
 * Every limit of model distribution, named with its unit. The first group is part of the
 * wire format and the same on every peer; the rest are each side's own defaults.
 */
import { frameBytesMax, sendBufferBytesMax } from '../../net/index.js';
import { assert } from '../../core/assert.js';

/** The manifest format's version; a peer refuses manifests of another version. */
export const manifestVersion = 1;
/**
 * The size of every chunk but the last. 1 MiB: a chunk travels in one RPC response, far
 * below the transport's 16 MiB frame limit, and is small enough that a corrupt or lost
 * chunk costs little to fetch again, yet large enough that a 4 GiB model is 4,096 requests.
 */
export const chunkBytesDefault = 1024 * 1024;
/** The smallest and largest chunk size a manifest may name (the largest leaves a frame room for its envelope). */
export const chunkBytesMin = 4 * 1024;
export const chunkBytesMax = 8 * 1024 * 1024;
/** Chunks per manifest: 65,536 hashes are 4 MiB of hex, which still fits one frame. */
export const chunksMax = 65_536;
/** The largest model file: as many full chunks of the default size as a manifest may hold (64 GiB). */
export const fileBytesMax = chunksMax * chunkBytesDefault;
/** A model name is also a file name (`<name>.gguf`), so it is short and plain. */
export const modelNameLengthMax = 128;
/** A chunk hash: SHA-256 as 64 lower-case hex digits. */
export const chunkHashHexLength = 64;

/** RPC methods a seeder answers. */
export const modelManifestMethod = 'model.manifest';
export const modelChunkMethod = 'model.chunk';

// ---- seeding ------------------------------------------------------------------------------

/**
 * Chunk uploads a seeder serves at once, over all peers; beyond it a request is answered
 * busy at once (the fetcher tries another provider or later) rather than queued.
 */
export const uploadsInFlightMax = 16;
/** How often a seeder publishes its provider record again (records live for an hour). */
export const seederRepublishMsDefault = 60_000;
/** After a publish that no peer stored (the DHT not joined yet), the next try comes this soon, doubling up to the republish interval. */
export const seederPublishRetryMsMin = 250;

// ---- fetching -----------------------------------------------------------------------------

/** How long a fetch looks for providers while none are known before it gives up. */
export const fetchProvidersWaitMsDefault = 60_000;
/** The first wait between provider lookups that found nobody; it doubles up to the maximum. */
export const providersRetryMsMin = 250;
export const providersRetryMsMax = 4_000;
/** Providers asked for per lookup. */
export const providersWanted = 20;
/** Providers asked for the manifest at once. */
export const manifestRequestsInFlightMax = 8;
/** Chunks requested at once from one provider, and in total. */
export const chunksInFlightPerProviderMax = 4;
export const chunksInFlightMax = 16;
/** How long one chunk request may take before its provider counts as failed. */
export const chunkRequestTimeoutMsDefault = 30_000;
/** How long a manifest request may take. */
export const manifestRequestTimeoutMsDefault = 10_000;
/** Chunks whose bytes did not match their hash a provider may send before it is dropped for good. */
export const corruptChunksPerProviderMax = 3;
/** A provider that errored or timed out is left alone this long, doubling with each failure in a row. */
export const providerRetryMsMin = 1_000;
export const providerRetryMsMax = 30_000;
/** A provider that answered busy is left alone this long before it is asked again. */
export const providerBusyMs = 200;
/** A fetch that verifies no chunk for this long (no provider answers) gives up. */
export const fetchStallMsMax = 120_000;
/** How often a running download looks in the DHT for providers that appeared since it started. */
export const providersRefreshMs = 10_000;

// A seeder's answers in flight all sit in one connection's send buffer in the worst case, and
// a chunk with its envelope must fit one frame: check both relationships once, at load time.
assert(chunkBytesMax + 64 * 1024 < frameBytesMax, 'the largest chunk must fit one frame with room for its envelope');
assert(uploadsInFlightMax * chunkBytesDefault < sendBufferBytesMax, 'the uploads in flight must fit one connection send buffer');
assert(chunksInFlightPerProviderMax <= chunksInFlightMax, 'the per-provider limit must not exceed the total');
