/**
 * The answering side of the node: one answer for each request another peer sent us.
 * Answers carry the closest contacts we know (leaving out the asker, who knows itself, and
 * members whose last request failed, who are probably gone) and whatever records we hold.
 */
import type { Contact } from './contact.js';
import { signedValueBytes, type KademliaRequest, type KademliaResponse } from './messages.js';
import type { NodeId } from './node-id.js';
import type { RecordStore } from './records.js';
import type { RoutingTable } from './routing-table.js';
import type { KademliaSettings } from './settings.js';

export class NodeServer {
  constructor(
    private readonly table: RoutingTable,
    private readonly records: RecordStore,
    private readonly settings: Readonly<KademliaSettings>,
    private readonly checkSignature: (publicKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array) => boolean,
  ) {}

  answer(from: Contact, request: KademliaRequest, nowTick: number): KademliaResponse {
    const requestId = request.requestId;
    switch (request.type) {
      case 'ping':
        return { type: 'pong', requestId };
      case 'findNode':
        return { type: 'nodes', requestId, contacts: this.closestFor(request.target, from) };
      case 'addProvider':
        // The provider is always the asker: nobody can announce that another peer serves something.
        return { type: 'stored', requestId, refusal: this.records.addProvider(request.key, from, nowTick) };
      case 'getProviders':
        return {
          type: 'providers',
          requestId,
          providers: this.records.providersOf(request.key, nowTick, this.settings.providersPerKeyMax),
          contacts: this.closestFor(request.key, from),
        };
      case 'putValue': {
        const record = request.record;
        if (!this.checkSignature(record.publicKey, signedValueBytes(record.key, record.sequence, record.value), record.signature)) {
          return { type: 'stored', requestId, refusal: 'invalid-signature' };
        }
        return { type: 'stored', requestId, refusal: this.records.putValue(record, from.nodeId, nowTick) };
      }
      case 'getValue':
        return { type: 'values', requestId, records: this.records.valuesOf(request.key, nowTick), contacts: this.closestFor(request.key, from) };
    }
  }

  private closestFor(target: NodeId, asker: Contact): Contact[] {
    const k = this.settings.bucketSize;
    // One more than k only when the asker is a member and may be among them: asking for k + 1
    // makes the table search every bucket beyond the target's for the last one.
    if (!this.table.has(asker.nodeId)) return this.table.closest(target, k, true);
    const closest = this.table.closest(target, k + 1, true).filter((contact) => contact.nodeId !== asker.nodeId);
    if (closest.length > k) closest.length = k;
    return closest;
  }
}
