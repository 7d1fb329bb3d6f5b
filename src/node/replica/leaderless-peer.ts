/**
 * A storage peer in leaderless mode: the Dynamo-style core (src/replication/leaderless) on a
 * real disk (`<data dir>/leaderless.sqlite`) and the real network, through the shared
 * replica loop (replica-shell.ts). Any peer coordinates any request: writes go to the key's n
 * replicas and are acknowledged after w of them fsynced; reads ask n and answer after r.
 */
import type { Rng } from '../../core/rng.js';
import type { Logger, PeerAddress, Transport } from '../../net/index.js';
import {
  LeaderlessNode,
  leaderlessMessageProblem,
  type KvReply,
  type LeaderlessMessage,
  type LeaderlessReady,
  type LeaderlessSettings,
  type LeaderlessStatus,
} from '../../replication/leaderless/index.js';
import { registerView, type RegisterState, type VersionVector } from '../../replication/versions/index.js';
import type { ReplicaKvBackend, ReplicaRead, ReplicaWritten } from '../../api/replica-kv-routes.js';
import type { LeaderlessStore } from '../../storage/index.js';
import { ReplicaShell } from './replica-shell.js';
import { ReplicaError } from './errors.js';

export const leaderlessMethod = 'leaderless';

export interface LeaderlessPeerOptions {
  id: string;
  store: LeaderlessStore;
  transport: Transport;
  /** Every storage peer, this one included. */
  addresses: ReadonlyMap<string, PeerAddress>;
  rng: Rng;
  tickMs: number;
  settings?: Partial<LeaderlessSettings>;
  logger: Logger;
}

export class LeaderlessPeer implements ReplicaKvBackend {
  readonly mode = 'leaderless';
  private readonly node: LeaderlessNode;
  private readonly shell: ReplicaShell<LeaderlessMessage, KvReply, LeaderlessReady>;

  constructor(private readonly options: LeaderlessPeerOptions) {
    const restored = options.store.load();
    this.node = new LeaderlessNode({ id: options.id, peers: [...options.addresses.keys()], settings: options.settings, rng: options.rng, restored });
    this.shell = new ReplicaShell(
      this.node,
      { id: options.id, method: leaderlessMethod, transport: options.transport, addresses: options.addresses, tickMs: options.tickMs, logger: options.logger, messageProblem: leaderlessMessageProblem },
      (ready) => options.store.write(ready),
    );
  }

  start(): void {
    this.shell.start();
  }

  stop(): void {
    this.shell.stop();
    this.options.store.close();
  }

  status(): LeaderlessStatus {
    return this.node.status();
  }

  async get(key: string, options: { quorum?: number; replicas?: number; local: boolean }): Promise<ReplicaRead> {
    if (options.local) return viewOf(this.node.localState(key));
    const requestId = this.shell.requestId();
    const reply = await this.shell.call(requestId, () =>
      this.node.request({ kind: 'get', requestId, key, ...(options.quorum !== undefined && { r: options.quorum }), ...(options.replicas !== undefined && { n: options.replicas }) }, Date.now()),
    );
    return viewOf(accepted(reply).state);
  }

  async put(key: string, value: string | null, options: { context?: VersionVector; quorum?: number; replicas?: number; lastWriterWins: boolean }): Promise<ReplicaWritten> {
    const requestId = this.shell.requestId();
    const reply = await this.shell.call(requestId, () =>
      this.node.request(
        {
          kind: 'put',
          requestId,
          key,
          value,
          ...(options.context !== undefined && { context: options.context }),
          ...(options.quorum !== undefined && { w: options.quorum }),
          ...(options.replicas !== undefined && { n: options.replicas }),
          lastWriterWins: options.lastWriterWins,
        },
        Date.now(),
      ),
    );
    return { context: accepted(reply).state.clock };
  }

  append(): Promise<ReplicaWritten> {
    return Promise.reject(new ReplicaError('KV_COMMAND_INVALID', 'append-only sets are a multi-leader feature; in leaderless mode keep one value per key (or one key per element)'));
  }
}

function accepted(reply: KvReply): Extract<KvReply, { ok: true }> {
  if (!reply.ok) throw new ReplicaError(reply.code, `${reply.message} (${reply.answered} of ${reply.needed} replicas answered)`);
  return reply;
}

function viewOf(state: RegisterState | undefined): ReplicaRead {
  if (state === undefined) return { kind: 'missing' };
  return { kind: 'register', ...registerView(state) };
}
