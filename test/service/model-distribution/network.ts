/**
 * A small swarm in one process for the model-distribution tests: real TLS transports and DHT
 * shells on loopback, every peer joined through the first one, and model files of random bytes.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng.js';
import { Transport } from '../../../src/net/index.js';
import { CertifiedMembers, DhtShell } from '../../../src/p2p/dht/index.js';
import { authenticatePeerCertificate } from '../../../src/p2p/identity/index.js';
import { makeCluster, makePeer, memoryLogger, temporaryDirectory } from '../../net/helpers.js';

export interface TestPeer {
  nodeId: string;
  transport: Transport;
  dht: DhtShell;
  logger: ReturnType<typeof memoryLogger>;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startPeers(count: number, seed: number): Promise<TestPeer[]> {
  const clusterDir = await makeCluster('model-distribution');
  const identities = await Promise.all(Array.from({ length: count }, () => makePeer(clusterDir)));
  const peers = await Promise.all(
    identities.map(async (identity, index): Promise<TestPeer> => {
      const logger = memoryLogger();
      const members = new CertifiedMembers(1_000);
      members.add(identity.nodeId);
      const transport = new Transport({
        identity,
        logger,
        authenticatePeer: (certificate) => {
          const authentication = authenticatePeerCertificate(certificate);
          if (authentication.ok) members.add(authentication.nodeId);
          return authentication;
        },
      });
      const bound = await transport.listen('127.0.0.1', 0);
      const dht = new DhtShell({ transport, self: { nodeId: identity.nodeId, host: '127.0.0.1', port: bound.port }, keyPem: identity.keyPem, members, rng: new Rng(seed + index), logger });
      dht.start();
      let stopped: Promise<void> | undefined;
      const stop = () => (stopped ??= (async () => {
        dht.stop();
        await transport.close();
      })());
      return { nodeId: identity.nodeId, transport, dht, logger, dataDir: temporaryDirectory('nines-model-peer-'), stop };
    }),
  );
  for (const peer of peers.slice(1)) {
    const joined = await peer.dht.join([peers[0].dht.self]);
    if (!joined.ok) throw new Error(`peer ${peer.nodeId} could not join the test swarm`);
  }
  return peers;
}

/** A file of `bytes` random bytes in a fresh directory. */
export function writeRandomFile(bytes: number, name = 'model.gguf'): { path: string; bytes: Uint8Array } {
  const content = randomBytes(bytes);
  const path = join(temporaryDirectory('nines-model-file-'), name);
  writeFileSync(path, content);
  return { path, bytes: content };
}
