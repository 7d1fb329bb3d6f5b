/**
 * What a starting node does about its model file (`nines node --compute --fetch-model <name>`):
 *
 * 1. With a name to fetch: if `<dataDir>/models/<name>.gguf` is there and still matches the
 *    manifest stored next to it, it is used as it is, without asking anyone. A file that does
 *    not verify becomes the partial file of a new download, which keeps its intact chunks.
 *    Otherwise the file is fetched from the peers that seed it.
 * 2. A compute peer seeds the model file it serves (fetched, given with --model, or the
 *    built-in one): every peer that has the model helps the next one get it.
 *
 * The node then serves the settled path as its model.
 */
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { defaultModelPath } from '../../model/load-file.js';
import type { Logger, Transport } from '../../net/index.js';
import type { DhtShell } from '../../p2p/dht/index.js';
import { fetchModel, type FetchLimits, type FetchProgress } from './fetcher.js';
import { checkModelName, manifestId, type Manifest } from './manifest.js';
import { manifestOfFile, modelNameOfFile, modelPaths, readManifestFile } from './model-files.js';
import { ModelSeeder, type SeederStatus } from './seeder.js';

export interface SettleModelFileParts {
  transport: Transport;
  dht: Pick<DhtShell, 'findProviders' | 'provide'>;
  logger: Logger;
  dataDir: string;
  /** The model to have in `<dataDir>/models/`, fetched from peers if it is missing. */
  fetchName?: string;
  /** The model file this peer holds already, when it fetches none (default: the built-in model). */
  modelPath?: string;
  /** Whether this peer seeds its model file (compute peers do). */
  seed: boolean;
  onProgress?: (progress: FetchProgress) => void;
  fetchLimits?: Partial<FetchLimits>;
  seederRepublishMs?: number;
}

export interface SettledModelFile {
  /** The fetched (or already present and verified) model file; undefined when nothing was to be fetched. */
  readonly path: string | undefined;
  readonly seeder: ModelSeeder | undefined;
  status(): { fetched: string | null; seeding: SeederStatus | null };
  stop(): Promise<void>;
}

/** Progress is logged at every tenth of the file, so a log shows a download's pace without a line per chunk. */
const progressLogSteps = 10;

export async function settleModelFile(parts: SettleModelFileParts): Promise<SettledModelFile> {
  const fetched = parts.fetchName === undefined ? undefined : await haveModelFile(parts, checkModelName(parts.fetchName));
  let seeder: ModelSeeder | undefined;
  if (parts.seed) {
    const path = fetched?.path ?? parts.modelPath ?? defaultModelPath;
    const name = parts.fetchName ?? modelNameOfFile(path);
    if (name === undefined) {
      parts.logger.warn({ path }, 'not seeding the model file: it has no general.name that can name it (letters, digits, ".", "_", "-")');
    } else {
      seeder = await ModelSeeder.start({ transport: parts.transport, dht: parts.dht, logger: parts.logger, path, name, manifest: fetched?.manifest, republishMs: parts.seederRepublishMs }).catch((error: Error) => {
        parts.logger.warn({ path, error: error.message }, 'not seeding the model file');
        return undefined;
      });
    }
  }
  return {
    path: fetched?.path,
    seeder,
    status: () => ({ fetched: fetched?.path ?? null, seeding: seeder?.status() ?? null }),
    stop: async () => seeder?.stop(),
  };
}

/** The verified model file `name` in the data directory: the one already there if it verifies, otherwise fetched. */
async function haveModelFile(parts: SettleModelFileParts, name: string): Promise<{ path: string; manifest: Manifest }> {
  const paths = modelPaths(parts.dataDir, name);
  if (existsSync(paths.file)) {
    const stored = await readManifestFile(paths.manifest);
    const actual = stored === undefined || stored.name !== name ? undefined : await manifestOfFile(paths.file, name, stored.chunkBytes).catch(() => undefined);
    if (stored !== undefined && actual !== undefined && manifestId(actual) === manifestId(stored)) {
      parts.logger.info({ model: name, path: paths.file, manifestId: manifestId(stored) }, 'the model file is here and verifies against its manifest');
      return { path: paths.file, manifest: stored };
    }
    parts.logger.warn({ model: name, path: paths.file }, 'the model file does not verify against a stored manifest; fetching it again, keeping the chunks that verify');
    await rename(paths.file, paths.partial);
  }
  let loggedStep = -1;
  const result = await fetchModel({
    transport: parts.transport, dht: parts.dht, logger: parts.logger, name, dataDir: parts.dataDir, limits: parts.fetchLimits,
    onProgress: (progress) => {
      parts.onProgress?.(progress);
      const step = progress.bytesTotal === 0 ? progressLogSteps : Math.floor((progress.bytesDone / progress.bytesTotal) * progressLogSteps);
      if (step === loggedStep) return;
      loggedStep = step;
      parts.logger.info({ model: name, ...progress }, 'fetching the model file');
    },
  });
  return { path: result.path, manifest: result.manifest };
}
