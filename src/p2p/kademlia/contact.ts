/**
 * A contact is the node triple of DESIGN.md section 6: where a peer listens and who it is.
 * The node id is checked by the transport (it is derived from the peer's certificate key);
 * the core only checks that the triple is well formed.
 */
import { hostLengthMax } from './constants.js';
import { isNodeId, type NodeId } from './node-id.js';

export interface Contact {
  readonly nodeId: NodeId;
  readonly host: string;
  readonly port: number;
}

/** Why a contact is malformed, or undefined if it is well formed. */
export function contactProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'a contact must be an object';
  const contact = value as Record<string, unknown>;
  // Exactly three fields: a contact with extra ones would be stored and forwarded to other peers as it came.
  // Inherited enumerable fields count too, which can only make a contact fail, never pass.
  let fieldCount = 0;
  for (const _field in contact) fieldCount++;
  if (fieldCount !== 3) return 'a contact has exactly the fields nodeId, host and port';
  if (!isNodeId(contact.nodeId)) return 'contact.nodeId must be 40 lowercase hexadecimal characters';
  if (typeof contact.host !== 'string' || contact.host.length === 0 || contact.host.length > hostLengthMax) {
    return `contact.host must be a string of 1 to ${hostLengthMax} characters`;
  }
  if (typeof contact.port !== 'number' || !Number.isInteger(contact.port) || contact.port < 1 || contact.port > 65_535) {
    return 'contact.port must be an integer in [1, 65535]';
  }
  return undefined;
}

export function isContact(value: unknown): value is Contact {
  return contactProblem(value) === undefined;
}

