/**
 * The storage role of a node: its replica of the key-value store, in the cluster's
 * replication mode.
 *
 * - single-leader: a Raft peer (the binlog in `<data dir>/raft.sqlite`). The cluster is founded
 *   by naming its voters (`--voters`), the same list on every founder; the founders compute the
 *   same first log entry from it. A node whose database already holds a log carries on from it.
 * - multi-leader (`multi-leader.sqlite`) and leaderless (`leaderless.sqlite`): `--voters` names
 *   every storage peer, the same list on each.
 *
 * All three travel over the node's TLS transport; clients reach the peer through the node's
 * HTTP API (serving-role.ts), which it backs.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { Rng } from '../core/rng.js';
import type { Logger, PeerAddress, Transport } from '../net/index.js';
import type { Contact } from '../p2p/identity/index.js';
import type { AckLevel, RaftSettings } from '../replication/leader/index.js';
import { LeaderlessStore, MultiLeaderStore, RaftStore, raftDatabaseFileName } from '../storage/index.js';
import { RaftPeer } from './raft/raft-peer.js';
import { LeaderlessPeer } from './replica/leaderless-peer.js';
import { MultiLeaderPeer } from './replica/multi-leader-peer.js';
import { NodeConfigError } from './errors.js';
import { replicationDefaults, type ReplicationConfig } from './replication-file.js';

export interface StorageConfig {
  /** Every founding voter, this node included. */
  voters: readonly Contact[];
  /** Milliseconds per Raft tick: heartbeats and election timeouts are counted in ticks. */
  tickMs: number;
  heartbeatTicks: number;
  electionTicks: number;
  defaultAcks: AckLevel;
  /** The cluster's replication mode (and n, r, w for leaderless); single-leader when absent. */
  replication?: ReplicationConfig;
}

export type StoragePeer = RaftPeer | MultiLeaderPeer | LeaderlessPeer;

interface StartParts {
  nodeId: string;
  dataDir: string;
  transport: Transport;
  logger: Logger;
  config: StorageConfig;
}

/**
 * The defaults give a 100 ms heartbeat and a 300-600 ms election timeout: a dead leader is
 * replaced well within a second (the chaos target for a storage failover is 1 s), while three
 * heartbeats fit in the shortest timeout, so one late heartbeat does not start an election.
 */
export const storageDefaults = { tickMs: 50, heartbeatTicks: 2, electionTicks: 6, defaultAcks: 'quorum' as AckLevel };

export class StorageRole {
  private constructor(readonly peer: StoragePeer) {}

  static start(parts: StartParts): StorageRole {
    const { nodeId, config } = parts;
    if (!config.voters.some((voter) => voter.nodeId === nodeId)) {
      throw new NodeConfigError(`--voters must include this node (${nodeId}); list every founding voter, this one too, as host:port#nodeid`);
    }
    const replication = config.replication ?? replicationDefaults;
    if (replication.mode === 'leaderless' && replication.n > config.voters.length) {
      throw new NodeConfigError(`leaderless replication keeps n=${replication.n} copies of each key but --voters names only ${config.voters.length} storage peers; name at least n`);
    }
    const peer = openPeer(parts, replication);
    peer.start();
    return new StorageRole(peer);
  }

  get mode(): ReplicationConfig['mode'] {
    return this.peer instanceof RaftPeer ? 'single-leader' : this.peer.mode;
  }

  async stop(): Promise<void> {
    await this.peer.stop();
  }
}

function openPeer(parts: StartParts, replication: ReplicationConfig): StoragePeer {
  const { nodeId, config } = parts;
  const addresses = new Map<string, PeerAddress>(config.voters.map((voter) => [voter.nodeId, { host: voter.host, port: voter.port, nodeId: voter.nodeId }]));
  const rng = new Rng(randomInt(2 ** 47));
  const common = { id: nodeId, transport: parts.transport, addresses, rng, tickMs: config.tickMs, logger: parts.logger };
  if (replication.mode === 'multi-leader') return withStore(MultiLeaderStore.open(parts.dataDir), (store) => new MultiLeaderPeer({ ...common, store }));
  if (replication.mode === 'leaderless') {
    const settings = { n: replication.n, r: replication.r, w: replication.w };
    return withStore(LeaderlessStore.open(parts.dataDir), (store) => new LeaderlessPeer({ ...common, store, settings }));
  }
  const settings: Partial<RaftSettings> = { heartbeatTicks: config.heartbeatTicks, electionTicks: config.electionTicks, defaultAcks: config.defaultAcks };
  return withStore(RaftStore.open(join(parts.dataDir, raftDatabaseFileName)), (store) => new RaftPeer({ ...common, store, foundingVoters: config.voters.map((voter) => voter.nodeId), settings }));
}

/** Builds a peer on an opened store, closing the store when the peer cannot be built. */
function withStore<Store extends { close(): void }, Peer>(store: Store, build: (store: Store) => Peer): Peer {
  try {
    return build(store);
  } catch (error) {
    store.close();
    throw error;
  }
}
