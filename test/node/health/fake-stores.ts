/**
 * In-memory stores that behave as the real ones do where the health log cares:
 * - a single-leader store (KvBackend): one value per key, a log index, compare-and-set, and a
 *   switch that makes it unavailable as RaftPeer is without a leader;
 * - multi-leader/leaderless stores (ReplicaKvBackend) as several replicas' views of shared
 *   registers, using the real dotted-version-vector registers, so writes that did not see each
 *   other become siblings exactly as in the real stores.
 */
import type { KvBackend } from '../../../src/api/kv-routes.js';
import type { ReplicaKvBackend, ReplicaRead, ReplicaWritten } from '../../../src/api/replica-kv-routes.js';
import { KvUnavailableError } from '../../../src/node/raft/errors.js';
import type { KvWrite } from '../../../src/node/raft/raft-peer.js';
import type { RaftStatus } from '../../../src/replication/leader/index.js';
import { applyWrite, emptyRegister, registerView, type RegisterState } from '../../../src/replication/versions/index.js';

export interface FakeRaftStore extends KvBackend {
  values: Map<string, string>;
  available: boolean;
  writes: number;
  /** Runs before each compare-and-set is applied: a test may write the key there to make it lose. */
  beforeCas?: (key: string) => void;
}

export function fakeRaftStore(): FakeRaftStore {
  let index = 0;
  const store: FakeRaftStore = {
    values: new Map(),
    available: true,
    writes: 0,
    async write(command: KvWrite) {
      if (!store.available) throw new KvUnavailableError('no leader is known right now (an election may be under way); retry shortly', undefined);
      store.writes++;
      index++;
      const previous = store.values.get(command.key) ?? null;
      if (command.op === 'cas') {
        store.beforeCas?.(command.key);
        const current = store.values.get(command.key) ?? null;
        const succeeded = current === command.expected;
        if (succeeded) {
          if (command.value === null) store.values.delete(command.key);
          else store.values.set(command.key, command.value);
        }
        return { index, result: { op: 'cas' as const, succeeded, current: succeeded ? command.value : current } };
      }
      if (command.op === 'put') store.values.set(command.key, command.value);
      else store.values.delete(command.key);
      return { index, result: { op: command.op, previous } };
    },
    async read(key: string) {
      if (!store.available) throw new KvUnavailableError('no leader is known right now (an election may be under way); retry shortly', undefined);
      return { value: store.values.get(key) ?? null, index };
    },
    status: () => ({}) as RaftStatus,
  };
  return store;
}

export interface FakeReplicaCluster {
  registers: Map<string, RegisterState>;
  /** The view of one replica: its writes carry its node name. */
  replica(node: string): ReplicaKvBackend;
}

export function fakeReplicaCluster(mode: 'multi-leader' | 'leaderless' = 'leaderless'): FakeReplicaCluster {
  const registers = new Map<string, RegisterState>();
  let wallMs = 0;
  return {
    registers,
    replica(node: string): ReplicaKvBackend {
      return {
        mode,
        async get(key): Promise<ReplicaRead> {
          const state = registers.get(key);
          return state === undefined ? { kind: 'missing' } : { kind: 'register', ...registerView(state) };
        },
        async put(key, value, options): Promise<ReplicaWritten> {
          const state = registers.get(key) ?? emptyRegister;
          // No context: the write replaces nothing it has not seen, so it is concurrent with everything.
          const { state: next } = applyWrite(state, { node, context: options.context ?? {}, value, timestamp: { wallMs: ++wallMs, logical: 0, node }, lastWriterWins: options.lastWriterWins, key });
          registers.set(key, next);
          return { context: next.clock };
        },
        async append() {
          throw new Error('not used by the health log');
        },
        status: () => ({ id: node }),
      };
    },
  };
}
