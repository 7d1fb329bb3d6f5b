/**
 * Requests this peer sent and still waits for: matched with answers by request id and
 * sender, and expired after `requestTimeoutTicks`. Every request waits the same number of
 * ticks, so insertion order is deadline order and expiring stops at the first live one.
 */
import type { Contact } from './contact.js';
import type { KademliaResponse } from './messages.js';
import type { NodeId } from './node-id.js';

/** Why a request was sent: to check a peer before it enters the table, to decide an eviction, or for an operation. */
export type RequestPurpose =
  | { readonly kind: 'verify' }
  | { readonly kind: 'eviction' }
  | { readonly kind: 'operation'; readonly operationId: number; readonly phase: 'lookup' | 'store' };

export interface PendingRequest {
  readonly requestId: number;
  readonly to: Contact;
  readonly expectedResponse: KademliaResponse['type'];
  readonly deadlineTick: number;
  readonly purpose: RequestPurpose;
}

export class PendingRequests {
  private readonly byId = new Map<number, PendingRequest>();
  /** Peers with a verification ping out, so that a chatty newcomer is pinged once. */
  private readonly verifying = new Set<NodeId>();
  private nextRequestId: number;

  /**
   * @param firstRequestId where numbering starts; a random start keeps a restarted peer from
   *   taking a late answer meant for its previous life as the answer to a new request
   */
  constructor(firstRequestId: number) {
    this.nextRequestId = firstRequestId >>> 0;
  }

  get size(): number {
    return this.byId.size;
  }

  get verificationCount(): number {
    return this.verifying.size;
  }

  isVerifying(nodeId: NodeId): boolean {
    return this.verifying.has(nodeId);
  }

  /** The earliest deadline of any pending request, or infinity. */
  nextDeadlineTick(): number {
    for (const request of this.byId.values()) return request.deadlineTick;
    return Number.POSITIVE_INFINITY;
  }

  /** An id no pending request uses, for the next `open`. */
  freeRequestId(): number {
    while (this.byId.has(this.nextRequestId)) this.nextRequestId = (this.nextRequestId + 1) >>> 0;
    return this.nextRequestId;
  }

  open(requestId: number, to: Contact, expectedResponse: KademliaResponse['type'], purpose: RequestPurpose, deadlineTick: number): void {
    this.nextRequestId = (requestId + 1) >>> 0;
    this.byId.set(requestId, { requestId, to, expectedResponse, deadlineTick, purpose });
    if (purpose.kind === 'verify') this.verifying.add(to.nodeId);
  }

  /** The request this response answers, removed from the pending set; undefined if it answers nothing we asked that peer. */
  take(requestId: number, from: NodeId, responseType: KademliaResponse['type']): PendingRequest | undefined {
    const request = this.byId.get(requestId);
    if (request === undefined || request.to.nodeId !== from || request.expectedResponse !== responseType) return undefined;
    this.remove(request);
    return request;
  }

  /** Removes and returns every request whose deadline has come. */
  expire(nowTick: number): PendingRequest[] {
    const expired: PendingRequest[] = [];
    for (const request of this.byId.values()) {
      if (request.deadlineTick > nowTick) break;
      expired.push(request);
    }
    for (const request of expired) this.remove(request);
    return expired;
  }

  private remove(request: PendingRequest): void {
    this.byId.delete(request.requestId);
    if (request.purpose.kind === 'verify') this.verifying.delete(request.to.nodeId);
  }
}
