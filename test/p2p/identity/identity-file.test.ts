import { describe, expect, it, afterAll } from 'vitest';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { X509Certificate, createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import {
  ClusterExistsError,
  ClusterMissingError,
  clusterPaths,
  ensureCluster,
  ensurePeerIdentity,
  IdentityCorruptError,
  IdentityExistsError,
  IdentityExpiredError,
  IdentityMissingError,
  IdentityPermissionsError,
  identityPaths,
  initCluster,
  isIssuedBy,
  issuePeerCertificate,
  loadCluster,
  loadIdentity,
} from '../../../src/p2p/identity/index.js';
import { removeTemporaryDirectories, temporaryDirectory } from '../../net/helpers.js';

afterAll(removeTemporaryDirectories);

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('cluster CA', () => {
  it('is created with a private key of mode 0600 and a CA certificate', async () => {
    const dir = temporaryDirectory();
    const authority = await initCluster(dir, { name: 'Test cluster-1.a_b' });
    const paths = clusterPaths(dir);
    expect(modeOf(paths.key)).toBe(0o600);
    expect(modeOf(paths.certificate)).toBe(0o600);
    const certificate = new X509Certificate(readFileSync(paths.certificate));
    expect(certificate.ca).toBe(true);
    expect(authority.name).toBe('Test cluster-1.a_b');
    expect(authority.fingerprint256).toBe(certificate.fingerprint256);
    expect(loadCluster(dir).caCertPem).toBe(authority.caCertPem);
  });

  it('is never overwritten without force', async () => {
    const dir = temporaryDirectory();
    const first = await initCluster(dir, { name: 'one' });
    await expect(initCluster(dir, { name: 'two' })).rejects.toThrow(ClusterExistsError);
    expect(loadCluster(dir).caKeyPem).toBe(first.caKeyPem);
    const second = await initCluster(dir, { name: 'two', force: true });
    expect(second.caKeyPem).not.toBe(first.caKeyPem);
    expect(modeOf(clusterPaths(dir).key)).toBe(0o600);
  });

  it('refuses a missing CA or a key file that others can read', async () => {
    const dir = temporaryDirectory();
    expect(() => loadCluster(dir)).toThrow(ClusterMissingError);
    expect(() => loadCluster(dir)).toThrow(/nines cluster init --dir/);
    await initCluster(dir, { name: 'c' });
    chmodSync(clusterPaths(dir).key, 0o644);
    expect(() => loadCluster(dir)).toThrow(IdentityPermissionsError);
    expect(() => loadCluster(dir)).toThrow(/chmod 600/);
  });

  it('checks its name and validity period', async () => {
    await expect(initCluster(temporaryDirectory(), { name: '' })).rejects.toThrow(RangeError);
    await expect(initCluster(temporaryDirectory(), { name: 'a, CN=b' })).rejects.toThrow(/letters, digits/);
    await expect(initCluster(temporaryDirectory(), { name: 'x', validityDays: 0 })).rejects.toThrow(/validity/);
  });
});

describe('peer identity', () => {
  it('creates key and certificate with mode 0600, and a node id that is SHA-256 of the public key, stable across reloads', async () => {
    const clusterDir = temporaryDirectory();
    await initCluster(clusterDir, { name: 'c' });
    const dataDir = temporaryDirectory();
    const issued = await issuePeerCertificate(clusterDir, dataDir);
    expect(issued.keyCreated).toBe(true);
    const paths = identityPaths(dataDir);
    for (const path of [paths.key, paths.certificate, paths.ca]) expect(modeOf(path)).toBe(0o600);
    expect(modeOf(paths.directory)).toBe(0o700);

    const spki = createPublicKey(createPrivateKey(readFileSync(paths.key, 'utf8'))).export({ type: 'spki', format: 'der' });
    const expected = createHash('sha256').update(spki).digest().subarray(0, 20).toString('hex');
    expect(issued.nodeId).toBe(expected);
    expect(issued.nodeId).toMatch(/^[0-9a-f]{40}$/);

    const certificate = new X509Certificate(issued.certPem);
    expect(certificate.subject).toBe(`CN=${expected}`);
    expect(certificate.subjectAltName).toBe(`URI:nines://${expected}`);
    expect(certificate.ca).toBe(false);
    expect(loadIdentity(dataDir)).toEqual({ nodeId: expected, keyPem: issued.keyPem, certPem: issued.certPem, caPem: issued.caPem });
    expect(loadIdentity(dataDir).nodeId).toBe(expected);
  });

  it('refuses to overwrite a certificate without force, and keeps the key (and node id) with force', async () => {
    const clusterDir = temporaryDirectory();
    await initCluster(clusterDir, { name: 'c' });
    const dataDir = temporaryDirectory();
    const first = await issuePeerCertificate(clusterDir, dataDir);
    await expect(issuePeerCertificate(clusterDir, dataDir)).rejects.toThrow(IdentityExistsError);
    const second = await issuePeerCertificate(clusterDir, dataDir, { force: true });
    expect(second.keyCreated).toBe(false);
    expect(second.nodeId).toBe(first.nodeId);
    expect(second.certPem).not.toBe(first.certPem);
  });

  it('says how to issue an identity when there is none', () => {
    const dataDir = temporaryDirectory();
    expect(() => loadIdentity(dataDir)).toThrow(IdentityMissingError);
    expect(() => loadIdentity(dataDir)).toThrow(/nines cluster issue --cluster-dir/);
  });

  it('refuses an exposed key, a certificate for another key, one from another CA, and an expired one', async () => {
    const clusterDir = temporaryDirectory();
    await initCluster(clusterDir, { name: 'c' });
    const dataDir = temporaryDirectory();
    const otherDir = temporaryDirectory();
    await issuePeerCertificate(clusterDir, dataDir);
    const other = await issuePeerCertificate(clusterDir, otherDir);
    const paths = identityPaths(dataDir);

    chmodSync(paths.key, 0o640);
    expect(() => loadIdentity(dataDir)).toThrow(IdentityPermissionsError);
    chmodSync(paths.key, 0o600);

    const ownCertificate = readFileSync(paths.certificate, 'utf8');
    writeFileSync(paths.certificate, other.certPem);
    expect(() => loadIdentity(dataDir)).toThrow(/issued for a different key/);
    writeFileSync(paths.certificate, ownCertificate);

    const foreignCluster = temporaryDirectory();
    await initCluster(foreignCluster, { name: 'f' });
    const ownCa = readFileSync(paths.ca, 'utf8');
    writeFileSync(paths.ca, loadCluster(foreignCluster).caCertPem);
    expect(() => loadIdentity(dataDir)).toThrow(IdentityCorruptError);
    writeFileSync(paths.ca, ownCa);
    await expect(ensurePeerIdentity(foreignCluster, dataDir)).rejects.toThrow(/another cluster CA/);

    const future = new Date(Date.now() + 10_000 * 86_400_000);
    expect(() => loadIdentity(dataDir, { now: future })).toThrow(IdentityExpiredError);
    writeFileSync(paths.certificate, 'not a certificate');
    expect(() => loadIdentity(dataDir)).toThrow(IdentityCorruptError);
  });
});

describe('local swarm', () => {
  it('makes the CA and each peer identity on the fly, and reuses them afterwards', async () => {
    const swarmDir = temporaryDirectory();
    const clusterDir = `${swarmDir}/cluster`;
    const authority = await ensureCluster(clusterDir, { name: 'swarm' });
    expect(existsSync(clusterPaths(clusterDir).key)).toBe(true);
    const peerOne = await ensurePeerIdentity(clusterDir, `${swarmDir}/peer-1`);
    const peerTwo = await ensurePeerIdentity(clusterDir, `${swarmDir}/peer-2`);
    expect(peerOne.nodeId).not.toBe(peerTwo.nodeId);
    expect(isIssuedBy(peerOne.certPem, authority.caCertPem)).toBe(true);
    expect((await ensureCluster(clusterDir, { name: 'swarm' })).caKeyPem).toBe(authority.caKeyPem);
    expect((await ensurePeerIdentity(clusterDir, `${swarmDir}/peer-1`)).nodeId).toBe(peerOne.nodeId);
  });
});
