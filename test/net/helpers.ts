/**
 * Test helpers for the network tests: clusters and peers in temporary directories, a
 * logger that remembers what it was told, and a forger of certificates that lie.
 */
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  authenticatePeerCertificate,
  initCluster,
  issuePeerCertificate,
  loadCluster,
  type Identity,
} from '../../src/p2p/identity/index.js';
import { Transport, type Logger, type LogFields, type TransportLimits } from '../../src/net/index.js';

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: LogFields;
  message: string;
}

export function memoryLogger(): Logger & { records: LogRecord[]; reasons(): string[] } {
  const records: LogRecord[] = [];
  const at = (level: LogRecord['level']) => (fields: LogFields, message: string) => void records.push({ level, fields, message });
  return {
    records,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    reasons: () => records.map((record) => String(record.fields.reason ?? record.fields.code ?? '')).filter((reason) => reason !== ''),
  };
}

const temporaryDirectories: string[] = [];

export function temporaryDirectory(prefix = 'nines-test-'): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirectories.push(directory);
  return directory;
}

export function removeTemporaryDirectories(): void {
  for (const directory of temporaryDirectories.splice(0)) rmSync(directory, { recursive: true, force: true });
}

export async function makeCluster(name = 'test'): Promise<string> {
  const directory = temporaryDirectory('nines-cluster-');
  await initCluster(directory, { name });
  return directory;
}

export async function makePeer(clusterDir: string): Promise<Identity> {
  return issuePeerCertificate(clusterDir, temporaryDirectory('nines-peer-'));
}

/** A certificate signed by the cluster CA for `privateKeyPem`'s public key but naming `claimedNodeId`. */
export async function forgeCertificate(clusterDir: string, privateKeyPem: string, claimedNodeId: string): Promise<string> {
  x509.cryptoProvider.set(webcrypto);
  const cluster = loadCluster(clusterDir);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  const caKey = await webcrypto.subtle.importKey('pkcs8', createPrivateKey(cluster.caKeyPem).export({ type: 'pkcs8', format: 'der' }), algorithm, false, ['sign']);
  const publicDer = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'der' });
  const publicKey = await webcrypto.subtle.importKey('spki', publicDer, algorithm, true, ['verify']);
  const ca = new x509.X509Certificate(cluster.caCertPem);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: '0badc0de',
    subject: [{ CN: [claimedNodeId] }],
    issuer: ca.subjectName,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    publicKey,
    signingKey: caKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `nines://${claimedNodeId}` }]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  return certificate.toString('pem');
}

export interface PeerOptions {
  logger?: Logger;
  limits?: Partial<TransportLimits>;
  listen?: boolean;
}

/** A transport for the identity, listening on 127.0.0.1 with an ephemeral port unless told not to, and answering `echo`. */
export async function startTransport(identity: Identity, options: PeerOptions = {}): Promise<Transport & { log: ReturnType<typeof memoryLogger> }> {
  const logger = memoryLogger();
  const transport = new Transport({ identity, authenticatePeer: authenticatePeerCertificate, logger: options.logger ?? logger, limits: options.limits });
  transport.handle('echo', (body) => body);
  if (options.listen !== false) await transport.listen('127.0.0.1', 0);
  return Object.assign(transport, { log: logger });
}

export function addressOf(transport: Transport, pinned = true): { host: string; port: number; nodeId?: string } {
  const address = transport.listenAddress!;
  return pinned ? { host: address.host, port: address.port, nodeId: transport.nodeId } : { host: address.host, port: address.port };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` holds, or fails after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await delay(5);
  }
}
