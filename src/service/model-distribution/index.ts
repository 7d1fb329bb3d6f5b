/**
 * Model distribution: the model file shared between peers in verified chunks, BitTorrent
 * style — the seed's "real-life P2P application" (DESIGN.md sections 1 and 6).
 *
 * Content addressing. A model file is cut into fixed chunks of `chunkBytesDefault` (1 MiB;
 * a chunk travels in one RPC answer, far below the 16 MiB frame limit). The manifest
 * `{ version, name, fileBytes, chunkBytes, chunkHashes }` lists each chunk's SHA-256, and its
 * id is the SHA-256 of its canonical encoding. Every manifest received is checked (sizes,
 * `chunksMax`, hash shapes, the chunk count against the sizes, `fileBytesMax`), and every
 * chunk against its hash before it is written.
 *
 * Seeding. Every compute peer seeds the model file it serves: it streams the file once to
 * compute the manifest, answers `model.manifest { name } -> { manifest }` and
 * `model.chunk { manifestId, index } -> { bytes }` (at most `uploadsInFlightMax` uploads at
 * once, answering busy beyond), and publishes a DHT provider record under
 * `modelFileKey(name)`, republished periodically.
 *
 * Fetching. A peer that lacks the model finds the providers in the DHT (retrying with
 * backoff for `fetchProvidersWaitMs` while none are known), takes the manifest most of them
 * serve, and downloads chunks from several at once (bounded per provider and in total,
 * spread across them), writing each verified chunk at its offset into
 * `<dataDir>/models/<name>.gguf.partial`. A chunk that does not match its hash is fetched
 * again from another provider, and a provider that sends `corruptChunksPerProviderMax` bad
 * chunks is dropped; a provider that errors or times out loses its chunks in flight to the
 * others. At the end the file is fsynced, its manifest written beside it, and it is renamed
 * to `<name>.gguf`. A restart resumes: chunks in the partial file whose hashes verify are kept.
 *
 * Files:
 * - manifest.ts          chunking, hashing, the manifest, its id and its checks (plain functions)
 * - protocol.ts          the two RPCs, their checks and error codes
 * - model-files.ts       the file shell: paths, streaming a file's manifest, verifying a partial file
 * - seeder.ts            ModelSeeder: serves a file and keeps its provider record published
 * - providers.ts         finding providers and agreeing on a manifest
 * - chunk-scheduler.ts   which chunk to ask of which provider, and what a failure or a bad chunk does (no I/O)
 * - fetcher.ts           fetchModel: the scheduler driven over the transport, chunks written as they verify
 * - settle.ts            settleModelFile: what a starting node does (use a verified file, or fetch it; seed it)
 * - progress-display.ts  the download's progress bar on a terminal
 */
export * from './constants.js';
export * from './errors.js';
export {
  buildManifest,
  checkManifest,
  checkModelName,
  chunkCount,
  chunkHash,
  chunkMatches,
  chunkSpan,
  encodeManifest,
  ManifestBuilder,
  manifestId,
  manifestProblem,
  modelFileKey,
  modelNameProblem,
  type Manifest,
} from './manifest.js';
export { chunkRequestProblem, manifestRequestProblem, seederErrorCodes, type ChunkRequest, type ManifestRequest } from './protocol.js';
export { manifestOfFile, modelNameOfFile, modelPaths, readManifestFile, verifiedChunks, type ModelPaths } from './model-files.js';
export { ModelSeeder, type ModelSeederParts, type SeederStatus } from './seeder.js';
export { agreeOnManifest, findProviders, majorityManifest } from './providers.js';
export { ChunkScheduler, schedulerLimitsDefault, type Assignment, type FailureKind, type SchedulerLimits } from './chunk-scheduler.js';
export { fetchModel, type FetchLimits, type FetchModelParts, type FetchProgress, type FetchResult } from './fetcher.js';
export { settleModelFile, type SettledModelFile, type SettleModelFileParts } from './settle.js';
export { createFetchProgressDisplay, type FetchProgressDisplay } from './progress-display.js';
