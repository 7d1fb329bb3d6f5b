/**
 * A simulated client of the leaderless store: one operation at a time on a few keys, each to a
 * random server (any peer coordinates). Puts carry the context of the client's last read of
 * the key (or an empty context, a blind write, if it never read it), as a Dynamo client does,
 * so concurrent writers make siblings and the next write resolves them. Every operation goes
 * into the shared history the checkers read.
 */
import type { Rng } from '../../core/rng.js';
import type { KvReply, KvRequest } from '../../replication/leaderless/index.js';
import { counterOf, type Dot, type RegisterState, type VersionVector } from '../../replication/versions/index.js';
import type { AddressedMessage, SimulatedPeer } from '../peer.js';
import type { SimulatedLeaderlessMessage } from './messages.js';

export interface PutRecord {
  client: string;
  key: string;
  value: string | null;
  context: VersionVector;
  lastWriterWins: boolean;
  calledAtMs: number;
  /** Set when the put was acknowledged: when, and the dot it made. */
  ackedAtMs?: number;
  dot?: Dot;
}

export interface GetRecord {
  client: string;
  key: string;
  calledAtMs: number;
  completedAtMs: number;
  state: RegisterState;
}

export interface LeaderlessHistory {
  puts: PutRecord[];
  gets: GetRecord[];
  failedRequests: number;
  timedOutRequests: number;
}

export interface LeaderlessClientOptions {
  address: string;
  servers: readonly string[];
  keys: readonly string[];
  /** Keys whose writers ask for last-writer-wins. */
  lastWriterWinsKeys: ReadonlySet<string>;
  /** The client gives up on a request after this many ticks (the coordinator answers KV_TIMEOUT before). */
  giveUpTicks: number;
  thinkTicksMax: number;
  history: LeaderlessHistory;
  nowMs: () => number;
  active: () => boolean;
}

interface Outstanding {
  readonly request: KvRequest;
  readonly calledAtMs: number;
  readonly put: PutRecord | undefined;
  ticksLeft: number;
}

export class SimulatedLeaderlessClient implements SimulatedPeer<SimulatedLeaderlessMessage> {
  private readonly options: LeaderlessClientOptions;
  private readonly rng: Rng;
  private outbox: AddressedMessage<SimulatedLeaderlessMessage>[] = [];
  private outstanding: Outstanding | undefined;
  private thinkTicks = 0;
  private sequence = 0;
  /** The context of this client's last read of each key. */
  private readonly contexts = new Map<string, VersionVector>();

  constructor(options: LeaderlessClientOptions, rng: Rng) {
    this.options = options;
    this.rng = rng;
  }

  tick(): void {
    if (this.outstanding !== undefined) {
      if (--this.outstanding.ticksLeft <= 0) {
        this.options.history.timedOutRequests++;
        this.outstanding = undefined;
      }
      return;
    }
    if (!this.options.active() || this.thinkTicks-- > 0) return;
    this.thinkTicks = this.rng.nextInt(this.options.thinkTicksMax + 1);
    this.issue();
  }

  ticksUntilDue(): number {
    return 1;
  }

  receive(_from: string, message: SimulatedLeaderlessMessage): void {
    if (message.kind !== 'reply' || this.outstanding === undefined || message.reply.requestId !== this.outstanding.request.requestId) return;
    const { request, calledAtMs, put } = this.outstanding;
    this.outstanding = undefined;
    this.record(request, calledAtMs, put, message.reply);
  }

  takeMessages(): readonly AddressedMessage<SimulatedLeaderlessMessage>[] {
    const messages = this.outbox;
    this.outbox = [];
    return messages;
  }

  private issue(): void {
    const { keys, servers, lastWriterWinsKeys } = this.options;
    const key = keys[this.rng.nextInt(keys.length)];
    const requestId = `${this.options.address}.${this.sequence++}`;
    let request: KvRequest;
    let put: PutRecord | undefined;
    if (this.rng.nextFloat() < 0.5) {
      request = { kind: 'get', requestId, key };
    } else {
      const value = this.rng.nextFloat() < 0.1 ? null : `${requestId}`;
      const context = this.contexts.get(key) ?? {};
      const lastWriterWins = lastWriterWinsKeys.has(key);
      request = { kind: 'put', requestId, key, value, context, ...(lastWriterWins && { lastWriterWins }) };
      put = { client: this.options.address, key, value, context, lastWriterWins, calledAtMs: this.options.nowMs() };
      this.options.history.puts.push(put);
    }
    this.outstanding = { request, calledAtMs: this.options.nowMs(), put, ticksLeft: this.options.giveUpTicks };
    this.outbox.push({ to: servers[this.rng.nextInt(servers.length)], message: { kind: 'request', request } });
  }

  private record(request: KvRequest, calledAtMs: number, put: PutRecord | undefined, reply: KvReply): void {
    if (!reply.ok) {
      this.options.history.failedRequests++;
      return;
    }
    if (reply.kind === 'get') {
      this.contexts.set(request.key, reply.state.clock);
      this.options.history.gets.push({ client: this.options.address, key: request.key, calledAtMs, completedAtMs: this.options.nowMs(), state: reply.state });
      return;
    }
    if (put === undefined) return;
    const coordinator = reply.replicas[0];
    put.ackedAtMs = this.options.nowMs();
    put.dot = { node: coordinator, counter: counterOf(reply.state.clock, coordinator) };
    // The write's own state is a context too: the next write of this client supersedes it.
    this.contexts.set(request.key, reply.state.clock);
  }
}
