/**
 * The I/O loop shared by the multi-leader and leaderless peers: the pure core (etcd-style
 * step / tick / ready / advance) driven by real time, a real disk and the real network.
 *
 *   1. a timer ticks the core every `tickMs`; every input schedules one pass that drains `ready()`;
 *   2. each Ready is persisted in ONE SQLite transaction (fsync) before anything else;
 *   3. only then its messages leave and its replies reach the clients waiting on them;
 *   4. `advance()`.
 *
 * The shell is also the cores' failure detector: a message that cannot be delivered marks its
 * peer down (`setPeerUp(peer, false)`), anything received from a peer marks it up, and down
 * peers are probed every `probeIntervalMs` so that a restarted peer is noticed even when no
 * protocol traffic would reach it.
 */
import type { Logger, PeerAddress, RpcContext, Transport } from '../../net/index.js';
import { RpcHandlerError } from '../../net/index.js';
import { KvTimeoutError, KvUnavailableError } from '../raft/errors.js';

/** How long a client operation may wait for its reply before the shell gives up on it. */
export const replicaOperationTimeoutMs = 5_000;
/** Deadline of one protocol message; a lost message is the core's to retry, not the transport's. */
const messageTimeoutMs = 1_000;
/** How often a peer believed down is probed. */
export const probeIntervalMs = 500;
/** Clients waiting on replies at most; beyond it new operations are refused. */
export const replicaWaitersMax = 10_000;

export interface ReplicaCore<Message, Ready> {
  step(from: string, message: Message, nowMs: number): void;
  tick(): void;
  setPeerUp(peer: string, up: boolean): void;
  hasReady(): boolean;
  ready(): Ready;
  advance(): void;
}

export interface ReplicaReady<Message, Reply> {
  messages: ReadonlyArray<{ to: string; message: Message }>;
  replies: readonly Reply[];
}

export interface ReplicaShellOptions {
  id: string;
  /** The RPC method the protocol's messages travel under. */
  method: string;
  transport: Transport;
  addresses: ReadonlyMap<string, PeerAddress>;
  tickMs: number;
  logger: Logger;
  /** Why a received message is not a valid protocol message, or undefined. */
  messageProblem(message: unknown): string | undefined;
}

interface Waiter<Reply> {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class ReplicaShell<Message, Reply extends { requestId: string }, Ready extends ReplicaReady<Message, Reply>> {
  private readonly waiters = new Map<string, Waiter<Reply>>();
  private readonly down = new Set<string>();
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private probeTimer: ReturnType<typeof setInterval> | undefined;
  private pumpScheduled = false;
  private stopped = false;
  private nextRequest = 0;

  constructor(
    private readonly core: ReplicaCore<Message, Ready>,
    private readonly options: ReplicaShellOptions,
    /** Makes the Ready durable: one transaction, fsynced, before it returns. */
    private readonly persist: (ready: Ready) => void,
  ) {
    options.transport.handle(options.method, (body, context) => this.receive(body, context));
    options.transport.handle(`${options.method}.probe`, () => null);
  }

  start(): void {
    this.tickTimer = setInterval(() => {
      this.core.tick();
      this.schedulePump();
    }, this.options.tickMs);
    this.probeTimer = setInterval(() => this.probeDownPeers(), probeIntervalMs);
    this.schedulePump();
  }

  stop(): void {
    this.stopped = true;
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    if (this.probeTimer !== undefined) clearInterval(this.probeTimer);
    const stopping = new KvUnavailableError('the peer is stopping; retry on another peer', undefined);
    for (const waiter of this.waiters.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(stopping);
    }
    this.waiters.clear();
  }

  /** A fresh request id for the core. */
  requestId(): string {
    return `${this.options.id.slice(0, 8)}-${Date.now().toString(36)}-${(this.nextRequest++).toString(36)}`;
  }

  /** Hands a client operation to the core (`submit`) and waits for the reply with `requestId`. */
  call(requestId: string, submit: () => void): Promise<Reply> {
    if (this.stopped) return Promise.reject(new KvUnavailableError('the peer is stopping; retry on another peer', undefined));
    if (this.waiters.size >= replicaWaitersMax) return Promise.reject(new KvUnavailableError(`this peer already has ${replicaWaitersMax} operations waiting; retry later`, undefined));
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(requestId);
        reject(new KvTimeoutError(`no reply within ${replicaOperationTimeoutMs} ms; a write may or may not have reached some replicas: read the key before retrying`));
      }, replicaOperationTimeoutMs);
      this.waiters.set(requestId, { resolve, reject, timer });
      try {
        submit();
      } catch (error) {
        clearTimeout(timer);
        this.waiters.delete(requestId);
        reject(error as Error);
        return;
      }
      this.schedulePump();
    });
  }

  /** Schedules a pass after the caller changed the core directly. */
  poke(): void {
    this.schedulePump();
  }

  downPeers(): string[] {
    return [...this.down];
  }

  private receive(body: unknown, context: RpcContext): null {
    const problem = this.options.messageProblem(body);
    if (problem !== undefined) {
      this.options.logger.warn({ from: context.peer.nodeId, problem }, `${this.options.method} message refused`);
      throw new RpcHandlerError('BAD_REPLICA_MESSAGE', problem);
    }
    if (this.stopped) return null;
    this.markUp(context.peer.nodeId);
    this.core.step(context.peer.nodeId, body as Message, Date.now());
    this.schedulePump();
    return null;
  }

  private markUp(peer: string): void {
    if (!this.down.delete(peer)) return;
    this.core.setPeerUp(peer, true);
    this.options.logger.info({ peer }, 'peer reachable again');
    this.schedulePump();
  }

  private markDown(peer: string): void {
    if (this.down.has(peer) || this.stopped) return;
    this.down.add(peer);
    this.core.setPeerUp(peer, false);
    this.options.logger.info({ peer }, 'peer unreachable');
    this.schedulePump();
  }

  private probeDownPeers(): void {
    for (const peer of this.down) {
      const address = this.options.addresses.get(peer);
      if (address === undefined) continue;
      this.options.transport.request(address, `${this.options.method}.probe`, null, { timeoutMs: messageTimeoutMs }).then(
        () => this.markUp(peer),
        () => undefined,
      );
    }
  }

  private send(ready: Ready): void {
    for (const { to, message } of ready.messages) {
      const address = this.options.addresses.get(to);
      if (address === undefined) continue;
      this.options.transport.request(address, this.options.method, message, { timeoutMs: messageTimeoutMs }).catch((error: unknown) => {
        // A refusal by a live peer (it answered), or by our own side before sending (too many in flight), is not a failure of the peer.
        const code = (error as { code?: unknown }).code;
        if (code !== 'RPC_REMOTE_ERROR' && code !== 'RPC_IN_FLIGHT_LIMIT') this.markDown(to);
      });
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (!this.stopped) this.pump();
    });
  }

  private pump(): void {
    while (this.core.hasReady()) {
      const ready = this.core.ready();
      this.persist(ready);
      this.send(ready);
      for (const reply of ready.replies) {
        const waiter = this.waiters.get(reply.requestId);
        if (waiter === undefined) continue;
        this.waiters.delete(reply.requestId);
        clearTimeout(waiter.timer);
        waiter.resolve(reply);
      }
      this.core.advance();
    }
  }
}
