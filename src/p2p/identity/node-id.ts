/**
 * Node IDs: 160 bits of SHA-256 over a peer's public key (its DER SubjectPublicKeyInfo),
 * written as 40 lowercase hexadecimal characters. Because the ID is derived from the key,
 * nobody can claim an ID without holding the matching private key.
 */
import { createHash } from 'node:crypto';
import { nodeIdBytes, nodeIdHexLength } from './constants.js';
import { NodeIdInvalidError } from './errors.js';

/** A node ID as 40 lowercase hexadecimal characters. */
export type NodeId = string;

const nodeIdPattern = /^[0-9a-f]{40}$/;

export function isNodeId(value: unknown): value is NodeId {
  return typeof value === 'string' && nodeIdPattern.test(value);
}

/** Reads a node ID typed by a person: upper case is accepted and folded to lower case. */
export function parseNodeId(text: string): NodeId {
  const trimmed = text.trim();
  if (trimmed.length !== nodeIdHexLength) {
    throw new NodeIdInvalidError(
      `node id must be ${nodeIdHexLength} hexadecimal characters (${nodeIdBytes * 8} bits), got ${trimmed.length} characters: "${trimmed}"`,
    );
  }
  const lower = trimmed.toLowerCase();
  if (!nodeIdPattern.test(lower)) {
    throw new NodeIdInvalidError(`node id must contain only hexadecimal characters 0-9 and a-f, got "${trimmed}"`);
  }
  return lower;
}

/** The node ID of a public key given as DER SubjectPublicKeyInfo. */
export function nodeIdFromPublicKey(subjectPublicKeyInfoDer: Uint8Array): NodeId {
  const digest = createHash('sha256').update(subjectPublicKeyInfoDer).digest();
  return digest.subarray(0, nodeIdBytes).toString('hex');
}

/** The 20 raw bytes of a node ID, for XOR distance and other byte-level uses. */
export function nodeIdToBytes(nodeId: NodeId): Uint8Array {
  if (!isNodeId(nodeId)) throw new NodeIdInvalidError(`not a node id: "${String(nodeId)}"`);
  return Uint8Array.from(Buffer.from(nodeId, 'hex'));
}

export function nodeIdFromBytes(bytes: Uint8Array): NodeId {
  if (bytes.length !== nodeIdBytes) throw new NodeIdInvalidError(`a node id is ${nodeIdBytes} bytes, got ${bytes.length}`);
  return Buffer.from(bytes).toString('hex');
}
