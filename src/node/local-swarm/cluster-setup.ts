/**
 * What a local swarm needs on disk before its peers start: the cluster (a CA, the replication
 * mode, the API keys) and each peer's identity, issued by that CA. A directory that already
 * holds them is reused as it is, so a swarm started again on the same directory carries on
 * with the same peers and data.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { addApiKey, readApiKeys, writeApiKeys } from '../api-keys-file.js';
import { replicationDefaults, writeReplicationFile, type ReplicationMode } from '../replication-file.js';
import { clusterPaths, identityPaths, initCluster, issuePeerCertificate, loadIdentity } from '../../p2p/identity/index.js';

/** The name of the API key a local swarm makes (and finds again on a later start). */
export const localKeyName = 'local';

/** Creates the cluster unless `clusterDir` holds one already; returns the API key to use, or undefined when the API is open. */
export async function prepareCluster(clusterDir: string, options: { replication: ReplicationMode; open: boolean; apiKeyLimits?: { requestsPerMinute?: number; tokensPerMinute?: number } }): Promise<string | undefined> {
  if (existsSync(clusterPaths(clusterDir).key)) {
    const keys = readApiKeys(clusterDir);
    return keys?.keys.find((entry) => entry.name === localKeyName)?.key;
  }
  mkdirSync(clusterDir, { recursive: true });
  await initCluster(clusterDir, { name: 'nines-local' });
  writeReplicationFile(clusterDir, { ...replicationDefaults, mode: options.replication });
  if (options.open) {
    writeApiKeys(clusterDir, { open: true, keys: [] });
    return undefined;
  }
  return addApiKey(clusterDir, localKeyName, 'normal', options.apiKeyLimits);
}

/** The node ID of the peer whose data lives in `dataDir`, issuing it a certificate first when it has none. */
export async function peerIdentity(clusterDir: string, dataDir: string): Promise<string> {
  const identity = existsSync(identityPaths(dataDir).certificate) ? loadIdentity(dataDir) : await issuePeerCertificate(clusterDir, dataDir);
  return identity.nodeId;
}

/**
 * `count` distinct free loopback ports, asked of the operating system: all are held open
 * together (so they differ) and released just before the peers bind them.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<Server>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
