/**
 * Fetching: a peer that lacks a model finds the peers that hold it in the DHT, agrees with
 * them on a manifest (the one most of them serve), and downloads the chunks from several of
 * them at once, checking each chunk's hash before it is written at its offset into
 * `<name>.gguf.partial`. Which chunk goes to which provider, and what happens when one sends
 * bad bytes or fails, is chunk-scheduler.ts; this file does the network and the disk.
 *
 * Resuming: chunks already in the partial file whose hashes verify are kept, so a fetch that
 * was interrupted (a crash, a kill, a lost network) goes on where it stopped. At the end the
 * file is fsynced, its manifest written next to it, and it is renamed to `<name>.gguf`.
 */
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { RpcRemoteError, type Logger, type PeerAddress, type Transport } from '../../net/index.js';
import type { DhtShell } from '../../p2p/dht/index.js';
import type { Contact } from '../../p2p/kademlia/index.js';
import { ChunkScheduler, schedulerLimitsDefault, type Assignment, type SchedulerLimits } from './chunk-scheduler.js';
import { chunkRequestTimeoutMsDefault, fetchProvidersWaitMsDefault, fetchStallMsMax, modelChunkMethod, providersRefreshMs } from './constants.js';
import { ModelFetchFailedError } from './errors.js';
import { checkModelName, chunkMatches, chunkSpan, manifestId, type Manifest } from './manifest.js';
import { modelPaths, syncDirectory, verifiedChunks, writeManifestFile } from './model-files.js';
import { chunkResponseBytes, seederErrorCodes } from './protocol.js';
import { agreeOnManifest, findProviders, manifestOf } from './providers.js';

export interface FetchProgress {
  chunksDone: number;
  chunksTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Providers in use (not dropped for bad chunks). */
  providers: number;
}

export interface FetchLimits extends SchedulerLimits {
  fetchProvidersWaitMs: number;
  chunkRequestTimeoutMs: number;
  fetchStallMsMax: number;
  providersRefreshMs: number;
}

export interface FetchModelParts {
  transport: Transport;
  dht: Pick<DhtShell, 'findProviders'>;
  logger: Logger;
  name: string;
  dataDir: string;
  onProgress?: (progress: FetchProgress) => void;
  limits?: Partial<FetchLimits>;
  /** Stops the fetch: it rejects, and the partial file stays for the next try. */
  signal?: AbortSignal;
}

export interface FetchResult {
  path: string;
  manifestId: string;
  manifest: Manifest;
  /** Chunks found intact in the partial file of an earlier try. */
  chunksResumed: number;
  /** Verified chunks each provider delivered in this try, by node ID. */
  chunksByProvider: Record<string, number>;
  /** Chunks that arrived with bytes that did not match their hash. */
  corruptChunks: number;
}

/** Downloads the model `name` into `<dataDir>/models/<name>.gguf` from the peers that seed it. */
export async function fetchModel(parts: FetchModelParts): Promise<FetchResult> {
  const { logger, name } = parts;
  checkModelName(name);
  const limits: FetchLimits = { ...schedulerLimitsDefault, fetchProvidersWaitMs: fetchProvidersWaitMsDefault, chunkRequestTimeoutMs: chunkRequestTimeoutMsDefault, fetchStallMsMax, providersRefreshMs, ...parts.limits };
  const paths = modelPaths(parts.dataDir, name);
  await mkdir(paths.directory, { recursive: true });
  const found = await agreeOnManifest({ ...parts, waitMs: limits.fetchProvidersWaitMs });
  const id = manifestId(found.manifest);
  logger.info({ model: name, manifestId: id, fileBytes: found.manifest.fileBytes, chunks: found.manifest.chunkHashes.length, providers: found.providers.length }, 'fetching the model file from peers');
  const handle = await openPartial(paths.partial);
  try {
    const done = await verifiedChunks(handle, found.manifest);
    const chunksResumed = done.filter(Boolean).length;
    if (chunksResumed > 0) logger.info({ model: name, chunksResumed, chunks: done.length }, 'resuming the download: chunks already in the partial file verify and are kept');
    await handle.truncate(found.manifest.fileBytes);
    const download = new Download(parts, limits, found.manifest, id, handle, done);
    for (const provider of found.providers) download.addProvider(provider);
    await download.run();
    await handle.sync();
    await handle.close();
    await writeManifestFile(paths.manifest, found.manifest);
    await rename(paths.partial, paths.file);
    await syncDirectory(paths.directory);
    logger.info({ model: name, path: paths.file, manifestId: id, chunksResumed, corruptChunks: download.corruptChunks, chunksByProvider: download.chunksByProvider() }, 'fetched the model file; every chunk verified');
    return { path: paths.file, manifestId: id, manifest: found.manifest, chunksResumed, chunksByProvider: download.chunksByProvider(), corruptChunks: download.corruptChunks };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The partial file, opened for reading and writing at any offset: the one an earlier try left, or a new one. */
async function openPartial(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return open(path, 'w+');
  }
}

/** One download in progress: the scheduler driven over the transport, chunks written as they verify. */
class Download {
  corruptChunks = 0;
  private readonly scheduler: ChunkScheduler;
  private readonly contacts = new Map<string, Contact>();
  private readonly aborts = new Map<number, AbortController>();
  private readonly writes = new Set<Promise<void>>();
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private lastProgressMs = Date.now();
  private lastRefreshMs = Date.now();
  private refreshing: Promise<void> | undefined;
  /** Chunks on disk and verified, and their bytes: what progress reports (the scheduler counts a chunk done before its write ends). */
  private chunksWritten: number;
  private bytesDone: number;
  /** Set once run() returns: requests still settling after that change nothing. */
  private closed = false;

  constructor(
    private readonly parts: FetchModelParts,
    private readonly limits: FetchLimits,
    private readonly manifest: Manifest,
    private readonly id: string,
    private readonly handle: FileHandle,
    done: boolean[],
  ) {
    this.scheduler = new ChunkScheduler(done, limits);
    this.chunksWritten = this.scheduler.chunksDone;
    this.bytesDone = done.reduce((sum, isDone, index) => sum + (isDone ? chunkSpan(manifest, index).bytes : 0), 0);
  }

  addProvider(contact: Contact): void {
    this.contacts.set(contact.nodeId, contact);
    this.scheduler.addProvider(contact.nodeId);
  }

  chunksByProvider(): Record<string, number> {
    return Object.fromEntries([...this.scheduler.deliveredByProvider()].filter(([, count]) => count > 0));
  }

  async run(): Promise<void> {
    const onAbort = () => this.fail(new ModelFetchFailedError(`the fetch of ${this.parts.name} was stopped; the partial file is kept and the next try resumes it`));
    this.parts.signal?.addEventListener('abort', onAbort);
    try {
      this.report();
      while (!this.scheduler.complete && this.failure === undefined) {
        const now = Date.now();
        for (const assignment of this.scheduler.next(now)) void this.request(assignment);
        if (now - this.lastRefreshMs >= this.limits.providersRefreshMs) this.refreshProviders();
        const { wakeAtMs, reason } = this.scheduler.blocked(now);
        if (reason !== undefined) this.refreshProviders();
        if (now - this.lastProgressMs > this.limits.fetchStallMsMax) {
          this.fail(new ModelFetchFailedError(`no chunk of ${this.parts.name} arrived intact for ${this.limits.fetchStallMsMax} ms${reason === undefined ? '' : ` (${reason})`}; the partial file is kept and the next try resumes it`));
          break;
        }
        await this.sleep(wakeAtMs === undefined ? (reason === undefined ? this.limits.providersRefreshMs : 500) : Math.max(1, wakeAtMs - now));
      }
      await Promise.all(this.writes);
      if (this.failure !== undefined) throw this.failure;
    } finally {
      this.parts.signal?.removeEventListener('abort', onAbort);
      this.closed = true;
      for (const controller of this.aborts.values()) controller.abort();
    }
  }

  private async request(assignment: Assignment): Promise<void> {
    const contact = this.contacts.get(assignment.provider)!;
    const controller = new AbortController();
    this.aborts.set(assignment.request, controller);
    let bytes: Uint8Array | undefined;
    let error: unknown;
    try {
      const address: PeerAddress = { host: contact.host, port: contact.port, nodeId: contact.nodeId };
      bytes = chunkResponseBytes(await this.parts.transport.request(address, modelChunkMethod, { manifestId: this.id, index: assignment.index }, { timeoutMs: this.limits.chunkRequestTimeoutMs, signal: controller.signal }));
    } catch (caught) {
      error = caught;
    } finally {
      this.aborts.delete(assignment.request);
    }
    if (error === undefined && bytes !== undefined && chunkMatches(this.manifest, assignment.index, bytes)) this.accept(assignment, bytes);
    else if (error === undefined) this.reject(assignment, bytes);
    else this.failed(assignment, error, controller.signal.aborted);
    this.wake?.();
  }

  private accept(assignment: Assignment, bytes: Uint8Array): void {
    if (!this.scheduler.delivered(assignment.request) || this.closed) return;
    this.lastProgressMs = Date.now();
    const write = this.handle.write(bytes, 0, bytes.byteLength, chunkSpan(this.manifest, assignment.index).offset).then(
      () => {
        this.chunksWritten++;
        this.bytesDone += bytes.byteLength;
        this.report();
      },
      (error: Error) => this.fail(new ModelFetchFailedError(`cannot write chunk ${assignment.index} of ${this.parts.name}: ${error.message}`)),
    );
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }

  private reject(assignment: Assignment, bytes: Uint8Array | undefined): void {
    this.corruptChunks++;
    const dropped = this.scheduler.corrupt(assignment.request);
    this.parts.logger.warn({ model: this.parts.name, index: assignment.index, provider: assignment.provider, bytes: bytes?.byteLength ?? null }, 'a chunk did not match its hash; asking another provider');
    if (dropped) {
      this.parts.logger.warn({ model: this.parts.name, provider: assignment.provider, corruptChunksMax: this.limits.corruptChunksPerProviderMax }, 'dropped a provider that sent too many bad chunks');
      this.abortRequestsOf(assignment.provider);
    }
  }

  private failed(assignment: Assignment, error: unknown, cancelled: boolean): void {
    // A request this download aborted itself (its provider failed, or the download ended) says nothing new about the provider.
    if (cancelled || this.closed) return this.scheduler.failed(assignment.request, Date.now(), 'cancelled');
    const busy = error instanceof RpcRemoteError && error.remoteCode === seederErrorCodes.busy;
    this.scheduler.failed(assignment.request, Date.now(), busy ? 'busy' : 'error');
    if (busy) return;
    this.parts.logger.warn({ model: this.parts.name, index: assignment.index, provider: assignment.provider, error: (error as Error).message }, 'a provider failed; its chunks in flight go to others');
    this.abortRequestsOf(assignment.provider);
  }

  private abortRequestsOf(provider: string): void {
    for (const request of this.scheduler.requestsOf(provider)) this.aborts.get(request)?.abort();
  }

  /** Looks for providers that appeared since (or came back), in the background; only those serving the same manifest are used. */
  private refreshProviders(): void {
    if (this.refreshing !== undefined) return;
    this.lastRefreshMs = Date.now();
    this.refreshing = (async () => {
      const contacts = await findProviders(this.parts).catch(() => []);
      const fresh = contacts.filter((contact) => !this.scheduler.hasProvider(contact.nodeId));
      const manifests = await Promise.all(fresh.map((contact) => manifestOf(this.parts, contact)));
      fresh.forEach((contact, index) => {
        const manifest = manifests[index];
        if (manifest !== undefined && manifestId(manifest) === this.id) this.addProvider(contact);
      });
    })().finally(() => {
      this.refreshing = undefined;
      this.wake?.();
    });
  }

  private report(): void {
    this.parts.onProgress?.({ chunksDone: this.chunksWritten, chunksTotal: this.scheduler.chunksTotal, bytesDone: this.bytesDone, bytesTotal: this.manifest.fileBytes, providers: this.scheduler.providersActive });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}
