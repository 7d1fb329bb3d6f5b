/**
 * The replicated store as the health log needs it, in any of the three replication modes:
 * read a key (with every concurrent value) and replace what was read.
 *
 * - single-leader (Raft, through `KvBackend`): one value per key; a write is a plain put, or a
 *   compare-and-set on the value read when several peers write the key (`exclusive`);
 * - multi-leader and leaderless (through `ReplicaKvBackend`): a read returns every sibling and a
 *   context; a write made with that context replaces exactly those siblings, and concurrent
 *   writes become siblings that the next reader merges. Nothing is lost either way.
 */
import type { KvBackend } from '../../api/kv-routes.js';
import type { ReplicaKvBackend } from '../../api/replica-kv-routes.js';
import type { VersionVector } from '../../replication/versions/index.js';
import { HealthLogCorruptError } from './errors.js';

export type StoredVersion = { kind: 'raft'; value: string | null } | { kind: 'replica'; context: VersionVector | undefined };

export interface StoredValue {
  /** Every concurrent value: at most one in single-leader mode, the siblings in the others; none when absent. */
  values: string[];
  /** What a write needs to replace exactly this: the value for a compare-and-set, or the read's context. */
  version: StoredVersion;
}

export interface HealthStore {
  readonly mode: 'single-leader' | 'multi-leader' | 'leaderless';
  /**
   * Reads a key. `fresh` reads must see every write acknowledged before them (the writer reads its
   * own keys so, since it rewrites what it read); a report may read a slightly stale copy, which
   * also works while a single-leader cluster has no leader.
   */
  read(key: string, fresh: boolean): Promise<StoredValue>;
  /**
   * Replaces the value read as `previous`. In single-leader mode `exclusive` makes it a
   * compare-and-set that resolves to undefined when another writer got there first. Resolves
   * to the value as now stored, ready to be `previous` of the next write.
   */
  write(key: string, value: string, previous: StoredValue, exclusive: boolean): Promise<StoredValue | undefined>;
}

function isReplicaBackend(backend: KvBackend | ReplicaKvBackend): backend is ReplicaKvBackend {
  return 'mode' in backend;
}

/** The health store over a storage peer: a RaftPeer (KvBackend), a MultiLeaderPeer or a LeaderlessPeer (ReplicaKvBackend). */
export function healthStoreFor(backend: KvBackend | ReplicaKvBackend): HealthStore {
  return isReplicaBackend(backend) ? replicaHealthStore(backend) : raftHealthStore(backend);
}

function raftHealthStore(backend: KvBackend): HealthStore {
  return {
    mode: 'single-leader',
    async read(key, fresh) {
      const { value } = await backend.read(key, fresh ? 'linearizable' : 'stale');
      return { values: value === null ? [] : [value], version: { kind: 'raft', value } };
    },
    async write(key, value, previous, exclusive) {
      if (previous.version.kind !== 'raft') throw new TypeError('a single-leader write needs a single-leader read');
      const written = { values: [value], version: { kind: 'raft' as const, value } };
      if (!exclusive) {
        await backend.write({ op: 'put', key, value });
        return written;
      }
      const outcome = await backend.write({ op: 'cas', key, expected: previous.version.value, value });
      // Without a result (acks=leader answers before the commit) the caller reads again to see whether it won.
      return outcome.result?.op === 'cas' && outcome.result.succeeded ? written : undefined;
    },
  };
}

function replicaHealthStore(backend: ReplicaKvBackend): HealthStore {
  return {
    mode: backend.mode,
    async read(key) {
      // Replica reads always ask the key's replicas: in leaderless mode this peer may hold no copy of it.
      const read = await backend.get(key, { local: false });
      if (read.kind === 'set') throw new HealthLogCorruptError(`${key} in the store is an append-only set, not a health log value; it was not written by a nines peer`);
      if (read.kind === 'missing') return { values: [], version: { kind: 'replica', context: undefined } };
      return { values: read.deleted ? [] : read.values, version: { kind: 'replica', context: read.context } };
    },
    async write(key, value, previous) {
      if (previous.version.kind !== 'replica') throw new TypeError('a replica write needs a replica read');
      const context = previous.version.context;
      const written = await backend.put(key, value, { ...(context !== undefined && { context }), lastWriterWins: false });
      return { values: [value], version: { kind: 'replica', context: written.context } };
    },
  };
}
