/**
 * The identity module's file shell: creates, signs, writes and loads the cluster CA and
 * the peers' identities. The layout on disk is described in ./index.ts.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import {
  caValidityDaysDefault,
  clusterCertificateFileName,
  clusterKeyFileName,
  clusterNameLengthMax,
  directoryModePrivate,
  fileModePrivate,
  identityCaFileName,
  identityCertificateFileName,
  identityDirectoryName,
  identityKeyFileName,
  peerValidityDaysDefault,
  validityDaysMax,
} from './constants.js';
import {
  authenticatePeerCertificate,
  commonNameOfCertificate,
  createCaCertificate,
  createPeerCertificate,
  generatePrivateKeyPem,
  isIssuedBy,
  publicKeyDerOfPrivateKey,
} from './certificate.js';
import {
  ClusterCorruptError,
  ClusterExistsError,
  ClusterMissingError,
  IdentityCorruptError,
  IdentityExistsError,
  IdentityExpiredError,
  IdentityMissingError,
  IdentityPermissionsError,
} from './errors.js';
import type { NodeId } from './node-id.js';

/** What a peer needs to join the cluster: its key, its certificate and the CA it trusts. */
export interface Identity {
  nodeId: NodeId;
  keyPem: string;
  certPem: string;
  caPem: string;
}

/** A cluster CA loaded from its directory. Only `nines cluster` and local swarms hold one. */
export interface ClusterAuthority {
  dir: string;
  name: string;
  caKeyPem: string;
  caCertPem: string;
  /** SHA-256 fingerprint of the CA certificate, as colon-separated hex pairs. */
  fingerprint256: string;
}

export interface IdentityPaths {
  directory: string;
  key: string;
  certificate: string;
  ca: string;
}

export interface ClusterPaths {
  key: string;
  certificate: string;
}

export function identityPaths(dataDir: string): IdentityPaths {
  const directory = join(dataDir, identityDirectoryName);
  return {
    directory,
    key: join(directory, identityKeyFileName),
    certificate: join(directory, identityCertificateFileName),
    ca: join(directory, identityCaFileName),
  };
}

export function clusterPaths(clusterDir: string): ClusterPaths {
  return { key: join(clusterDir, clusterKeyFileName), certificate: join(clusterDir, clusterCertificateFileName) };
}

export interface InitClusterOptions {
  /** The CA's common name, shown in every peer certificate's issuer. */
  name: string;
  /** Replace an existing CA. Every certificate the old CA issued stops being trusted. */
  force?: boolean;
  validityDays?: number;
  now?: Date;
}

/** Creates the cluster CA: a new key (0600) and a self-signed CA certificate. */
export async function initCluster(dir: string, options: InitClusterOptions): Promise<ClusterAuthority> {
  const name = checkClusterName(options.name);
  const validityDays = checkValidityDays(options.validityDays ?? caValidityDaysDefault);
  const paths = clusterPaths(dir);
  const existing = [paths.key, paths.certificate].filter((path) => existsSync(path));
  if (existing.length > 0 && options.force !== true) {
    throw new ClusterExistsError(
      `a cluster CA already exists in ${dir} (${existing.join(', ')}); refusing to overwrite it. ` +
        'Replacing it would make every certificate it issued untrusted; pass --force if that is what you want.',
    );
  }
  mkdirSync(dir, { recursive: true, mode: directoryModePrivate });
  const caKeyPem = generatePrivateKeyPem();
  const caCertPem = await createCaCertificate({ privateKeyPem: caKeyPem, name, validityDays, now: options.now ?? new Date() });
  writePrivateFile(paths.key, caKeyPem, options.force === true);
  writePrivateFile(paths.certificate, caCertPem, options.force === true);
  return loadCluster(dir);
}

/** Loads a cluster CA and checks that its key and certificate belong together. */
export function loadCluster(dir: string): ClusterAuthority {
  const paths = clusterPaths(dir);
  for (const path of [paths.key, paths.certificate]) {
    if (!existsSync(path)) {
      throw new ClusterMissingError(`no cluster CA in ${dir}: ${path} is missing. Create one with: nines cluster init --dir ${dir}`);
    }
  }
  checkPrivateFileMode(paths.key);
  const caKeyPem = readFileSync(paths.key, 'utf8');
  const caCertPem = readFileSync(paths.certificate, 'utf8');
  let certificate: X509Certificate;
  let keyDer: Buffer;
  try {
    certificate = new X509Certificate(caCertPem);
    keyDer = publicKeyDerOfPrivateKey(caKeyPem);
  } catch (error) {
    throw new ClusterCorruptError(`the cluster CA files in ${dir} do not parse (${(error as Error).message}); re-create them with nines cluster init --force`);
  }
  if (!certificate.ca) throw new ClusterCorruptError(`${paths.certificate} is not a CA certificate`);
  if (!keyDer.equals(certificate.publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new ClusterCorruptError(`${paths.key} is not the key of the CA certificate ${paths.certificate}`);
  }
  return { dir, name: commonNameOfCertificate(caCertPem) ?? '', caKeyPem, caCertPem, fingerprint256: certificate.fingerprint256 };
}

export interface IssueOptions {
  /** Replace an existing certificate. The key, and so the node ID, is kept. */
  force?: boolean;
  validityDays?: number;
  now?: Date;
}

/**
 * Signs a certificate for the peer whose data directory is given, creating the peer's key
 * first if it has none, and copies the CA certificate next to it.
 */
export async function issuePeerCertificate(
  clusterDir: string,
  dataDir: string,
  options: IssueOptions = {},
): Promise<Identity & { keyCreated: boolean }> {
  const validityDays = checkValidityDays(options.validityDays ?? peerValidityDaysDefault);
  const cluster = loadCluster(clusterDir);
  const paths = identityPaths(dataDir);
  if (existsSync(paths.certificate) && options.force !== true) {
    throw new IdentityExistsError(
      `${dataDir} already has a certificate (${paths.certificate}); refusing to overwrite it. ` +
        'Pass --force to issue a new one for the same key (the node id stays the same).',
    );
  }
  mkdirSync(paths.directory, { recursive: true, mode: directoryModePrivate });
  chmodSync(paths.directory, directoryModePrivate);
  const keyCreated = !existsSync(paths.key);
  if (keyCreated) writePrivateFile(paths.key, generatePrivateKeyPem(), false);
  checkPrivateFileMode(paths.key);
  const keyPem = readFileSync(paths.key, 'utf8');
  let publicKeyDer: Buffer;
  try {
    publicKeyDer = publicKeyDerOfPrivateKey(keyPem);
  } catch (error) {
    throw new IdentityCorruptError(`${paths.key} is not a readable private key (${(error as Error).message}); move it away to make a new identity`);
  }
  const certPem = await createPeerCertificate({
    caPrivateKeyPem: cluster.caKeyPem,
    caCertificatePem: cluster.caCertPem,
    peerPublicKeyDer: publicKeyDer,
    validityDays,
    now: options.now ?? new Date(),
  });
  writePrivateFile(paths.certificate, certPem, true);
  writePrivateFile(paths.ca, cluster.caCertPem, true);
  return { ...loadIdentity(dataDir, { now: options.now }), keyCreated };
}

/** Loads a peer's identity and checks that key, certificate and CA belong together. */
export function loadIdentity(dataDir: string, options: { now?: Date } = {}): Identity {
  const paths = identityPaths(dataDir);
  for (const path of [paths.key, paths.certificate, paths.ca]) {
    if (!existsSync(path)) {
      throw new IdentityMissingError(
        `${dataDir} has no peer identity: ${path} is missing. ` +
          `Issue one with: nines cluster issue --cluster-dir <cluster dir> --data-dir ${dataDir}`,
      );
    }
  }
  checkPrivateFileMode(paths.key);
  const keyPem = readFileSync(paths.key, 'utf8');
  const certPem = readFileSync(paths.certificate, 'utf8');
  const caPem = readFileSync(paths.ca, 'utf8');
  let certificate: X509Certificate;
  let keyDer: Buffer;
  try {
    certificate = new X509Certificate(certPem);
    keyDer = publicKeyDerOfPrivateKey(keyPem);
    new X509Certificate(caPem);
  } catch (error) {
    throw new IdentityCorruptError(`the identity files in ${paths.directory} do not parse (${(error as Error).message})`);
  }
  if (!keyDer.equals(certificate.publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new IdentityCorruptError(`${paths.certificate} was issued for a different key than ${paths.key}; re-issue it with nines cluster issue --force`);
  }
  if (!isIssuedBy(certPem, caPem)) {
    throw new IdentityCorruptError(`${paths.certificate} was not issued by the CA in ${paths.ca}; re-issue it with nines cluster issue --force`);
  }
  const authentication = authenticatePeerCertificate(certificate);
  if (!authentication.ok) throw new IdentityCorruptError(`${paths.certificate}: ${authentication.detail}`);
  checkValidity(certificate, paths.certificate, options.now ?? new Date());
  return { nodeId: authentication.nodeId, keyPem, certPem, caPem };
}

/** For a local swarm: the cluster CA in `dir`, created on first use. */
export async function ensureCluster(dir: string, options: { name: string }): Promise<ClusterAuthority> {
  const paths = clusterPaths(dir);
  if (existsSync(paths.key) || existsSync(paths.certificate)) return loadCluster(dir);
  return initCluster(dir, { name: options.name });
}

/**
 * For a local swarm: the peer's identity, issued by the cluster on first use. An existing
 * identity is kept (and with it the node ID) as long as the same cluster issued it.
 */
export async function ensurePeerIdentity(clusterDir: string, dataDir: string): Promise<Identity> {
  const paths = identityPaths(dataDir);
  if (!existsSync(paths.certificate)) return issuePeerCertificate(clusterDir, dataDir);
  const identity = loadIdentity(dataDir);
  const cluster = loadCluster(clusterDir);
  if (!isIssuedBy(identity.certPem, cluster.caCertPem)) {
    throw new IdentityCorruptError(
      `${paths.certificate} was issued by another cluster CA than the one in ${clusterDir}; ` +
        `remove ${paths.directory} to give this peer a new identity, or point it at its own cluster`,
    );
  }
  return identity;
}

function checkClusterName(name: string): string {
  const trimmed = name.trim();
  // A plain character set keeps the name intact through X.500 name encoding, where commas,
  // quotes and equals signs have meanings of their own.
  if (!new RegExp(`^[A-Za-z0-9 ._-]{1,${clusterNameLengthMax}}$`).test(trimmed)) {
    throw new RangeError(`cluster name must be 1 to ${clusterNameLengthMax} characters of letters, digits, spaces, ".", "_" and "-"; got "${name}"`);
  }
  return trimmed;
}

function checkValidityDays(days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > validityDaysMax) {
    throw new RangeError(`validity must be a whole number of days from 1 to ${validityDaysMax}, got ${days}`);
  }
  return days;
}

function checkValidity(certificate: X509Certificate, path: string, now: Date): void {
  if (now.getTime() > new Date(certificate.validTo).getTime()) {
    throw new IdentityExpiredError(`${path} expired on ${certificate.validTo}; issue a new one with nines cluster issue --force`);
  }
  if (now.getTime() < new Date(certificate.validFrom).getTime()) {
    throw new IdentityExpiredError(`${path} is not valid before ${certificate.validFrom}; check this machine's clock`);
  }
}

function checkPrivateFileMode(path: string): void {
  // Windows has no POSIX permission bits to check.
  if (process.platform === 'win32') return;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new IdentityPermissionsError(
      `${path} holds a private key but other users may read it (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`,
    );
  }
}

/**
 * Writes a file only its owner may read. A replacement goes through a temporary file and
 * a rename, so a crash leaves either the old file or the new one, never half of one.
 */
function writePrivateFile(path: string, content: string, overwrite: boolean): void {
  if (!overwrite) {
    writeFileSync(path, content, { mode: fileModePrivate, flag: 'wx' });
  } else {
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temporary, content, { mode: fileModePrivate, flag: 'wx' });
    renameSync(temporary, path);
  }
  // The mode given at creation passes through the process umask; set it exactly.
  chmodSync(path, fileModePrivate);
}
