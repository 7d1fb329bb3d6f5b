/**
 * A storage peer in multi-leader mode: the core (src/replication/multi-leader) on a real disk
 * (`<data dir>/multi-leader.sqlite`) and the real network, through the shared replica loop
 * (replica-shell.ts). Every peer accepts writes and acknowledges them after its own fsync;
 * the core ships them to the others in the background. A read is this peer's own copy; with a
 * session token it first waits until this peer has applied everything the token names.
 */
import type { Rng } from '../../core/rng.js';
import type { Logger, PeerAddress, Transport } from '../../net/index.js';
import {
  MultiLeaderNode,
  multiLeaderMessageProblem,
  type KeyState,
  type MultiLeaderMessage,
  type MultiLeaderReady,
  type MultiLeaderReply,
  type MultiLeaderSettings,
  type MultiLeaderStatus,
} from '../../replication/multi-leader/index.js';
import { descends, registerView, type VersionVector } from '../../replication/versions/index.js';
import type { ReplicaKvBackend, ReplicaRead, ReplicaWritten } from '../../api/replica-kv-routes.js';
import type { MultiLeaderStore } from '../../storage/index.js';
import { ReplicaShell, replicaOperationTimeoutMs } from './replica-shell.js';
import { ReplicaError } from './errors.js';

export const multiLeaderMethod = 'multi-leader';
/** How often a session read re-checks what the peer has applied. */
const sessionPollMs = 5;

export interface MultiLeaderPeerOptions {
  id: string;
  store: MultiLeaderStore;
  transport: Transport;
  /** Every storage peer, this one included. */
  addresses: ReadonlyMap<string, PeerAddress>;
  rng: Rng;
  tickMs: number;
  settings?: Partial<MultiLeaderSettings>;
  logger: Logger;
}

export class MultiLeaderPeer implements ReplicaKvBackend {
  readonly mode = 'multi-leader';
  private readonly node: MultiLeaderNode;
  private readonly shell: ReplicaShell<MultiLeaderMessage, MultiLeaderReply, MultiLeaderReady>;

  constructor(private readonly options: MultiLeaderPeerOptions) {
    const restored = options.store.load();
    this.node = new MultiLeaderNode({ id: options.id, peers: [...options.addresses.keys()], settings: options.settings, rng: options.rng, restored });
    this.shell = new ReplicaShell(
      this.node,
      { id: options.id, method: multiLeaderMethod, transport: options.transport, addresses: options.addresses, tickMs: options.tickMs, logger: options.logger, messageProblem: multiLeaderMessageProblem },
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

  status(): MultiLeaderStatus {
    return this.node.status();
  }

  async get(key: string, options: { session?: VersionVector }): Promise<ReplicaRead> {
    if (options.session !== undefined) await this.waitApplied(options.session);
    return { ...viewOf(this.node.read(key)), session: this.node.appliedVector() };
  }

  async put(key: string, value: string | null, options: { context?: VersionVector; lastWriterWins: boolean }): Promise<ReplicaWritten> {
    const requestId = this.shell.requestId();
    const reply = accepted(
      await this.shell.call(requestId, () =>
        this.node.write({ kind: 'put', requestId, key, value, ...(options.context !== undefined && { context: options.context }), lastWriterWins: options.lastWriterWins }, Date.now()),
      ),
    );
    return { ...(reply.state !== undefined && { context: reply.state.clock }), session: reply.applied };
  }

  async append(key: string, value: string): Promise<ReplicaWritten> {
    const requestId = this.shell.requestId();
    const reply = accepted(await this.shell.call(requestId, () => this.node.write({ kind: 'append', requestId, key, value }, Date.now())));
    return { ...(reply.element !== undefined && { elementId: reply.element.id }), session: reply.applied };
  }

  private async waitApplied(session: VersionVector): Promise<void> {
    const deadline = Date.now() + replicaOperationTimeoutMs;
    while (!descends(this.node.appliedVector(), session)) {
      if (Date.now() > deadline) {
        throw new ReplicaError('KV_TIMEOUT', `this peer had not received every write the session token names within ${replicaOperationTimeoutMs} ms (a partition?); read from the peer you wrote to`);
      }
      await new Promise((resolve) => setTimeout(resolve, sessionPollMs));
    }
  }
}

function accepted(reply: MultiLeaderReply): Extract<MultiLeaderReply, { ok: true }> {
  if (!reply.ok) throw new ReplicaError(reply.code, reply.message);
  return reply;
}

function viewOf(state: KeyState | undefined): ReplicaRead {
  if (state === undefined) return { kind: 'missing' };
  if (state.kind === 'set') return { kind: 'set', elements: state.elements };
  return { kind: 'register', ...registerView(state.state) };
}
