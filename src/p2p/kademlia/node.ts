/**
 * The Kademlia node: a deterministic state machine in the style of etcd-io/raft
 * (DESIGN.md section 3). It does no I/O, reads no clock and keeps no timers.
 *
 * Inputs: `step(from, message)` for every message that arrives, `tick()` every `tickMs`
 * (constants.ts), and calls (`bootstrap`, `lookup`, `provide`, `findProviders`, `putValue`,
 * `getValue`) that start operations and return their ids. Outputs pile up until the shell
 * takes them with `ready()` (messages to send, results of finished operations) and then
 * calls `advance()`. The TLS transport in production and the simulator in tests drive the
 * same class. Randomness comes from the injected Rng; value signatures are checked with
 * the injected `verify`, so that signing and its keys stay in the shell.
 */
import type { Rng } from '../../core/rng.js';
import { emptyStats, type KademliaComponents, type KademliaStats, type VerifySignature } from './components.js';
import { contactProblem, type Contact } from './contact.js';
import { KademliaInputError } from './errors.js';
import { Lookup } from './lookup.js';
import {
  isRequest, messageProblem, responseTypeOf, signedValueBytes, signedValueProblem,
  type KademliaMessage, type KademliaRequest, type KademliaResponse, type SignedValue,
} from './messages.js';
import { checkKey, type NodeId } from './node-id.js';
import {
  collectFound, keepNewest, lookupRequestFor, operationResult, refusedResult, storeRequestFor,
  type Operation, type OperationError, type OperationKind,
} from './operations.js';
import { Outbox, type OutgoingMessage, type Ready } from './outbox.js';
import { Publications } from './publications.js';
import { RecordStore } from './records.js';
import { PendingRequests, type PendingRequest, type RequestPurpose } from './requests.js';
import { RoutingTable } from './routing-table.js';
import { StallChecks } from './stalls.js';
import { kademliaSettings, type KademliaSettings } from './settings.js';
import { NodeServer } from './server.js';

export type { KademliaComponents, KademliaStats, OutgoingMessage, Ready, VerifySignature };

export class KademliaNode {
  readonly self: Contact;
  readonly settings: Readonly<KademliaSettings>;
  readonly stats: KademliaStats = emptyStats();
  private readonly rng: Rng;
  private readonly verify: VerifySignature;
  private readonly table: RoutingTable;
  private readonly records: RecordStore;
  private readonly pending: PendingRequests;
  private readonly server: NodeServer;
  private readonly operations = new Map<number, Operation>();
  private readonly stallChecks = new StallChecks();
  private readonly publications: Publications;
  private readonly outbox: Outbox;
  private nowTick = 0;
  private nextDeadlineTick = Number.POSITIVE_INFINITY;
  private nextHousekeepingTick: number;
  private nextOperationId = 1;

  constructor(components: KademliaComponents, overrides: Partial<KademliaSettings> = {}) {
    const problem = contactProblem(components.self);
    if (problem !== undefined) throw new KademliaInputError('self', problem);
    this.self = components.self;
    this.settings = kademliaSettings(overrides);
    this.rng = components.rng;
    this.verify = components.verify;
    this.table = new RoutingTable(this.self.nodeId, this.settings);
    this.records = new RecordStore(this.settings);
    this.pending = new PendingRequests(this.rng.nextUint32());
    this.server = new NodeServer(this.table, this.records, this.settings, (publicKey, bytes, signature) => this.checkSignature(publicKey, bytes, signature));
    this.outbox = new Outbox(this.settings.messagesPendingMax, this.settings.resultsPendingMax, () => this.stats.outboxOverflowDropped++);
    this.publications = new Publications(this.settings.providedKeysMax, this.settings.publishedValuesMax, this.settings.republishIntervalTicks);
    this.nextHousekeepingTick = this.settings.housekeepingIntervalTicks;
  }

  /** Ticks since this node was made. */
  get now(): number {
    return this.nowTick;
  }

  // ---- inputs ------------------------------------------------------------------------

  tick(): void {
    this.nowTick++;
    if (this.nowTick >= this.nextDeadlineTick) {
      for (const request of this.pending.expire(this.nowTick)) this.onTimeout(request);
      this.nextDeadlineTick = this.pending.nextDeadlineTick();
    }
    if (this.nowTick >= this.stallChecks.nextDueTick()) {
      for (const check of this.stallChecks.takeDue(this.nowTick)) {
        const operation = this.operations.get(check.operationId);
        if (operation === undefined || operation.phase !== 'lookup') continue;
        operation.lookup.stalled(check.nodeId);
        this.pump(operation);
      }
    }
    if (this.nowTick >= this.nextHousekeepingTick) {
      this.nextHousekeepingTick = this.nowTick + this.settings.housekeepingIntervalTicks;
      this.housekeeping();
    }
  }

  /**
   * Ticks that can pass before `tick()` does more than count: until the earliest request
   * deadline, lookup stall or housekeeping. Production ticks every `tickMs` regardless; the
   * simulator uses this to skip idle peers and apply their ticks just before their next input.
   */
  ticksUntilDue(): number {
    return Math.max(1, Math.min(this.nextDeadlineTick, this.stallChecks.nextDueTick(), this.nextHousekeepingTick) - this.nowTick);
  }

  /** A message arrived from `from` (whose node id the transport has authenticated). Malformed input is dropped and counted. */
  step(from: Contact, message: unknown): void {
    const problem = contactProblem(from) ?? messageProblem(message) ?? (from.nodeId === this.self.nodeId ? 'a message claims to come from this node itself' : undefined);
    if (problem !== undefined) {
      this.stats.malformedDropped++;
      this.stats.lastMalformed = problem;
      return;
    }
    const valid = message as KademliaMessage;
    if (isRequest(valid)) this.onRequest(from, valid);
    else this.onResponse(from, valid);
  }

  /** Joins the network: a lookup of our own id through `contacts` (trusted bootstrap peers) and whatever the table holds. */
  bootstrap(contacts: readonly Contact[]): number {
    contacts.forEach((contact, index) => {
      const problem = contactProblem(contact);
      if (problem !== undefined) throw new KademliaInputError(`contacts[${index}]`, problem);
    });
    return this.startOperation('bootstrap', this.self.nodeId, contacts.filter((contact) => contact.nodeId !== this.self.nodeId));
  }

  /** Finds the k closest peers to `key`. */
  lookup(key: NodeId): number {
    return this.startOperation('lookup', checkKey(key));
  }

  /** Announces that this peer serves `key`, now and every `republishIntervalTicks` until `stopProviding`. */
  provide(key: NodeId): number {
    if (!this.publications.provide(checkKey(key), this.nowTick)) return this.refuse('provide', key, 'provided-keys-full');
    this.records.addProvider(key, this.self, this.nowTick);
    return this.startOperation('provide', key);
  }

  stopProviding(key: NodeId): void {
    this.publications.stopProviding(checkKey(key));
  }

  /** Finds peers that serve `key`; stops early once `wanted` are known. */
  findProviders(key: NodeId, wanted = this.settings.providersPerKeyMax): number {
    checkKey(key);
    if (!Number.isInteger(wanted) || wanted < 1) throw new KademliaInputError('wanted', `must be a positive integer, got ${wanted}`);
    return this.startOperation('findProviders', key, [], wanted);
  }

  /** Publishes a value signed by the shell, now and every `republishIntervalTicks`. */
  putValue(record: SignedValue): number {
    const problem = signedValueProblem(record);
    if (problem !== undefined) throw new KademliaInputError('record', problem);
    if (!this.checkSignature(record.publicKey, signedValueBytes(record.key, record.sequence, record.value), record.signature)) {
      throw new KademliaInputError('record', 'its signature does not verify with its public key; sign signedValueBytes(key, sequence, value)');
    }
    if (!this.publications.publish(record, this.nowTick)) return this.refuse('putValue', record.key, 'published-values-full');
    this.records.putValue(record, this.self.nodeId, this.nowTick);
    return this.startOperation('putValue', record.key, [], 0, record);
  }

  /** Finds the values stored under `key`, the newest per publisher, signatures checked. */
  getValue(key: NodeId): number {
    return this.startOperation('getValue', checkKey(key));
  }

  // ---- outputs -----------------------------------------------------------------------

  hasReady(): boolean {
    return this.outbox.hasReady();
  }

  /** Messages to send and results to hand over since the last `advance()`. */
  ready(): Ready {
    return this.outbox.ready();
  }

  /** The shell has sent and handled what the last `ready()` returned. */
  advance(): void {
    this.outbox.advance();
  }

  // ---- inspection --------------------------------------------------------------------

  contacts(): Contact[] {
    return this.table.contacts();
  }

  closestContacts(key: NodeId, count: number): Contact[] {
    return this.table.closest(checkKey(key), count);
  }

  bucketFill(): number[] {
    return this.table.bucketFill();
  }

  get routingTableSize(): number {
    return this.table.size;
  }

  get storedRecordCount(): number {
    return this.records.size;
  }

  /** Unexpired providers of `key` stored on this node. */
  storedProviders(key: NodeId): Contact[] {
    return this.records.providersOf(checkKey(key), this.nowTick, this.settings.providersPerKeyMax);
  }

  get operationsInFlight(): number {
    return this.operations.size;
  }

  // ---- requests and responses --------------------------------------------------------

  private onRequest(from: Contact, request: KademliaRequest): void {
    this.stats.requestsServed++;
    if (this.table.has(from.nodeId)) {
      this.table.noteSeen(from, this.nowTick);
    } else if (this.table.wouldConsider(from.nodeId, this.nowTick) && !this.pending.isVerifying(from.nodeId)) {
      // A peer that asked us something enters the table only once it answered us in turn.
      if (this.pending.verificationCount < this.settings.verificationsInFlightMax) {
        this.send(from, ping, verifyPurpose);
        this.stats.verificationPingsSent++;
      } else {
        this.stats.verificationsSkipped++;
      }
    }
    this.outbox.push(from, this.server.answer(from, request, this.nowTick));
  }

  private onResponse(from: Contact, response: KademliaResponse): void {
    const request = this.pending.take(response.requestId, from.nodeId, response.type);
    if (request === undefined) {
      this.stats.unexpectedDropped++;
      return;
    }
    this.nextDeadlineTick = this.pending.nextDeadlineTick();
    const outcome = this.table.noteAnswered(from, this.nowTick);
    if (outcome.pingOldest !== undefined) {
      this.send(outcome.pingOldest, ping, evictionPurpose);
      this.stats.evictionPingsSent++;
    }
    const purpose = request.purpose;
    if (purpose.kind !== 'operation') return;
    const operation = this.operations.get(purpose.operationId);
    // Answers to an operation that ended, or to a phase it left, still taught us about the peer, and that is all.
    if (operation === undefined || operation.phase !== purpose.phase) return;
    if (operation.phase === 'store') {
      if (response.type === 'stored') {
        if (response.refusal === null) operation.stored++;
        else operation.refusals.push(response.refusal);
      }
      operation.storesPending--;
    } else {
      collectFound(operation, response, (record) => this.checkValue(record), () => this.stats.invalidSignatures++);
      operation.lookup.answered(from.nodeId, 'contacts' in response ? response.contacts : []);
    }
    this.pump(operation);
  }

  private onTimeout(request: PendingRequest): void {
    this.stats.requestsTimedOut++;
    // Any unanswered request counts as a failed ping of that peer.
    this.table.noteFailed(request.to.nodeId);
    const purpose = request.purpose;
    if (purpose.kind !== 'operation') return;
    const operation = this.operations.get(purpose.operationId);
    if (operation === undefined || operation.phase !== purpose.phase) return;
    if (operation.phase === 'store') operation.storesPending--;
    else operation.lookup.failed(request.to.nodeId);
    this.pump(operation);
  }

  private checkValue(record: SignedValue): boolean {
    return this.checkSignature(record.publicKey, signedValueBytes(record.key, record.sequence, record.value), record.signature);
  }

  private checkSignature(publicKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array): boolean {
    let valid = false;
    try {
      valid = this.verify(publicKey, bytes, signature) === true;
    } catch {
      // A key the verifier cannot even parse is simply an invalid signature.
      valid = false;
    }
    if (!valid) this.stats.invalidSignatures++;
    return valid;
  }

  // ---- operations --------------------------------------------------------------------

  private startOperation(kind: OperationKind, key: NodeId, seeds: readonly Contact[] = [], providersWanted = 0, record?: SignedValue): number {
    if (this.operations.size >= this.settings.operationsInFlightMax) return this.refuse(kind, key, 'busy');
    const id = this.nextOperationId++;
    const lookup = new Lookup(key, this.self.nodeId, {
      resultCount: this.settings.bucketSize,
      parallelism: this.settings.alpha,
      candidatesMax: this.settings.lookupCandidatesMax,
    });
    for (const contact of seeds) lookup.add(contact, 1);
    for (const contact of this.table.closest(key, this.settings.bucketSize, true)) lookup.add(contact, 1);
    this.table.noteLookup(key, this.nowTick);
    const operation: Operation = {
      id, kind, key, startedTick: this.nowTick, lookup,
      lookupRequest: lookupRequestFor(kind, key),
      storeRequest: storeRequestFor(kind, key, record),
      phase: 'lookup',
      providers: new Map(),
      providersWanted,
      values: new Map(),
      storesPending: 0,
      stored: 0,
      refusals: [],
    };
    if (kind === 'findProviders') {
      for (const provider of this.records.providersOf(key, this.nowTick, providersWanted)) operation.providers.set(provider.nodeId, provider);
    } else if (kind === 'getValue') {
      for (const value of this.records.valuesOf(key, this.nowTick)) keepNewest(operation.values, value);
    }
    this.operations.set(id, operation);
    this.pump(operation);
    return id;
  }

  /** Sends what an operation can send now, and finishes it when there is nothing left to wait for. */
  private pump(operation: Operation): void {
    if (operation.phase === 'lookup') {
      if (operation.kind === 'findProviders' && operation.providers.size >= operation.providersWanted) return this.finish(operation);
      const lookupPurpose: RequestPurpose = { kind: 'operation', operationId: operation.id, phase: 'lookup' };
      for (let contact = operation.lookup.next(); contact !== undefined; contact = operation.lookup.next()) {
        this.send(contact, operation.lookupRequest, lookupPurpose);
        this.stallChecks.add({ dueTick: this.nowTick + this.settings.lookupStallTicks, operationId: operation.id, nodeId: contact.nodeId });
      }
      if (!operation.lookup.isDone()) return;
      if (operation.storeRequest === undefined) return this.finish(operation);
      operation.phase = 'store';
      const storePurpose: RequestPurpose = { kind: 'operation', operationId: operation.id, phase: 'store' };
      for (const contact of operation.lookup.closestAnswered()) {
        this.send(contact, operation.storeRequest, storePurpose);
        operation.storesPending++;
      }
    }
    if (operation.storesPending === 0) this.finish(operation);
  }

  private finish(operation: Operation): void {
    this.operations.delete(operation.id);
    const result = operationResult(operation, this.nowTick);
    this.outbox.pushResult(result);
    if (operation.kind === 'bootstrap' && result.ok) {
      const free = this.settings.operationsInFlightMax - this.operations.size;
      for (const target of this.table.joinRefreshTargets(this.nowTick, this.rng, free)) this.startOperation('refresh', target);
    }
  }

  private refuse(kind: OperationKind, key: NodeId, error: OperationError): number {
    const id = this.nextOperationId++;
    this.outbox.pushResult(refusedResult(id, kind, key, error, this.nowTick));
    return id;
  }

  // ---- upkeep ------------------------------------------------------------------------

  /** Once per housekeeping interval: forget expired records, refresh idle buckets, republish what is due. */
  private housekeeping(): void {
    this.records.expire(this.nowTick);
    const free = () => this.settings.operationsInFlightMax - this.operations.size;
    if (this.table.size > 0) {
      for (const target of this.table.refreshTargets(this.nowTick, this.settings.refreshIntervalTicks, this.rng, Math.floor(free() / 2))) {
        this.startOperation('refresh', target);
      }
    }
    // What is not republished now for want of free operations stays due for the next round.
    for (const due of this.publications.takeDue(this.nowTick, free())) {
      if (due.kind === 'provider') {
        this.records.addProvider(due.key, this.self, this.nowTick);
        this.startOperation('republishProvider', due.key);
      } else {
        this.records.putValue(due.record, this.self.nodeId, this.nowTick);
        this.startOperation('republishValue', due.record.key, [], 0, due.record);
      }
    }
  }

  // ---- sending -----------------------------------------------------------------------

  /** Sends a request built around a fresh request id, and waits for its answer. */
  private send(to: Contact, build: (requestId: number) => KademliaRequest, purpose: RequestPurpose): void {
    const requestId = this.pending.freeRequestId();
    const request = build(requestId);
    const deadlineTick = this.nowTick + this.settings.requestTimeoutTicks;
    this.pending.open(requestId, to, responseTypeOf[request.type], purpose, deadlineTick);
    if (this.nextDeadlineTick === Number.POSITIVE_INFINITY) this.nextDeadlineTick = deadlineTick;
    this.stats.requestsSent++;
    this.outbox.push(to, request);
  }
}


const ping = (requestId: number): KademliaRequest => ({ type: 'ping', requestId });
const verifyPurpose: RequestPurpose = { kind: 'verify' };
const evictionPurpose: RequestPurpose = { kind: 'eviction' };
