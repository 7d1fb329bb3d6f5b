/**
 * Kademlia, pure: the routing table, iterative lookups and the record store, as one
 * deterministic state machine (`KademliaNode`) that the TLS transport drives in
 * production and the simulator drives in tests.
 */
export * as kademliaConstants from './constants.js';
export type { Contact } from './contact.js';
export { contactProblem, isContact } from './contact.js';
export { KademliaInputError } from './errors.js';
export type { KademliaMessage, KademliaRequest, KademliaResponse, SignedValue, StoreRefusal } from './messages.js';
export { messageProblem, signedValueBytes } from './messages.js';
export type { NodeId } from './node-id.js';
export { idFromBytes, idToBytes, isNodeId, randomId } from './node-id.js';
export type { KademliaComponents, KademliaStats, OutgoingMessage, Ready, VerifySignature } from './node.js';
export { KademliaNode } from './node.js';
export type { OperationError, OperationKind, OperationResult } from './operations.js';
export type { KademliaSettings } from './settings.js';
export { defaultKademliaSettings, kademliaSettings } from './settings.js';
