import { describe, expect, it, afterAll } from 'vitest';
import { X509Certificate } from 'node:crypto';
import {
  authenticatePeerCertificate,
  claimedNodeIdOfCertificate,
  loadCluster,
  nodeIdOfCertificate,
  nodeIdOfPrivateKey,
} from '../../../src/p2p/identity/index.js';
import { forgeCertificate, makeCluster, makePeer, removeTemporaryDirectories } from '../../net/helpers.js';

afterAll(removeTemporaryDirectories);

describe('authenticatePeerCertificate', () => {
  it('accepts an honest certificate and names its node id', async () => {
    const clusterDir = await makeCluster();
    const peer = await makePeer(clusterDir);
    const certificate = new X509Certificate(peer.certPem);
    expect(authenticatePeerCertificate(certificate)).toEqual({ ok: true, nodeId: peer.nodeId });
    expect(nodeIdOfCertificate(certificate)).toBe(peer.nodeId);
    expect(nodeIdOfPrivateKey(peer.keyPem)).toBe(peer.nodeId);
  });

  it("refuses a CA-signed certificate that claims another peer's node id", async () => {
    const clusterDir = await makeCluster();
    const victim = await makePeer(clusterDir);
    const attacker = await makePeer(clusterDir);
    const forged = new X509Certificate(await forgeCertificate(clusterDir, attacker.keyPem, victim.nodeId));
    expect(claimedNodeIdOfCertificate(forged)).toEqual({ nodeId: victim.nodeId });
    const result = authenticatePeerCertificate(forged);
    expect(result).toMatchObject({ ok: false, reason: 'PEER_NODE_ID_MISMATCH' });
    expect(result.ok ? '' : result.detail).toContain(attacker.nodeId);
  });

  it('refuses a certificate that names no node id', async () => {
    const clusterDir = await makeCluster();
    const ca = new X509Certificate(loadCluster(clusterDir).caCertPem);
    expect(authenticatePeerCertificate(ca)).toMatchObject({ ok: false, reason: 'PEER_NODE_ID_MISSING' });
  });
});
