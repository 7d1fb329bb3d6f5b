/**
 * Multicast announcements: "I am node N, reachable at host:port", with the peer's
 * certificate and a signature by the certificate's key over the contact and a timestamp.
 *
 *   msgpack { version: 1, nodeId, host, port, timestampMs, certificate: DER, signature: DER }
 *
 * The signed bytes are a domain tag, then the node ID (20 bytes), the port (uint16), the
 * timestamp (float64, milliseconds since the epoch), the SHA-256 of the certificate and the
 * host (UTF-8), all big-endian. Anyone on the LAN can send a datagram, so an announcement is
 * believed only if every check in `verifyAnnouncement` passes; what fails is dropped with
 * its reason. Even a believed contact is dialed pinned to its node ID, so the TLS handshake
 * proves it again.
 */
import { createHash, createPrivateKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { Packr, Unpackr } from 'msgpackr';
import { authenticatePeerCertificate, nodeIdToBytes } from '../identity/index.js';
import { contactProblem, type Contact } from '../kademlia/index.js';
import { announcementBytesMax, multicastFreshnessMs } from './constants.js';

export const announcementVersion = 1;
const signingDomain = Buffer.from('nines/discovery/multicast/v1\0');
const packer = new Packr({ useRecords: false });

/** Why an announcement was dropped. `ANNOUNCEMENT_FROM_SELF` is our own echo and is not logged. */
export type AnnouncementDropReason =
  | 'ANNOUNCEMENT_OVERSIZED'
  | 'ANNOUNCEMENT_MALFORMED'
  | 'ANNOUNCEMENT_FROM_SELF'
  | 'ANNOUNCEMENT_STALE'
  | 'ANNOUNCEMENT_CERTIFICATE_INVALID'
  | 'ANNOUNCEMENT_FOREIGN_CA'
  | 'ANNOUNCEMENT_CERTIFICATE_EXPIRED'
  | 'ANNOUNCEMENT_NODE_ID_MISMATCH'
  | 'ANNOUNCEMENT_SIGNATURE_INVALID';

export type AnnouncementVerdict = { ok: true; contact: Contact } | { ok: false; reason: AnnouncementDropReason; detail: string };

export interface Announcer {
  contact: Contact;
  certificatePem: string;
  keyPem: string;
}

/** The bytes an announcement's signature covers. */
export function announcementSignedBytes(contact: Contact, timestampMs: number, certificateDer: Uint8Array): Buffer {
  const host = Buffer.from(contact.host, 'utf8');
  const fixed = Buffer.alloc(20 + 2 + 8);
  Buffer.from(nodeIdToBytes(contact.nodeId)).copy(fixed, 0);
  fixed.writeUInt16BE(contact.port, 20);
  fixed.writeDoubleBE(timestampMs, 22);
  const certificateHash = createHash('sha256').update(certificateDer).digest();
  return Buffer.concat([signingDomain, fixed, certificateHash, host]);
}

/** Encodes and signs an announcement of `announcer.contact` made at `timestampMs`. */
export function encodeAnnouncement(announcer: Announcer, timestampMs: number, key: KeyObject = createPrivateKey(announcer.keyPem)): Buffer {
  const certificate = new X509Certificate(announcer.certificatePem).raw;
  const signature = sign('sha256', announcementSignedBytes(announcer.contact, timestampMs, certificate), key);
  const { nodeId, host, port } = announcer.contact;
  const bytes = packer.pack({ version: announcementVersion, nodeId, host, port, timestampMs, certificate, signature });
  if (bytes.length > announcementBytesMax) throw new RangeError(`an announcement of ${bytes.length} bytes is larger than the ${announcementBytesMax}-byte maximum`);
  return bytes;
}

interface DecodedAnnouncement {
  contact: Contact;
  timestampMs: number;
  certificate: Uint8Array;
  signature: Uint8Array;
}

function decode(bytes: Uint8Array): DecodedAnnouncement | string {
  let value: unknown;
  try {
    value = new Unpackr({ useRecords: false, mapsAsObjects: true }).unpack(bytes);
  } catch (error) {
    return `not msgpack: ${(error as Error).message}`;
  }
  if (typeof value !== 'object' || value === null) return 'not a msgpack map';
  const fields = value as Record<string, unknown>;
  if (fields.version !== announcementVersion) return `unsupported version ${String(fields.version)}; this node reads version ${announcementVersion}`;
  const contact = { nodeId: fields.nodeId, host: fields.host, port: fields.port };
  const problem = contactProblem(contact);
  if (problem !== undefined) return problem;
  if (typeof fields.timestampMs !== 'number' || !Number.isFinite(fields.timestampMs)) return 'timestampMs must be a number';
  if (!(fields.certificate instanceof Uint8Array) || !(fields.signature instanceof Uint8Array)) return 'certificate and signature must be bytes';
  return { contact: contact as Contact, timestampMs: fields.timestampMs, certificate: fields.certificate, signature: fields.signature };
}

/**
 * Checks an announcement from the network: size, shape, freshness, a certificate issued by
 * our cluster CA and valid now, a certificate key that hashes to the announced node ID, and
 * a signature by that key. Never throws on bad input.
 */
export function verifyAnnouncement(
  bytes: Uint8Array,
  options: { ca: X509Certificate; selfNodeId: string; nowMs: number; certificates?: CertificateCache },
): AnnouncementVerdict {
  if (bytes.length > announcementBytesMax) return drop('ANNOUNCEMENT_OVERSIZED', `${bytes.length} bytes, more than the ${announcementBytesMax}-byte maximum`);
  const decoded = decode(bytes);
  if (typeof decoded === 'string') return drop('ANNOUNCEMENT_MALFORMED', decoded);
  const { contact, timestampMs } = decoded;
  if (contact.nodeId === options.selfNodeId) return drop('ANNOUNCEMENT_FROM_SELF', 'our own announcement came back');
  const ageMs = options.nowMs - timestampMs;
  if (Math.abs(ageMs) > multicastFreshnessMs) {
    return drop('ANNOUNCEMENT_STALE', `made ${Math.round(ageMs)} ms from now, outside the ${multicastFreshnessMs} ms allowed (a replay, or a clock that is off)`);
  }
  const checked = checkCertificate(decoded.certificate, options);
  if ('reason' in checked) return checked;
  const { certificate, nodeId } = checked;
  if (options.nowMs < Date.parse(certificate.validFrom) || options.nowMs > Date.parse(certificate.validTo)) {
    return drop('ANNOUNCEMENT_CERTIFICATE_EXPIRED', `the certificate is valid from ${certificate.validFrom} to ${certificate.validTo}`);
  }
  if (nodeId !== contact.nodeId) {
    return drop('ANNOUNCEMENT_NODE_ID_MISMATCH', `the announcement names node ${contact.nodeId} but its certificate proves ${nodeId}`);
  }
  const signed = announcementSignedBytes(contact, timestampMs, decoded.certificate);
  let valid = false;
  try {
    valid = verify('sha256', signed, certificate.publicKey, decoded.signature);
  } catch {
    valid = false;
  }
  if (!valid) return drop('ANNOUNCEMENT_SIGNATURE_INVALID', `the signature does not verify with the key of ${contact.nodeId}'s certificate`);
  return { ok: true, contact };
}

/**
 * Certificates already found to chain to the cluster CA and to prove a node ID, by the
 * SHA-256 of their DER. Peers repeat the same certificate in every announcement, and
 * checking it costs a parse, a chain signature and a hash; the announcement's own
 * signature, timestamp and validity period are still checked every time.
 */
export class CertificateCache {
  private readonly entries = new Map<string, { certificate: X509Certificate; nodeId: string }>();

  constructor(private readonly entriesMax: number) {}

  get(hash: string): { certificate: X509Certificate; nodeId: string } | undefined {
    return this.entries.get(hash);
  }

  set(hash: string, entry: { certificate: X509Certificate; nodeId: string }): void {
    if (this.entries.size >= this.entriesMax) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(hash, entry);
  }
}

function checkCertificate(
  der: Uint8Array,
  options: { ca: X509Certificate; certificates?: CertificateCache },
): { certificate: X509Certificate; nodeId: string } | { ok: false; reason: AnnouncementDropReason; detail: string } {
  const hash = createHash('sha256').update(der).digest('hex');
  const cached = options.certificates?.get(hash);
  if (cached !== undefined) return cached;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(Buffer.from(der));
  } catch (error) {
    return { ok: false, reason: 'ANNOUNCEMENT_CERTIFICATE_INVALID', detail: `the certificate does not parse: ${(error as Error).message}` };
  }
  if (!certificate.checkIssued(options.ca) || !certificate.verify(options.ca.publicKey)) {
    return { ok: false, reason: 'ANNOUNCEMENT_FOREIGN_CA', detail: `the certificate of ${certificate.subject.replace(/\n/g, ', ')} was not issued by this cluster's CA; it may come from another cluster` };
  }
  const authentication = authenticatePeerCertificate(certificate);
  if (!authentication.ok) return { ok: false, reason: 'ANNOUNCEMENT_NODE_ID_MISMATCH', detail: authentication.detail };
  const entry = { certificate, nodeId: authentication.nodeId };
  options.certificates?.set(hash, entry);
  return entry;
}

function drop(reason: AnnouncementDropReason, detail: string): AnnouncementVerdict {
  return { ok: false, reason, detail };
}
