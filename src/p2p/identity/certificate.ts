/**
 * Keys and certificates: the cluster CA's self-signed certificate, peer certificates
 * signed by it, and the check that ties a certificate to a node ID.
 *
 * A peer certificate names its node ID twice, as the subject common name (for people
 * reading it) and as the subject alternative name URI nines://<node id> (for programs).
 * Naming an ID proves nothing by itself; `authenticatePeerCertificate` also hashes the
 * certificate's actual public key and refuses the certificate unless the hash is the
 * ID it names. A CA that signs a certificate claiming someone else's ID therefore still
 * cannot make it accepted.
 */
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import type { PeerAuthentication } from '../../net/index.js';
import { clockSkewAllowanceMs, keyCurve, nodeIdUriScheme, serialNumberBytes } from './constants.js';
import { isNodeId, nodeIdFromPublicKey, type NodeId } from './node-id.js';

// @peculiar/x509 signs through WebCrypto; Node's implementation is the one to use.
x509.cryptoProvider.set(webcrypto);

type CryptoKey = webcrypto.CryptoKey;

const keyAlgorithm = { name: 'ECDSA', namedCurve: keyCurve };
const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' };
const dayMs = 24 * 60 * 60 * 1000;

/** A new P-256 private key as PKCS#8 PEM. */
export function generatePrivateKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: keyCurve });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The DER SubjectPublicKeyInfo of the public half of a PEM private key. */
export function publicKeyDerOfPrivateKey(privateKeyPem: string): Buffer {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'der' });
}

/** The node ID that a private key's public half hashes to. */
export function nodeIdOfPrivateKey(privateKeyPem: string): NodeId {
  return nodeIdFromPublicKey(publicKeyDerOfPrivateKey(privateKeyPem));
}

/** The node ID that a certificate's actual public key hashes to (whatever the certificate claims). */
export function nodeIdOfCertificate(certificate: X509Certificate): NodeId {
  return nodeIdFromPublicKey(certificate.publicKey.export({ type: 'spki', format: 'der' }));
}

export interface CaCertificateOptions {
  privateKeyPem: string;
  name: string;
  validityDays: number;
  now: Date;
}

/** The cluster CA's self-signed certificate: it may sign peer certificates and nothing deeper. */
export async function createCaCertificate(options: CaCertificateOptions): Promise<string> {
  const keys = {
    privateKey: await importSigningKey(options.privateKeyPem),
    publicKey: await importPublicKey(publicKeyDerOfPrivateKey(options.privateKeyPem)),
  };
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [options.name] }, { O: ['nines cluster CA'] }],
    ...validity(options.now, options.validityDays),
    keys,
    signingAlgorithm,
    extensions: [
      // Path length 0: the CA signs peer certificates directly and no intermediate CAs.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return certificate.toString('pem') + '\n';
}

export interface PeerCertificateOptions {
  caPrivateKeyPem: string;
  caCertificatePem: string;
  peerPublicKeyDer: Uint8Array;
  validityDays: number;
  now: Date;
}

/** A peer certificate for the given public key, naming the node ID that key hashes to. */
export async function createPeerCertificate(options: PeerCertificateOptions): Promise<string> {
  const nodeId = nodeIdFromPublicKey(options.peerPublicKeyDer);
  const caCertificate = new x509.X509Certificate(options.caCertificatePem);
  const peerPublicKey = await importPublicKey(options.peerPublicKeyDer);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: [{ CN: [nodeId] }],
    // The issuer is copied as the CA's encoded name, so that chain building matches it byte for byte.
    issuer: caCertificate.subjectName,
    ...validity(options.now, options.validityDays),
    publicKey: peerPublicKey,
    signingKey: await importSigningKey(options.caPrivateKeyPem),
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      // Every peer both accepts and makes connections, so it is a TLS server and a TLS client.
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: nodeIdUriScheme + nodeId }]),
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate),
      await x509.SubjectKeyIdentifierExtension.create(peerPublicKey),
    ],
  });
  return certificate.toString('pem') + '\n';
}

/**
 * The node ID a certificate names, or why it names none. The subject common name and
 * the single nines:// SAN URI must agree.
 */
export function claimedNodeIdOfCertificate(certificate: X509Certificate): { nodeId: NodeId } | { problem: string } {
  const commonNames = certificate.subject.split('\n').filter((line) => line.startsWith('CN=')).map((line) => line.slice(3));
  const alternativeNames = (certificate.subjectAltName ?? '').split(', ');
  const uriNodeIds = alternativeNames
    .filter((entry) => entry.startsWith('URI:' + nodeIdUriScheme))
    .map((entry) => entry.slice(('URI:' + nodeIdUriScheme).length));
  if (uriNodeIds.length !== 1) return { problem: `the certificate must name exactly one ${nodeIdUriScheme} URI, found ${uriNodeIds.length}` };
  const nodeId = uriNodeIds[0];
  if (!isNodeId(nodeId)) return { problem: `the certificate's ${nodeIdUriScheme} URI does not hold a 40-character lowercase hex node id` };
  if (commonNames.length !== 1 || commonNames[0] !== nodeId) {
    return { problem: `the certificate's common name does not repeat its node id ${nodeId}` };
  }
  return { nodeId };
}

/**
 * Decides which node a (chain-verified) peer certificate proves: the ID it names, and
 * only if its public key hashes to that ID. The transport calls this on every handshake.
 */
export function authenticatePeerCertificate(certificate: X509Certificate): PeerAuthentication {
  const claim = claimedNodeIdOfCertificate(certificate);
  if ('problem' in claim) return { ok: false, reason: 'PEER_NODE_ID_MISSING', detail: claim.problem };
  const actual = nodeIdOfCertificate(certificate);
  if (actual !== claim.nodeId) {
    return {
      ok: false,
      reason: 'PEER_NODE_ID_MISMATCH',
      detail: `the certificate claims node id ${claim.nodeId} but its public key hashes to ${actual}`,
    };
  }
  return { ok: true, nodeId: actual };
}

/** The subject common name of a PEM certificate, decoded (Node's own `subject` text escapes special characters). */
export function commonNameOfCertificate(certificatePem: string): string | undefined {
  return new x509.X509Certificate(certificatePem).subjectName.getField('CN')[0];
}

/** Whether a PEM certificate was signed by the given CA certificate. */
export function isIssuedBy(certificatePem: string, caCertificatePem: string): boolean {
  const certificate = new X509Certificate(certificatePem);
  const ca = new X509Certificate(caCertificatePem);
  return certificate.checkIssued(ca) && certificate.verify(ca.publicKey);
}

function validity(now: Date, validityDays: number): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(now.getTime() - clockSkewAllowanceMs),
    notAfter: new Date(now.getTime() + validityDays * dayMs),
  };
}

function randomSerialNumber(): string {
  const bytes = randomBytes(serialNumberBytes);
  // A serial number is a positive integer: clear the top bit so DER does not read it as
  // negative, and keep the first byte non-zero so the number keeps its full length.
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01;
  return bytes.toString('hex');
}

async function importSigningKey(privateKeyPem: string): Promise<CryptoKey> {
  const der = createPrivateKey(privateKeyPem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, keyAlgorithm, false, ['sign']);
}

async function importPublicKey(subjectPublicKeyInfoDer: Uint8Array): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('spki', subjectPublicKeyInfoDer, keyAlgorithm, true, ['verify']);
}
