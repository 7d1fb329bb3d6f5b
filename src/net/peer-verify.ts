/**
 * Deciding, right after the TLS handshake and before a single frame is read, whether the
 * peer at the other end is one we talk to. The transport runs TLS with
 * `rejectUnauthorized: false` and makes every decision here instead, so that each refusal
 * is logged with its reason (Node would otherwise drop an unverified client silently);
 * no byte of the protocol is exchanged with a peer that fails any check.
 */
import type { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import type { PeerRefusalReason } from './errors.js';

/** The node a (chain-verified) certificate proves, or why it proves none. */
export type PeerAuthentication =
  | { ok: true; nodeId: string }
  | { ok: false; reason: 'PEER_NODE_ID_MISSING' | 'PEER_NODE_ID_MISMATCH'; detail: string };

/**
 * Maps a certificate to the node ID it proves. The identity module provides the real one
 * (`authenticatePeerCertificate`): the network layer knows certificates, not how node IDs
 * are derived.
 */
export type PeerAuthenticator = (certificate: X509Certificate) => PeerAuthentication;

export type PeerVerification = { ok: true; nodeId: string } | { ok: false; reason: PeerRefusalReason; detail: string };

export interface PeerVerificationOptions {
  ownNodeId: string;
  /** The node ID the dialed address pins, if it pins one. */
  pinnedNodeId?: string;
  authenticate: PeerAuthenticator;
}

export function verifyPeer(socket: TLSSocket, options: PeerVerificationOptions): PeerVerification {
  const certificate = socket.getPeerX509Certificate();
  if (certificate === undefined) {
    return { ok: false, reason: 'PEER_NO_CERTIFICATE', detail: 'the peer presented no certificate; every peer needs one issued by the cluster CA' };
  }
  if (!socket.authorized) {
    const why = socket.authorizationError instanceof Error ? socket.authorizationError.message : String(socket.authorizationError);
    return {
      ok: false,
      reason: 'PEER_UNTRUSTED_CERTIFICATE',
      detail: `the peer's certificate does not verify against this cluster's CA (${why}); it may come from another cluster`,
    };
  }
  const authentication = options.authenticate(certificate);
  if (!authentication.ok) return authentication;
  if (options.pinnedNodeId !== undefined && authentication.nodeId !== options.pinnedNodeId) {
    return {
      ok: false,
      reason: 'PEER_PIN_MISMATCH',
      detail: `dialed a peer pinned as ${options.pinnedNodeId}, but reached ${authentication.nodeId}`,
    };
  }
  if (authentication.nodeId === options.ownNodeId) {
    return { ok: false, reason: 'PEER_IS_SELF', detail: 'the peer is this node itself' };
  }
  return { ok: true, nodeId: authentication.nodeId };
}
