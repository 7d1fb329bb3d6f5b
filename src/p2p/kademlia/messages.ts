/**
 * The Kademlia wire messages: plain objects that msgpack carries unchanged, and their checks.
 *
 * Every message that arrives comes from the network, so `messageProblem` checks its whole
 * shape (types, lengths, id spelling, list sizes) before the core looks at it. A message
 * that fails is dropped and counted by the node; nothing from the network can throw past it.
 */
import { bucketSize, idHexLength, providersPerKeyMax, publicKeyBytesMax, signatureBytesMax, valueBytesMax, valuesPerKeyMax } from './constants.js';
import { contactProblem, type Contact } from './contact.js';
import { idToBytes, isNodeId, type NodeId } from './node-id.js';

/**
 * A small value signed by its publisher. Values under one key are kept per publisher
 * (per public key); a higher `sequence` from the same publisher replaces a lower one.
 */
export interface SignedValue {
  readonly key: NodeId;
  readonly value: Uint8Array;
  readonly publicKey: Uint8Array;
  /** A non-negative safe integer; the publisher increments it to replace its previous value. */
  readonly sequence: number;
  /** The publisher's signature over `signedValueBytes(key, sequence, value)`. */
  readonly signature: Uint8Array;
}

/** Why a store request was refused. */
export type StoreRefusal = 'key-full' | 'peer-full' | 'store-full' | 'invalid-signature' | 'stale-sequence';

export type KademliaRequest =
  | { readonly type: 'ping'; readonly requestId: number }
  | { readonly type: 'findNode'; readonly requestId: number; readonly target: NodeId }
  | { readonly type: 'addProvider'; readonly requestId: number; readonly key: NodeId }
  | { readonly type: 'getProviders'; readonly requestId: number; readonly key: NodeId }
  | { readonly type: 'putValue'; readonly requestId: number; readonly record: SignedValue }
  | { readonly type: 'getValue'; readonly requestId: number; readonly key: NodeId };

export type KademliaResponse =
  | { readonly type: 'pong'; readonly requestId: number }
  | { readonly type: 'nodes'; readonly requestId: number; readonly contacts: readonly Contact[] }
  | { readonly type: 'providers'; readonly requestId: number; readonly providers: readonly Contact[]; readonly contacts: readonly Contact[] }
  | { readonly type: 'values'; readonly requestId: number; readonly records: readonly SignedValue[]; readonly contacts: readonly Contact[] }
  | { readonly type: 'stored'; readonly requestId: number; readonly refusal: StoreRefusal | null };

export type KademliaMessage = KademliaRequest | KademliaResponse;

/** The response type that answers each request type. */
export const responseTypeOf = {
  ping: 'pong',
  findNode: 'nodes',
  addProvider: 'stored',
  getProviders: 'providers',
  putValue: 'stored',
  getValue: 'values',
} as const satisfies Record<KademliaRequest['type'], KademliaResponse['type']>;

const storeRefusals: ReadonlySet<string> = new Set<StoreRefusal>(['key-full', 'peer-full', 'store-full', 'invalid-signature', 'stale-sequence']);
const signingDomain = new TextEncoder().encode('nines/kademlia/value/v1\0');

/**
 * The bytes a publisher signs for a value: a domain tag, the key, the sequence as a
 * big-endian 64-bit integer, the value's length as a big-endian 32-bit integer, and the value.
 */
export function signedValueBytes(key: NodeId, sequence: number, value: Uint8Array): Uint8Array {
  const keyBytes = idToBytes(key);
  const bytes = new Uint8Array(signingDomain.length + keyBytes.length + 8 + 4 + value.length);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  bytes.set(signingDomain, offset);
  offset += signingDomain.length;
  bytes.set(keyBytes, offset);
  offset += keyBytes.length;
  view.setUint32(offset, Math.floor(sequence / 0x1_0000_0000));
  view.setUint32(offset + 4, sequence >>> 0);
  view.setUint32(offset + 8, value.length);
  offset += 12;
  bytes.set(value, offset);
  return bytes;
}

function bytesProblem(value: unknown, name: string, bytesMax: number): string | undefined {
  if (!(value instanceof Uint8Array)) return `${name} must be bytes`;
  if (value.length === 0 || value.length > bytesMax) return `${name} must hold 1 to ${bytesMax} bytes, got ${value.length}`;
  return undefined;
}

/** Why a signed value is malformed (its signature is checked separately), or undefined. */
export function signedValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'a record must be an object';
  const record = value as Record<string, unknown>;
  if (!isNodeId(record.key)) return `record.key must be ${idHexLength} lowercase hexadecimal characters`;
  if (!(record.value instanceof Uint8Array) || record.value.length > valueBytesMax) return `record.value must be at most ${valueBytesMax} bytes`;
  if (typeof record.sequence !== 'number' || !Number.isSafeInteger(record.sequence) || record.sequence < 0) return 'record.sequence must be a non-negative safe integer';
  return bytesProblem(record.publicKey, 'record.publicKey', publicKeyBytesMax) ?? bytesProblem(record.signature, 'record.signature', signatureBytesMax);
}

function contactListProblem(value: unknown, name: string, lengthMax: number): string | undefined {
  if (!Array.isArray(value)) return `${name} must be a list of contacts`;
  if (value.length > lengthMax) return `${name} holds ${value.length} contacts, more than ${lengthMax}`;
  for (const contact of value) {
    const problem = contactProblem(contact);
    if (problem !== undefined) return `${name}: ${problem}`;
  }
  return undefined;
}

function bodyProblem(message: Record<string, unknown>): string | undefined {
  switch (message.type) {
    case 'ping':
    case 'pong':
      return undefined;
    case 'findNode':
      return isNodeId(message.target) ? undefined : 'findNode.target must be a node id';
    case 'addProvider':
    case 'getProviders':
    case 'getValue':
      return isNodeId(message.key) ? undefined : `${message.type}.key must be a node id`;
    case 'putValue':
      return signedValueProblem(message.record);
    case 'nodes':
      return contactListProblem(message.contacts, 'nodes.contacts', bucketSize);
    case 'providers':
      return contactListProblem(message.providers, 'providers.providers', providersPerKeyMax) ?? contactListProblem(message.contacts, 'providers.contacts', bucketSize);
    case 'values': {
      if (!Array.isArray(message.records) || message.records.length > valuesPerKeyMax) return `values.records must be a list of at most ${valuesPerKeyMax} records`;
      for (const record of message.records) {
        const problem = signedValueProblem(record);
        if (problem !== undefined) return `values.records: ${problem}`;
      }
      return contactListProblem(message.contacts, 'values.contacts', bucketSize);
    }
    case 'stored':
      return message.refusal === null || (typeof message.refusal === 'string' && storeRefusals.has(message.refusal)) ? undefined : 'stored.refusal must be null or a known refusal';
    default:
      return 'unknown message type';
  }
}

/** Why a message from the network is malformed, or undefined if the core may act on it. */
export function messageProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a message must be an object';
  const message = value as Record<string, unknown>;
  if (typeof message.type !== 'string') return 'message.type must be a string';
  if (typeof message.requestId !== 'number' || !Number.isInteger(message.requestId) || message.requestId < 0 || message.requestId > 0xffff_ffff) {
    return 'message.requestId must be an unsigned 32-bit integer';
  }
  return bodyProblem(message);
}

export function isRequest(message: KademliaMessage): message is KademliaRequest {
  return Object.hasOwn(responseTypeOf, message.type);
}
