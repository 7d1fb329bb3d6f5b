/**
 * The DHT shell: the pure `KademliaNode` driven over the real TLS transport, as
 * src/sim/kademlia-peer.ts drives it over the simulated network.
 *
 * - A timer calls `tick()` every `tickMs`.
 * - Every Kademlia request the core wants sent becomes one RPC (`kademlia`, the message as
 *   its msgpack body) to the contact's host:port, pinned to the contact's node ID, so the
 *   transport refuses a peer whose certificate proves another node. The RPC's response body
 *   is the Kademlia response, checked with `messageProblem` and stepped in.
 * - Every incoming `kademlia` RPC is checked, stepped in as coming from the peer the TLS
 *   handshake proved (at its remote address and the listen port it greeted with), and
 *   answered with the response the core produced for it.
 * - After every input the shell drains `ready()` and calls `advance()`.
 *
 * A failed RPC (refused, unreachable, deadline) is dropped: the core counts the missing
 * answer as a failed request when its own timeout passes, exactly as in the simulator.
 */
import { randomBytes } from 'node:crypto';
import type { Rng } from '../../core/rng.js';
import { RpcHandlerError, type Logger, type RpcContext, type RpcPeer, type Transport } from '../../net/index.js';
import {
  KademliaNode,
  kademliaConstants,
  isNodeId,
  messageProblem,
  signedValueBytes,
  type Contact,
  type KademliaMessage,
  type KademliaSettings,
  type OperationResult,
  type SignedValue,
} from '../kademlia/index.js';
import {
  contactOfferBatchMs,
  contactOfferIntervalMs,
  contactOffersRememberedMax,
  contactsPerOfferMax,
  kademliaMethod,
  kademliaRequestTimeoutMs,
  lastSeenRememberedMax,
  operationWaitersMax,
} from './constants.js';
import { DhtBusyError, DhtInputError, DhtStoppedError } from './errors.js';
import { routingTableBuckets, type RoutingTableBucket } from './routing-view.js';
import { certifiedVerifier, type CertifiedMembers, ValueSigner } from './signatures.js';

export interface DhtShellComponents {
  transport: Transport;
  /** This node's contact: the node ID its certificate proves and the address others reach it at. */
  self: Contact;
  /** This node's private key (PEM), which signs the values it publishes. */
  keyPem: string;
  members: CertifiedMembers;
  rng: Rng;
  logger: Logger;
  /** Wall-clock milliseconds; only used for last-seen times and offer intervals. */
  nowMs?: () => number;
  settings?: Partial<KademliaSettings>;
}

const requestTypes: ReadonlySet<string> = new Set(['ping', 'findNode', 'addProvider', 'getProviders', 'putValue', 'getValue']);

/** The IPv4 address inside an IPv4-mapped IPv6 address, which a dual-stack listener reports. */
export function plainHost(host: string): string {
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice('::ffff:'.length) : host;
}

export class DhtShell {
  readonly node: KademliaNode;
  readonly self: Contact;
  private readonly transport: Transport;
  private readonly logger: Logger;
  private readonly nowMs: () => number;
  private readonly signer: ValueSigner;
  private readonly waiters = new Map<number, { resolve: (result: OperationResult) => void; reject: (error: Error) => void }>();
  /** Answers the core produced for requests whose RPC handler is running, by `nodeId/requestId`. */
  private readonly answers = new Map<string, KademliaMessage | undefined>();
  private readonly lastSeen = new Map<string, number>();
  private readonly offered = new Map<string, number>();
  private offerBatch: { contacts: Contact[]; result: Promise<OperationResult | undefined> } | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private readonly operationListeners: ((result: OperationResult) => void)[] = [];

  constructor(components: DhtShellComponents) {
    this.transport = components.transport;
    this.self = components.self;
    this.logger = components.logger;
    this.nowMs = components.nowMs ?? Date.now;
    this.signer = new ValueSigner(components.keyPem);
    this.node = new KademliaNode({ self: components.self, rng: components.rng, verify: certifiedVerifier(components.members) }, components.settings);
  }

  /** Tells `listener` of every finished operation, the node's own upkeep included (for metrics: lookups and their hops). */
  onOperation(listener: (result: OperationResult) => void): void {
    this.operationListeners.push(listener);
  }

  /** Answers Kademlia RPCs and starts the tick timer. */
  start(): void {
    this.transport.handle(kademliaMethod, (body, context) => this.onRequest(body, context));
    this.timer = setInterval(() => {
      this.node.tick();
      this.flush();
    }, kademliaConstants.tickMs);
  }

  /** Stops ticking; callers still waiting on operations get DhtStoppedError. The transport is closed by its owner. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    for (const waiter of this.waiters.values()) waiter.reject(new DhtStoppedError('the DHT stopped before the operation finished'));
    this.waiters.clear();
  }

  // ---- operations ----------------------------------------------------------------------

  /** Joins through `contacts`: a lookup of our own ID seeded with them (and whatever the table holds). */
  join(contacts: readonly Contact[]): Promise<OperationResult> {
    return this.run(() => this.node.bootstrap(contacts.filter((contact) => contact.nodeId !== this.self.nodeId)));
  }

  lookup(key: string): Promise<OperationResult> {
    return this.run(() => this.node.lookup(checkKey(key)));
  }

  provide(key: string): Promise<OperationResult> {
    return this.run(() => this.node.provide(checkKey(key)));
  }

  findProviders(key: string, wanted?: number): Promise<OperationResult> {
    return this.run(() => this.node.findProviders(checkKey(key), wanted));
  }

  /** Publishes `value` under `key`, signed with this node's key; a higher `sequence` replaces an earlier value. */
  putValue(key: string, value: Uint8Array, sequence: number): Promise<OperationResult> {
    return this.run(() => {
      const record: SignedValue = {
        key: checkKey(key),
        value,
        sequence,
        publicKey: this.signer.publicKeyDer,
        signature: this.signer.sign(signedValueBytes(key, sequence, value)),
      };
      return this.node.putValue(record);
    });
  }

  getValue(key: string): Promise<OperationResult> {
    return this.run(() => this.node.getValue(checkKey(key)));
  }

  /**
   * Hands contacts found by discovery (tracker, multicast) to the core: those not in the
   * table and not offered recently are gathered for `contactOfferBatchMs` and then seed one
   * self-lookup together, so that a burst of announcements costs one join (each join also
   * refreshes the buckets beyond the nearest neighbour) rather than one per contact. They
   * enter the table only if they answer. Resolves with the lookup's result, or undefined
   * when there was nothing new.
   */
  offerContacts(contacts: readonly Contact[]): Promise<OperationResult | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    const now = this.nowMs();
    const known = new Set(this.node.contacts().map((contact) => contact.nodeId));
    let batch = this.offerBatch;
    let added = 0;
    for (const contact of contacts) {
      if (contact.nodeId === this.self.nodeId || known.has(contact.nodeId)) continue;
      const offeredMs = this.offered.get(contact.nodeId);
      if (offeredMs !== undefined && now - offeredMs < contactOfferIntervalMs) continue;
      if (batch === undefined) batch = this.openOfferBatch();
      // Beyond one batch's worth, a contact is left unmarked, so the next offer of it is taken.
      if (batch.contacts.length >= contactsPerOfferMax) break;
      remember(this.offered, contact.nodeId, now, contactOffersRememberedMax);
      batch.contacts.push(contact);
      added++;
    }
    return added === 0 || batch === undefined ? Promise.resolve(undefined) : batch.result;
  }

  private openOfferBatch(): { contacts: Contact[]; result: Promise<OperationResult | undefined> } {
    const contacts: Contact[] = [];
    const result = new Promise<void>((resolve) => setTimeout(resolve, contactOfferBatchMs)).then(() => {
      this.offerBatch = undefined;
      return this.stopped ? undefined : this.join(contacts);
    });
    this.offerBatch = { contacts, result };
    return this.offerBatch;
  }

  // ---- inspection ----------------------------------------------------------------------

  hasContact(nodeId: string): boolean {
    return this.node.contacts().some((contact) => contact.nodeId === nodeId);
  }

  routingTable(): RoutingTableBucket[] {
    return routingTableBuckets(this.self.nodeId, this.node.contacts(), (nodeId) => this.lastSeen.get(nodeId));
  }

  // ---- driving the core ----------------------------------------------------------------

  /** Starts an operation and waits for its result; bad input rejects the promise rather than throwing. */
  private run(start: () => number): Promise<OperationResult> {
    if (this.stopped) return Promise.reject(new DhtStoppedError('the DHT has stopped'));
    if (this.waiters.size >= operationWaitersMax) {
      return Promise.reject(new DhtBusyError(`${operationWaitersMax} operations are already waiting; try again when some have finished`));
    }
    let operationId: number;
    try {
      operationId = start();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const promise = new Promise<OperationResult>((resolve, reject) => this.waiters.set(operationId, { resolve, reject }));
    this.flush();
    return promise;
  }

  /** Takes everything the core has ready, then sends messages and hands over results. */
  private flush(): void {
    while (!this.stopped && this.node.hasReady()) {
      const ready = this.node.ready();
      const messages = [...ready.messages];
      const results = [...ready.results];
      this.node.advance();
      for (const { to, message } of messages) {
        if (requestTypes.has(message.type)) this.send(to, message);
        else this.answer(to, message);
      }
      for (const result of results) this.deliver(result);
    }
  }

  private deliver(result: OperationResult): void {
    for (const listener of this.operationListeners) listener(result);
    const waiter = this.waiters.get(result.operationId);
    if (waiter !== undefined) {
      this.waiters.delete(result.operationId);
      waiter.resolve(result);
      return;
    }
    // The node's own upkeep (refreshes after a join, republishing) has nobody waiting on it.
    this.logger.debug({ operation: result.kind, ok: result.ok, error: result.error, hops: result.hops }, 'dht operation finished');
  }

  /** A response the core made for a request whose RPC handler is waiting for it. */
  private answer(to: Contact, message: KademliaMessage): void {
    const key = `${to.nodeId}/${message.requestId}`;
    if (this.answers.has(key)) this.answers.set(key, message);
    else this.logger.warn({ to: to.nodeId, type: message.type }, 'dropped a kademlia response that answers no running request');
  }

  private send(to: Contact, message: KademliaMessage): void {
    const address = { host: to.host, port: to.port, nodeId: to.nodeId };
    this.transport.request(address, kademliaMethod, message, { timeoutMs: kademliaRequestTimeoutMs }).then(
      (body) => this.onResponse(to, body),
      (error: Error & { code?: string }) => {
        // The core counts the silence as a failed request when its own timeout passes.
        this.logger.debug({ to: to.nodeId, address: `${to.host}:${to.port}`, type: message.type, code: error.code, detail: error.message }, 'kademlia request failed');
      },
    );
  }

  private onResponse(from: Contact, body: unknown): void {
    if (this.stopped) return;
    const problem = messageProblem(body) ?? (requestTypes.has((body as KademliaMessage).type) ? 'a request came back as an answer' : undefined);
    if (problem !== undefined) {
      this.logger.warn({ from: from.nodeId, detail: problem }, 'dropped a malformed kademlia response');
      return;
    }
    this.noteSeen(from.nodeId);
    this.node.step(from, body);
    this.flush();
  }

  private onRequest(body: unknown, context: RpcContext): KademliaMessage {
    if (this.stopped) throw new RpcHandlerError('DHT_STOPPED', 'this node is shutting down');
    const problem = messageProblem(body) ?? (requestTypes.has((body as KademliaMessage).type) ? undefined : 'only requests may be sent as kademlia RPCs');
    if (problem !== undefined) {
      this.logger.warn({ from: context.peer.nodeId, detail: problem }, 'refused a malformed kademlia request');
      throw new RpcHandlerError('KADEMLIA_MESSAGE_INVALID', problem);
    }
    const from = contactOfPeer(context.peer);
    if (from === undefined) {
      throw new RpcHandlerError('KADEMLIA_NOT_A_PEER', 'the caller accepts no connections (it greeted with listen port 0), so it cannot take part in the DHT');
    }
    const message = body as KademliaMessage;
    const key = `${from.nodeId}/${message.requestId}`;
    this.answers.set(key, undefined);
    try {
      this.noteSeen(from.nodeId);
      this.node.step(from, message);
      this.flush();
      const answer = this.answers.get(key);
      if (answer === undefined) throw new RpcHandlerError('KADEMLIA_DROPPED', `the node dropped the request: ${this.node.stats.lastMalformed ?? 'no reason recorded'}`);
      return answer;
    } finally {
      this.answers.delete(key);
    }
  }

  private noteSeen(nodeId: string): void {
    remember(this.lastSeen, nodeId, this.nowMs(), lastSeenRememberedMax);
  }
}

/** The contact of a connected peer: its proven node ID, its remote address and the port it listens on. */
export function contactOfPeer(peer: RpcPeer): Contact | undefined {
  if (peer.listenPort < 1 || peer.listenPort > 65_535) return undefined;
  return { nodeId: peer.nodeId, host: plainHost(peer.host), port: peer.listenPort };
}

/** A random 160-bit key, for callers that need one (tests, `nines` admin commands). */
export function randomKey(): string {
  return randomBytes(20).toString('hex');
}

function checkKey(key: string): string {
  if (!isNodeId(key)) throw new DhtInputError(`a DHT key is 40 lowercase hexadecimal characters (160 bits), got ${JSON.stringify(String(key).slice(0, 64))}`);
  return key;
}

/** Sets `key` to `value` as the newest entry, forgetting the oldest entry beyond `sizeMax`. */
function remember(map: Map<string, number>, key: string, value: number, sizeMax: number): void {
  map.delete(key);
  if (map.size >= sizeMax) map.delete(map.keys().next().value!);
  map.set(key, value);
}
