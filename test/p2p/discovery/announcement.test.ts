import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash, X509Certificate } from 'node:crypto';
import { Packr } from 'msgpackr';
import { announcementBytesMax, CertificateCache, encodeAnnouncement, multicastFreshnessMs, verifyAnnouncement, type Announcer } from '../../../src/p2p/discovery/index.js';
import type { Identity } from '../../../src/p2p/identity/index.js';
import { forgeCertificate, makeCluster, makePeer, removeTemporaryDirectories } from '../../net/helpers.js';

let clusterDir: string;
let ca: X509Certificate;
let alice: Identity;
let bob: Identity;
let foreigner: Identity;
const now = Date.now();

function announcerOf(identity: Identity, port = 4000): Announcer {
  return { contact: { nodeId: identity.nodeId, host: '127.0.0.1', port }, certificatePem: identity.certPem, keyPem: identity.keyPem };
}

function verify(bytes: Uint8Array, nowMs = now) {
  return verifyAnnouncement(bytes, { ca, selfNodeId: bob.nodeId, nowMs });
}

function reasonOf(bytes: Uint8Array, nowMs = now): string {
  const verdict = verify(bytes, nowMs);
  return verdict.ok ? 'ok' : verdict.reason;
}

/** Re-encodes an announcement with some fields replaced, keeping its signature. */
function tamper(bytes: Buffer, change: Record<string, unknown>): Buffer {
  const fields = new Packr({ useRecords: false }).unpack(bytes) as Record<string, unknown>;
  return new Packr({ useRecords: false }).pack({ ...fields, ...change });
}

beforeAll(async () => {
  clusterDir = await makeCluster('lan');
  [alice, bob] = await Promise.all([makePeer(clusterDir), makePeer(clusterDir)]);
  foreigner = await makePeer(await makeCluster('elsewhere'));
  ca = new X509Certificate(alice.caPem);
});

afterAll(removeTemporaryDirectories);

describe('multicast announcements', () => {
  it('are believed when signed by a member of the cluster, fresh, and naming its own node ID', () => {
    const verdict = verify(encodeAnnouncement(announcerOf(alice, 4321), now));
    expect(verdict).toEqual({ ok: true, contact: { nodeId: alice.nodeId, host: '127.0.0.1', port: 4321 } });
  });

  it('are dropped when the signature was forged or the signed fields were changed', () => {
    const bytes = encodeAnnouncement(announcerOf(alice), now);
    const fields = new Packr({ useRecords: false }).unpack(bytes) as { signature: Buffer };
    const forged = Buffer.from(fields.signature);
    forged[forged.length - 1] ^= 0x01;
    expect(reasonOf(tamper(bytes, { signature: forged }))).toBe('ANNOUNCEMENT_SIGNATURE_INVALID');
    expect(reasonOf(tamper(bytes, { port: 4001 }))).toBe('ANNOUNCEMENT_SIGNATURE_INVALID');
    expect(reasonOf(tamper(bytes, { host: '10.0.0.66' }))).toBe('ANNOUNCEMENT_SIGNATURE_INVALID');
    expect(reasonOf(tamper(bytes, { timestampMs: now + 1 }))).toBe('ANNOUNCEMENT_SIGNATURE_INVALID');
  });

  it('are dropped when signed by a key whose certificate another CA issued', () => {
    expect(reasonOf(encodeAnnouncement(announcerOf(foreigner), now))).toBe('ANNOUNCEMENT_FOREIGN_CA');
  });

  it('are dropped when stale or from the future beyond the allowed clock difference', () => {
    const announcer = announcerOf(alice);
    expect(reasonOf(encodeAnnouncement(announcer, now - multicastFreshnessMs))).toBe('ok');
    expect(reasonOf(encodeAnnouncement(announcer, now - multicastFreshnessMs - 1))).toBe('ANNOUNCEMENT_STALE');
    expect(reasonOf(encodeAnnouncement(announcer, now + multicastFreshnessMs + 1))).toBe('ANNOUNCEMENT_STALE');
  });

  it("are dropped when the announced node ID is not the certificate's", async () => {
    // Alice's own certificate and key, announcing Bob's node ID: a valid signature, but not Bob's certificate.
    const claimingBob: Announcer = { ...announcerOf(alice), contact: { ...announcerOf(alice).contact, nodeId: bob.nodeId } };
    const asSelf = verifyAnnouncement(encodeAnnouncement(claimingBob, now), { ca, selfNodeId: foreigner.nodeId, nowMs: now });
    expect(asSelf.ok ? 'ok' : asSelf.reason).toBe('ANNOUNCEMENT_NODE_ID_MISMATCH');
    // A certificate the CA signed that claims Bob's ID over Alice's key.
    const forged = await forgeCertificate(clusterDir, alice.keyPem, bob.nodeId);
    const forgedAnnouncer: Announcer = { contact: claimingBob.contact, certificatePem: forged, keyPem: alice.keyPem };
    const verdict = verifyAnnouncement(encodeAnnouncement(forgedAnnouncer, now), { ca, selfNodeId: foreigner.nodeId, nowMs: now });
    expect(verdict.ok ? 'ok' : verdict.reason).toBe('ANNOUNCEMENT_NODE_ID_MISMATCH');
  });

  it('are dropped when their certificate is outside its validity period', () => {
    const afterExpiry = Date.parse(new X509Certificate(alice.certPem).validTo) + 1;
    expect(reasonOf(encodeAnnouncement(announcerOf(alice), afterExpiry), afterExpiry)).toBe('ANNOUNCEMENT_CERTIFICATE_EXPIRED');
  });

  it("are ignored when they are this node's own echo", () => {
    expect(reasonOf(encodeAnnouncement(announcerOf(bob), now))).toBe('ANNOUNCEMENT_FROM_SELF');
  });

  it('still have their signature, time and validity checked when their certificate is cached', () => {
    const certificates = new CertificateCache(4);
    const options = { ca, selfNodeId: bob.nodeId, nowMs: now, certificates };
    const bytes = encodeAnnouncement(announcerOf(alice), now);
    expect(verifyAnnouncement(bytes, options).ok).toBe(true);
    expect(certificates.get(createHash('sha256').update(new X509Certificate(alice.certPem).raw).digest('hex'))?.nodeId).toBe(alice.nodeId);
    const verdict = verifyAnnouncement(tamper(bytes, { port: 4001 }), options);
    expect(verdict.ok ? 'ok' : verdict.reason).toBe('ANNOUNCEMENT_SIGNATURE_INVALID');
    const claimingBob = verifyAnnouncement(tamper(bytes, { nodeId: foreigner.nodeId }), options);
    expect(claimingBob.ok ? 'ok' : claimingBob.reason).toBe('ANNOUNCEMENT_NODE_ID_MISMATCH');
    const afterExpiry = Date.parse(new X509Certificate(alice.certPem).validTo) + 1;
    const late = verifyAnnouncement(encodeAnnouncement(announcerOf(alice), afterExpiry), { ...options, nowMs: afterExpiry });
    expect(late.ok ? 'ok' : late.reason).toBe('ANNOUNCEMENT_CERTIFICATE_EXPIRED');
    expect(reasonOf(encodeAnnouncement(announcerOf(foreigner), now))).toBe('ANNOUNCEMENT_FOREIGN_CA');
  });

  it('are dropped, never thrown, when malformed, oversized or random', () => {
    const bytes = encodeAnnouncement(announcerOf(alice), now);
    expect(reasonOf(Buffer.alloc(announcementBytesMax + 1))).toBe('ANNOUNCEMENT_OVERSIZED');
    expect(reasonOf(tamper(bytes, { version: 2 }))).toBe('ANNOUNCEMENT_MALFORMED');
    expect(reasonOf(tamper(bytes, { port: 0 }))).toBe('ANNOUNCEMENT_MALFORMED');
    expect(reasonOf(tamper(bytes, { certificate: Buffer.from('not a certificate') }))).toBe('ANNOUNCEMENT_CERTIFICATE_INVALID');
    expect(reasonOf(Buffer.from([0xc1]))).toBe('ANNOUNCEMENT_MALFORMED');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (random) => {
        const verdict = verify(random);
        return !verdict.ok;
      }),
      { numRuns: 300 },
    );
  });
});
