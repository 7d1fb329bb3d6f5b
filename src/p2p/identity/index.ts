/**
 * Peer identity: key pairs, node IDs, contacts and the cluster CA.
 *
 * A node ID is the first 160 bits of SHA-256 over the peer's public key (DER
 * SubjectPublicKeyInfo), written as 40 hex characters. A contact is (host, port, node ID),
 * written host:port#nodeid. Keys are ECDSA P-256.
 *
 * Files on disk:
 *
 *   <cluster dir>/ca-key.pem          0600  the cluster CA's private key; keep it off peers
 *   <cluster dir>/ca.pem              0600  the CA's self-signed certificate
 *
 *   <data dir>/identity/              0700
 *   <data dir>/identity/key.pem       0600  the peer's private key, made on first issue
 *   <data dir>/identity/cert.pem      0600  its certificate: CN and SAN URI nines://<node id>
 *   <data dir>/identity/ca.pem        0600  a copy of the CA certificate the peer trusts
 *
 * `nines cluster init` makes the CA (initCluster), `nines cluster issue` a peer's key and
 * certificate (issuePeerCertificate); a local swarm calls ensureCluster and
 * ensurePeerIdentity to make both on the fly. A peer loads its identity with loadIdentity
 * and hands it, with authenticatePeerCertificate, to the network transport.
 */
export * from './constants.js';
export * from './errors.js';
export { isNodeId, nodeIdFromBytes, nodeIdFromPublicKey, nodeIdToBytes, parseNodeId, type NodeId } from './node-id.js';
export { formatContact, parseContact, parsePeerAddress, type Contact, type PeerAddress } from './contact.js';
export {
  authenticatePeerCertificate,
  claimedNodeIdOfCertificate,
  isIssuedBy,
  nodeIdOfCertificate,
  nodeIdOfPrivateKey,
} from './certificate.js';
export {
  clusterPaths,
  ensureCluster,
  ensurePeerIdentity,
  identityPaths,
  initCluster,
  issuePeerCertificate,
  loadCluster,
  loadIdentity,
  type ClusterAuthority,
  type ClusterPaths,
  type Identity,
  type IdentityPaths,
  type InitClusterOptions,
  type IssueOptions,
} from './identity-file.js';
