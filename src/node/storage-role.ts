/**
 * The storage role of a node in single-leader mode: its Raft peer (the binlog in
 * `<data dir>/raft.sqlite`, replicated over the node's TLS transport) and the HTTP API that
 * clients read and write the key-value store through.
 *
 * A cluster is founded by naming its voters, each as host:port#nodeid (`--voters`), the same
 * list on every founder; the founders compute the same first log entry from it. A node
 * whose database already holds a log ignores the list and carries on from its disk.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { Rng } from '../core/rng.js';
import type { Logger, PeerAddress, Transport } from '../net/index.js';
import type { Contact } from '../p2p/identity/index.js';
import type { AckLevel, RaftSettings } from '../replication/leader/index.js';
import { ApiServer } from '../api/server.js';
import { RaftStore, raftDatabaseFileName } from '../storage/index.js';
import { RaftPeer } from './raft/raft-peer.js';
import { NodeConfigError } from './errors.js';

export interface StorageConfig {
  /** Every founding voter, this node included. */
  voters: readonly Contact[];
  /** Where the client API listens (port 0: any free port). */
  api: { host: string; port: number };
  /** Milliseconds per Raft tick: heartbeats and election timeouts are counted in ticks. */
  tickMs: number;
  heartbeatTicks: number;
  electionTicks: number;
  defaultAcks: AckLevel;
}

/** The defaults give a 100 ms heartbeat and a 500-1000 ms election timeout, as etcd's bench layout uses. */
export const storageDefaults = { tickMs: 50, heartbeatTicks: 2, electionTicks: 10, defaultAcks: 'quorum' as AckLevel };

export class StorageRole {
  private constructor(
    readonly peer: RaftPeer,
    readonly api: ApiServer,
  ) {}

  static async start(parts: { nodeId: string; dataDir: string; transport: Transport; logger: Logger; config: StorageConfig }): Promise<StorageRole> {
    const { nodeId, config } = parts;
    if (!config.voters.some((voter) => voter.nodeId === nodeId)) {
      throw new NodeConfigError(`--voters must include this node (${nodeId}); list every founding voter, this one too, as host:port#nodeid`);
    }
    const addresses = new Map<string, PeerAddress>(config.voters.map((voter) => [voter.nodeId, { host: voter.host, port: voter.port, nodeId: voter.nodeId }]));
    const settings: Partial<RaftSettings> = { heartbeatTicks: config.heartbeatTicks, electionTicks: config.electionTicks, defaultAcks: config.defaultAcks };
    const store = RaftStore.open(join(parts.dataDir, raftDatabaseFileName));
    let peer: RaftPeer;
    try {
      peer = new RaftPeer({
        id: nodeId,
        store,
        transport: parts.transport,
        addresses,
        foundingVoters: config.voters.map((voter) => voter.nodeId),
        rng: new Rng(randomInt(2 ** 47)),
        tickMs: config.tickMs,
        settings,
        logger: parts.logger,
      });
    } catch (error) {
      store.close();
      throw error;
    }
    peer.start();
    try {
      const api = await ApiServer.start({ host: config.api.host, port: config.api.port, kv: peer });
      return new StorageRole(peer, api);
    } catch (error) {
      await peer.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.api.close();
    await this.peer.stop();
  }
}
