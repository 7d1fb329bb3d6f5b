/**
 * A simulated client: one operation at a time (read, write or compare-and-set on a handful of
 * keys), sent to the peer it believes leads; it follows redirects, retries elsewhere when a
 * peer does not answer, and records every operation in the shared history with its call and
 * return instants. A write whose outcome it never learns is recorded as unknown.
 */
import type { Rng } from '../../core/rng.js';
import type { AckLevel } from '../../replication/leader/index.js';
import type { HistoryOperation } from '../checkers/linearizability.js';
import type { AddressedMessage, SimulatedPeer } from '../peer.js';
import type { ClientOperation, ClientResponse, ReadConsistency, SimulatedRaftMessage } from './messages.js';

/** A session or stale read, kept out of the linearizability history (those reads promise less) and checked on its own. */
export interface WeakReadRecord {
  readonly client: number;
  readonly key: string;
  readonly consistency: 'session' | 'stale';
  readonly value: string | null;
  /** The value of this client's latest acknowledged write to the key before the read, if any. */
  readonly ownLatestWrite: string | undefined;
  /** The value this client last read from the key before (any consistency), if any. */
  readonly previousRead: string | null | undefined;
}

export interface ClientOptions {
  address: string;
  /** Index in the history. */
  clientNumber: number;
  servers: readonly string[];
  keys: readonly string[];
  acks: AckLevel;
  /** Ticks to wait for an answer before giving up on a request. */
  requestTimeoutTicks: number;
  /** Ticks between two operations, at most. */
  thinkTicksMax: number;
  /** A shared counter that orders every call and return in the run. */
  clock: { now: number };
  history: HistoryOperation[];
  weakReads: WeakReadRecord[];
  /** Called for each write the client saw acknowledged, with its unique value. */
  onAcknowledgedWrite: (value: string) => void;
  /** Whether the client may start new operations (false after the run's end). */
  active: () => boolean;
}

interface InFlight {
  readonly operation: ClientOperation;
  readonly sequence: number;
  readonly callAt: number;
  requestId: number;
  ticksWaiting: number;
  /** The request may have reached a leader that appended it: if the client gives up, the outcome is unknown. */
  mayHaveApplied: boolean;
}

export class SimulatedClient implements SimulatedPeer<SimulatedRaftMessage> {
  private readonly options: ClientOptions;
  private readonly rng: Rng;
  private outbox: AddressedMessage<SimulatedRaftMessage>[] = [];
  private inFlight: InFlight | undefined;
  private target: string;
  private nextRequestId = 1;
  private sequence = 0;
  private thinkTicks = 0;
  private writeCounter = 0;
  /** The session token: the highest log index this client's writes and reads have reached. */
  private sessionToken = 0;
  private readonly ownLatestWrite = new Map<string, string>();
  private readonly lastRead = new Map<string, string | null>();
  completed = 0;

  constructor(options: ClientOptions, rng: Rng) {
    this.options = options;
    this.rng = rng;
    this.target = options.servers[rng.nextInt(options.servers.length)];
    this.thinkTicks = rng.nextInt(options.thinkTicksMax + 1);
  }

  tick(): void {
    if (this.inFlight === undefined) {
      if (this.thinkTicks-- <= 0 && this.options.active()) this.start();
      return;
    }
    if (++this.inFlight.ticksWaiting >= this.options.requestTimeoutTicks) this.giveUp();
  }

  ticksUntilDue(): number {
    return 1;
  }

  receive(_from: string, message: SimulatedRaftMessage): void {
    if (message.kind !== 'response' || this.inFlight === undefined || message.requestId !== this.inFlight.requestId) return;
    this.handleResponse(message);
  }

  takeMessages(): readonly AddressedMessage<SimulatedRaftMessage>[] {
    const messages = this.outbox;
    this.outbox = [];
    return messages;
  }

  private start(): void {
    const key = this.options.keys[this.rng.nextInt(this.options.keys.length)];
    const roll = this.rng.nextFloat();
    let operation: ClientOperation;
    if (roll < 0.4) {
      const pick = this.rng.nextFloat();
      const consistency: ReadConsistency = pick < 0.6 ? 'linearizable' : pick < 0.85 ? 'session' : 'stale';
      operation = { kind: 'read', key, consistency, sessionToken: this.sessionToken };
    } else if (roll < 0.8) {
      operation = { kind: 'write', key, value: this.uniqueValue() };
    } else {
      // Compare-and-set against a value some client wrote (often the current one), or against absence.
      const expected = this.rng.nextFloat() < 0.2 ? null : `c${this.rng.nextInt(this.options.clientNumber + 2)}-${this.rng.nextInt(this.writeCounter + 2)}`;
      operation = { kind: 'cas', key, expected, value: this.uniqueValue() };
    }
    this.sequence++;
    this.inFlight = { operation, sequence: this.sequence, callAt: this.options.clock.now++, requestId: 0, ticksWaiting: 0, mayHaveApplied: false };
    this.send();
  }

  private uniqueValue(): string {
    return `c${this.options.clientNumber}-${this.writeCounter++}`;
  }

  private send(): void {
    const inFlight = this.inFlight!;
    inFlight.requestId = this.nextRequestId++;
    inFlight.ticksWaiting = 0;
    if (inFlight.operation.kind !== 'read') inFlight.mayHaveApplied = true;
    this.outbox.push({
      to: this.target,
      message: { kind: 'request', client: this.options.address, requestId: inFlight.requestId, sequence: inFlight.sequence, operation: inFlight.operation, acks: this.options.acks },
    });
  }

  private handleResponse(response: ClientResponse): void {
    const inFlight = this.inFlight!;
    const outcome = response.outcome;
    if (outcome.status === 'redirect') {
      // Nothing was appended for this request; if an earlier attempt may have been, the deduplicating sequence keeps it single.
      this.target = outcome.leaderHint ?? this.options.servers[this.rng.nextInt(this.options.servers.length)];
      this.send();
      return;
    }
    if (outcome.status === 'unknown') return this.finish(undefined);
    const operation = inFlight.operation;
    this.sessionToken = Math.max(this.sessionToken, outcome.index);
    if (operation.kind === 'read' && operation.consistency !== 'linearizable') return this.finishWeakRead(operation.key, operation.consistency, outcome.value ?? null);
    if (operation.kind === 'read') this.finish({ value: outcome.value ?? null });
    else if (operation.kind === 'write') this.finish({});
    else this.finish({ succeeded: outcome.succeeded === true });
  }

  /** No answer in time: try another peer next; a read is simply dropped, a write's outcome is unknown. */
  private giveUp(): void {
    this.target = this.options.servers[this.rng.nextInt(this.options.servers.length)];
    if (this.inFlight!.operation.kind === 'read') {
      this.inFlight = undefined;
      this.thinkTicks = this.rng.nextInt(this.options.thinkTicksMax + 1);
      return;
    }
    this.finish(undefined);
  }

  private finishWeakRead(key: string, consistency: 'session' | 'stale', value: string | null): void {
    this.options.weakReads.push({ client: this.options.clientNumber, key, consistency, value, ownLatestWrite: this.ownLatestWrite.get(key), previousRead: this.lastRead.get(key) });
    this.lastRead.set(key, value);
    this.completed++;
    this.inFlight = undefined;
    this.thinkTicks = this.rng.nextInt(this.options.thinkTicksMax + 1);
  }

  private finish(output: { value?: string | null; succeeded?: boolean } | undefined): void {
    const inFlight = this.inFlight!;
    const returnAt = output === undefined ? Number.POSITIVE_INFINITY : this.options.clock.now++;
    const base = { client: this.options.clientNumber, callAt: inFlight.callAt, returnAt };
    const operation = inFlight.operation;
    if (operation.kind === 'read') {
      this.options.history.push({ ...base, kind: 'read', key: operation.key, output: output === undefined ? undefined : { value: output.value ?? null } });
      if (output !== undefined) this.lastRead.set(operation.key, output.value ?? null);
    } else if (operation.kind === 'write') {
      this.options.history.push({ ...base, kind: 'write', key: operation.key, value: operation.value, output: output === undefined ? undefined : {} });
      if (output !== undefined) {
        this.options.onAcknowledgedWrite(operation.value);
        this.ownLatestWrite.set(operation.key, operation.value);
      }
    } else {
      this.options.history.push({ ...base, kind: 'cas', key: operation.key, expected: operation.expected, value: operation.value, output: output === undefined ? undefined : { succeeded: output.succeeded === true } });
      if (output !== undefined && output.succeeded === true && operation.value !== null) {
        this.options.onAcknowledgedWrite(operation.value);
        this.ownLatestWrite.set(operation.key, operation.value);
      }
    }
    if (output !== undefined) this.completed++;
    this.inFlight = undefined;
    this.thinkTicks = this.rng.nextInt(this.options.thinkTicksMax + 1);
  }
}
