/**
 * Seeding: a peer that holds a model file serves it to others in verified chunks. The
 * manifest is computed once, by streaming the file; the seeder then answers `model.manifest`
 * and `model.chunk`, and publishes a DHT provider record under `modelFileKey(name)` so that
 * fetchers find it, republished periodically (sooner while no peer has stored it yet, which
 * is the case until the DHT has joined).
 *
 * At most `uploadsInFlightMax` chunks are read and sent at once; a request beyond that is
 * answered busy at once, so a popular seeder never queues more than it can send and a
 * fetcher turns to another provider instead of waiting.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { RpcHandlerError, type Logger, type Transport } from '../../net/index.js';
import type { DhtShell } from '../../p2p/dht/index.js';
import { chunkBytesDefault, modelChunkMethod, modelManifestMethod, seederPublishRetryMsMin, seederRepublishMsDefault, uploadsInFlightMax } from './constants.js';
import { checkModelName, chunkSpan, manifestId, modelFileKey, type Manifest } from './manifest.js';
import { manifestOfFile, readChunk } from './model-files.js';
import { chunkRequestProblem, manifestRequestProblem, seederErrorCodes, type ChunkRequest, type ManifestRequest } from './protocol.js';

export interface ModelSeederParts {
  transport: Transport;
  dht: Pick<DhtShell, 'provide'>;
  logger: Logger;
  /** The model file to seed. */
  path: string;
  /** The model's name: what fetchers ask for and the DHT key is made of. */
  name: string;
  chunkBytes?: number;
  republishMs?: number;
  uploadsInFlightMax?: number;
  /** The manifest, when the caller has it already (a file it has just fetched and verified). */
  manifest?: Manifest;
}

export interface SeederStatus {
  name: string;
  manifestId: string;
  fileBytes: number;
  chunks: number;
  uploadsInFlight: number;
  chunksServed: number;
  busyRefusals: number;
  published: boolean;
}

export class ModelSeeder {
  readonly manifest: Manifest;
  readonly manifestId: string;
  private uploadsInFlight = 0;
  private chunksServed = 0;
  private busyRefusals = 0;
  private published = false;
  private publishRetryMs = seederPublishRetryMsMin;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  private constructor(
    private readonly parts: ModelSeederParts,
    manifest: Manifest,
    private readonly handle: FileHandle,
  ) {
    this.manifest = manifest;
    this.manifestId = manifestId(manifest);
  }

  /** Computes the manifest (unless given), opens the file and registers the RPC handlers; then publishes the record (in the background). */
  static async start(parts: ModelSeederParts): Promise<ModelSeeder> {
    checkModelName(parts.name);
    const manifest = parts.manifest ?? (await manifestOfFile(parts.path, parts.name, parts.chunkBytes ?? chunkBytesDefault));
    const handle = await open(parts.path, 'r');
    const seeder = new ModelSeeder(parts, manifest, handle);
    parts.transport.handle(modelManifestMethod, (body) => seeder.answerManifest(body));
    parts.transport.handle(modelChunkMethod, (body) => seeder.answerChunk(body));
    parts.logger.info({ model: parts.name, manifestId: seeder.manifestId, fileBytes: manifest.fileBytes, chunks: manifest.chunkHashes.length }, 'seeding the model file');
    void seeder.publish();
    return seeder;
  }

  /** Publishes the provider record now; resolves with whether any peer stored it. */
  async publish(): Promise<boolean> {
    clearTimeout(this.timer);
    if (this.stopped) return false;
    let stored = false;
    try {
      stored = (await this.parts.dht.provide(modelFileKey(this.parts.name))).ok;
    } catch (error) {
      this.parts.logger.warn({ model: this.parts.name, error: (error as Error).message }, 'could not publish the model file provider record');
    }
    if (this.stopped) return stored;
    const republishMs = this.parts.republishMs ?? seederRepublishMsDefault;
    if (stored && !this.published) this.parts.logger.info({ model: this.parts.name }, 'published the model file provider record');
    this.published ||= stored;
    // Until some peer has stored the record, try again soon, backing off; after that, at the republish interval.
    const nextMs = stored ? republishMs : Math.min(this.publishRetryMs, republishMs);
    this.publishRetryMs = stored ? seederPublishRetryMsMin : Math.min(this.publishRetryMs * 2, republishMs);
    this.timer = setTimeout(() => void this.publish(), nextMs);
    this.timer.unref();
    return stored;
  }

  status(): SeederStatus {
    return {
      name: this.parts.name, manifestId: this.manifestId, fileBytes: this.manifest.fileBytes, chunks: this.manifest.chunkHashes.length,
      uploadsInFlight: this.uploadsInFlight, chunksServed: this.chunksServed, busyRefusals: this.busyRefusals, published: this.published,
    };
  }

  /** Stops republishing and closes the file; the transport's handlers answer MODEL_NOT_SEEDED from now on. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.handle.close();
  }

  private answerManifest(body: unknown): { manifest: Manifest } {
    const problem = manifestRequestProblem(body);
    if (problem !== undefined) throw new RpcHandlerError(seederErrorCodes.requestInvalid, problem);
    const { name } = body as ManifestRequest;
    if (this.stopped || name !== this.parts.name) throw new RpcHandlerError(seederErrorCodes.notSeeded, `this peer does not seed ${name}${this.stopped ? '' : ` (it seeds ${this.parts.name})`}`);
    return { manifest: this.manifest };
  }

  private async answerChunk(body: unknown): Promise<{ bytes: Uint8Array }> {
    const problem = chunkRequestProblem(body);
    if (problem !== undefined) throw new RpcHandlerError(seederErrorCodes.requestInvalid, problem);
    const { manifestId: wanted, index } = body as ChunkRequest;
    if (this.stopped || wanted !== this.manifestId) throw new RpcHandlerError(seederErrorCodes.notSeeded, `this peer does not seed the file with manifest ${wanted}`);
    if (index >= this.manifest.chunkHashes.length) throw new RpcHandlerError(seederErrorCodes.requestInvalid, `index ${index} is beyond the file's ${this.manifest.chunkHashes.length} chunks`);
    if (this.uploadsInFlight >= (this.parts.uploadsInFlightMax ?? uploadsInFlightMax)) {
      this.busyRefusals++;
      throw new RpcHandlerError(seederErrorCodes.busy, `${this.uploadsInFlight} chunk uploads are in flight already; ask another provider or try again shortly`);
    }
    this.uploadsInFlight++;
    try {
      const bytes = await this.read(index);
      this.chunksServed++;
      return { bytes };
    } finally {
      this.uploadsInFlight--;
    }
  }

  private async read(index: number): Promise<Uint8Array> {
    try {
      const bytes = await readChunk(this.handle, this.manifest, index);
      if (bytes.byteLength !== chunkSpan(this.manifest, index).bytes) throw new Error('the file is shorter than when it was hashed');
      return bytes;
    } catch (error) {
      this.parts.logger.error({ model: this.parts.name, index, error: (error as Error).message }, 'could not read a chunk of the seeded model file');
      throw new RpcHandlerError(seederErrorCodes.readFailed, `could not read chunk ${index}: ${(error as Error).message}`);
    }
  }
}
