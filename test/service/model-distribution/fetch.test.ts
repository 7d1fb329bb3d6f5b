import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RpcRemoteError } from '../../../src/net/index.js';
import {
  buildManifest,
  fetchModel,
  manifestId,
  modelChunkMethod,
  modelManifestMethod,
  ModelProvidersNotFoundError,
  modelPaths,
  ModelSeeder,
  settleModelFile,
  type FetchProgress,
  type Manifest,
} from '../../../src/service/model-distribution/index.js';
import { removeTemporaryDirectories } from '../../net/helpers.js';
import { startPeers, writeRandomFile, type TestPeer } from './network.js';

/** Small chunks keep the files small while a download still has dozens of chunks to spread. */
const chunkBytes = 64 * 1024;
const fileBytes = 40 * chunkBytes + 1234;
const seeders: ModelSeeder[] = [];
let peers: TestPeer[];

async function seed(peer: TestPeer, path: string, name: string, manifest?: Manifest, uploadsInFlightMax?: number): Promise<ModelSeeder> {
  const seeder = await ModelSeeder.start({ transport: peer.transport, dht: peer.dht, logger: peer.logger, path, name, chunkBytes, manifest, uploadsInFlightMax });
  seeders.push(seeder);
  expect(await seeder.publish()).toBe(true);
  return seeder;
}

function fetchInto(peer: TestPeer, name: string, onProgress?: (progress: FetchProgress) => void) {
  return fetchModel({ transport: peer.transport, dht: peer.dht, logger: peer.logger, name, dataDir: peer.dataDir, onProgress, limits: { fetchProvidersWaitMs: 5_000 } });
}

/** Whether the file holds exactly `bytes` (vitest's deep equality walks megabytes element by element, far too slowly). */
const sameBytes = (path: string, bytes: Uint8Array) => readFileSync(path).equals(bytes);

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((total, count) => total + count, 0);

beforeAll(async () => {
  peers = await startPeers(15, 100);
}, 60_000);

afterAll(async () => {
  for (const seeder of seeders) await seeder.stop();
  await Promise.all(peers.map((peer) => peer.stop()));
  removeTemporaryDirectories();
});

describe('model distribution between peers over TLS and the DHT', () => {
  let alpha: { path: string; bytes: Uint8Array };

  it('fetches a file from three seeders, byte for byte, with chunks from more than one of them', async () => {
    alpha = writeRandomFile(fileBytes);
    for (const peer of peers.slice(1, 4)) await seed(peer, alpha.path, 'alpha');
    const progress: FetchProgress[] = [];
    const fetcher = peers[4];
    const result = await fetchInto(fetcher, 'alpha', (update) => progress.push(update));
    expect(sameBytes(result.path, alpha.bytes)).toBe(true);
    expect(result.path).toBe(modelPaths(fetcher.dataDir, 'alpha').file);
    expect(existsSync(modelPaths(fetcher.dataDir, 'alpha').partial)).toBe(false);
    expect(result.manifestId).toBe(manifestId(buildManifest('alpha', alpha.bytes, chunkBytes)));
    expect(Object.keys(result.chunksByProvider).length).toBeGreaterThan(1);
    expect(sum(result.chunksByProvider)).toBe(41);
    expect(progress.at(-1)).toEqual({ chunksDone: 41, chunksTotal: 41, bytesDone: fileBytes, bytesTotal: fileBytes, providers: 3 });
    expect(progress.map((update) => update.bytesDone)).toEqual([...progress.map((update) => update.bytesDone)].sort((a, b) => a - b));
  });

  it('refetches the chunks one seeder sends corrupted from the others, and the file is still identical', async () => {
    const beta = writeRandomFile(fileBytes);
    const manifest = buildManifest('beta', beta.bytes, chunkBytes);
    // The third seeder's disk has rotted: every other chunk has a flipped bit, but it serves the true manifest.
    const rotten = Buffer.from(beta.bytes);
    for (let index = 0; index < 41; index += 2) rotten[index * chunkBytes + 7] ^= 0x10;
    const rottenPath = join(peers[0].dataDir, 'rotten.gguf');
    writeFileSync(rottenPath, rotten);
    await seed(peers[5], beta.path, 'beta');
    await seed(peers[6], beta.path, 'beta');
    const bad = await seed(peers[7], rottenPath, 'beta', manifest);
    expect(bad.manifestId).toBe(manifestId(manifest));
    const fetcher = peers[8];
    const result = await fetchInto(fetcher, 'beta');
    expect(sameBytes(result.path, beta.bytes)).toBe(true);
    expect(result.corruptChunks).toBeGreaterThan(0);
    // The rotten seeder is dropped after three bad chunks; what it did deliver was intact.
    expect(result.corruptChunks).toBeLessThanOrEqual(3);
    expect(fetcher.logger.records.some((record) => record.message === 'a chunk did not match its hash; asking another provider' && record.fields.provider === peers[7].nodeId)).toBe(true);
    expect(sum(result.chunksByProvider)).toBe(41);
  });

  it('finishes from the others when a provider is killed mid-download', async () => {
    const gamma = writeRandomFile(fileBytes);
    for (const peer of peers.slice(9, 12)) await seed(peer, gamma.path, 'gamma');
    const victim = peers[11];
    const fetcher = peers[12];
    let killed: Promise<void> | undefined;
    const result = await fetchInto(fetcher, 'gamma', (progress) => {
      if (killed === undefined && progress.chunksDone >= 10) killed = victim.stop();
    });
    await killed;
    expect(sameBytes(result.path, gamma.bytes)).toBe(true);
    expect(result.chunksByProvider[victim.nodeId] ?? 0).toBeLessThan(41);
    expect(fetcher.logger.records.some((record) => record.message === 'a provider failed; its chunks in flight go to others' && record.fields.provider === victim.nodeId)).toBe(true);
  });

  it('resumes a partial download: the chunks that verify are kept, the rest fetched', async () => {
    const fetcher = peers[0];
    const paths = modelPaths(fetcher.dataDir, 'alpha');
    mkdirSync(paths.directory, { recursive: true });
    // An interrupted earlier try: the first 25 chunks written, two of them torn.
    const partial = Buffer.from(alpha.bytes.subarray(0, 25 * chunkBytes));
    partial[3 * chunkBytes] ^= 1;
    partial.fill(0, 10 * chunkBytes, 11 * chunkBytes);
    writeFileSync(paths.partial, partial);
    const result = await fetchInto(fetcher, 'alpha');
    expect(result.chunksResumed).toBe(23);
    expect(sum(result.chunksByProvider)).toBe(41 - 23);
    expect(sameBytes(result.path, alpha.bytes)).toBe(true);
  });

  it('settles a node\'s model file: a verified file is used as it is, a damaged one refetched keeping its good chunks', async () => {
    const node = peers[4];
    const parts = { transport: node.transport, dht: node.dht, logger: node.logger, dataDir: node.dataDir, fetchName: 'alpha', seed: false };
    const first = await settleModelFile(parts);
    expect(first.path).toBe(modelPaths(node.dataDir, 'alpha').file);
    expect(node.logger.records.at(-1)?.message).toBe('the model file is here and verifies against its manifest');
    const damaged = readFileSync(first.path!);
    damaged[5 * chunkBytes + 3] ^= 0xff;
    writeFileSync(first.path!, damaged);
    const second = await settleModelFile(parts);
    expect(sameBytes(second.path!, alpha.bytes)).toBe(true);
    expect(node.logger.records.find((record) => record.message.startsWith('resuming the download'))?.fields.chunksResumed).toBe(40);
  });

  it('seeds what it fetched: a node that settles with seed on answers for the file', async () => {
    const node = peers[8];
    const settled = await settleModelFile({ transport: node.transport, dht: node.dht, logger: node.logger, dataDir: node.dataDir, fetchName: 'beta', seed: true });
    seeders.push(settled.seeder!);
    expect(settled.status().seeding).toMatchObject({ name: 'beta', chunks: 41 });
    const answer = (await peers[0].transport.request({ ...node.dht.self }, modelManifestMethod, { name: 'beta' })) as { manifest: Manifest };
    expect(manifestId(answer.manifest)).toBe(settled.seeder!.manifestId);
  });

  it('refuses malformed requests and answers busy beyond its upload limit', async () => {
    const seeder = peers[1];
    const address = { ...seeder.dht.self };
    const asker = peers[2].transport;
    const remoteCode = (promise: Promise<unknown>) => promise.then(() => 'ok', (error: unknown) => (error as RpcRemoteError).remoteCode);
    expect(await remoteCode(asker.request(address, modelManifestMethod, { name: '../secret' }))).toBe('MODEL_REQUEST_INVALID');
    expect(await remoteCode(asker.request(address, modelManifestMethod, { name: 'other' }))).toBe('MODEL_NOT_SEEDED');
    const id = seeders[0].manifestId;
    expect(await remoteCode(asker.request(address, modelChunkMethod, { manifestId: 'zz', index: 0 }))).toBe('MODEL_REQUEST_INVALID');
    expect(await remoteCode(asker.request(address, modelChunkMethod, { manifestId: id, index: -1 }))).toBe('MODEL_REQUEST_INVALID');
    expect(await remoteCode(asker.request(address, modelChunkMethod, { manifestId: id, index: 41 }))).toBe('MODEL_REQUEST_INVALID');
    expect(await remoteCode(asker.request(address, modelChunkMethod, { manifestId: 'a'.repeat(64), index: 0 }))).toBe('MODEL_NOT_SEEDED');
    // A seeder allowing one upload at a time answers a burst with some chunks and some busy refusals, never a queue.
    const delta = writeRandomFile(8 * chunkBytes);
    const narrow = await seed(peers[13], delta.path, 'delta', undefined, 1);
    const burst = await Promise.all(Array.from({ length: 8 }, (_, index) => remoteCode(peers[14].transport.request({ ...peers[13].dht.self }, modelChunkMethod, { manifestId: narrow.manifestId, index }))));
    expect(burst).toContain('ok');
    expect(burst).toContain('MODEL_SEEDER_BUSY');
    expect(narrow.status().busyRefusals).toBe(burst.filter((code) => code === 'MODEL_SEEDER_BUSY').length);
    // A fetch from that seeder alone still completes: busy answers make it wait briefly and ask again.
    const result = await fetchInto(peers[14], 'delta');
    expect(sameBytes(result.path, delta.bytes)).toBe(true);
  });

  it('gives up with a clear error when no peer provides the model', async () => {
    const error = await fetchModel({ transport: peers[0].transport, dht: peers[0].dht, logger: peers[0].logger, name: 'nobody-has-it', dataDir: peers[0].dataDir, limits: { fetchProvidersWaitMs: 600 } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelProvidersNotFoundError);
    expect((error as Error).message).toMatch(/no peer provided the model file nobody-has-it within 600 ms \(the DHT knows no provider\)\. Start a peer that holds it/);
  });
});
