/**
 * `<data dir>/node.json`: where a running node can be reached, for tests and for local
 * commands such as `nines peers`. It holds the admin token, so it is written with mode 0600
 * through a temporary file and a rename (a reader never sees half of it), and removed when
 * the node stops cleanly.
 */
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileModePrivate } from '../p2p/identity/index.js';
import { nodeFileName, nodeFileVersion } from './constants.js';
import { NodeNotRunningError } from './errors.js';

export interface NodeFile {
  version: number;
  nodeId: string;
  /** host:port#nodeid, as other peers write it in --bootstrap and --tracker. */
  contact: string;
  host: string;
  port: number;
  roles: string[];
  pid: number;
  startedAt: string;
  admin: { host: string; port: number; token: string };
  /** Where the client API (key-value store) listens, on nodes with the storage role. */
  api?: { host: string; port: number };
}

export function nodeFilePath(dataDir: string): string {
  return join(dataDir, nodeFileName);
}

export function writeNodeFile(dataDir: string, content: NodeFile): void {
  const path = nodeFilePath(dataDir);
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, JSON.stringify(content, null, 2) + '\n', { mode: fileModePrivate, flag: 'wx' });
  chmodSync(temporary, fileModePrivate);
  renameSync(temporary, path);
}

export function removeNodeFile(dataDir: string): void {
  rmSync(nodeFilePath(dataDir), { force: true });
}

export function readNodeFile(dataDir: string): NodeFile {
  const path = nodeFilePath(dataDir);
  if (!existsSync(path)) {
    throw new NodeNotRunningError(`no running node in ${dataDir}: ${path} is missing. Start one with: nines node --data-dir ${dataDir}`);
  }
  let content: Partial<NodeFile>;
  try {
    content = JSON.parse(readFileSync(path, 'utf8')) as Partial<NodeFile>;
  } catch (error) {
    throw new NodeNotRunningError(`${path} is not valid JSON (${(error as Error).message}); restart the node to rewrite it`);
  }
  const admin = content.admin;
  if (content.version !== nodeFileVersion || typeof content.nodeId !== 'string' || typeof admin?.port !== 'number' || typeof admin.token !== 'string') {
    throw new NodeNotRunningError(`${path} is not a node file this version of nines reads (version ${String(content.version)}); restart the node to rewrite it`);
  }
  return content as NodeFile;
}
