/**
 * Who may use a cluster's OpenAI-compatible API: `api-keys.json` in the cluster directory
 * (mode 0600, like the CA key), managed with `nines cluster key add|list|revoke` and
 * `nines cluster init --open`. Peers read it from `--cluster-dir` when they start (and keep a
 * copy in their data directory for starts without it), then follow its changes while they run
 * (api-keys-watch.ts). The OpenAI, admin and key-value APIs all take these keys. A cluster
 * without keys is not served unless it was made explicitly open: no key, no service, never by
 * accident. A peer that was asked for the gateway role refuses to start without keys; a peer
 * that runs it by default starts, and answers 401 saying how to add a key.
 *
 *   { "open": false, "keys": [ { "name": "alice", "key": "nines-…", "priority": "normal" } ] }
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiAuth, ApiKeyEntry } from '../api/openai/index.js';
import type { ApiKeys } from '../api/openai/auth.js';
import { NodeConfigError } from './errors.js';

export const apiKeysFileName = 'api-keys.json';
/** Keys per cluster at most; each is compared on every request. */
export const apiKeysMax = 1_000;
const keyNamePattern = /^[A-Za-z0-9_.@-]{1,64}$/;

export interface StoredKey {
  name: string;
  key: string;
  priority: 'normal' | 'low';
  /** This key's rate limits; the gateway's defaults when absent. */
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/** A gateway's rate limits for keys that name none (and for everyone on an open cluster). */
export const gatewayRateLimitDefaults = { requestsPerMinute: 600, tokensPerMinute: 1_000_000 };

const isRate = (value: unknown) => value === undefined || (Number.isSafeInteger(value) && (value as number) >= 1);

export interface ApiKeysConfig {
  open: boolean;
  keys: StoredKey[];
}

export function apiKeysPath(directory: string): string {
  return join(directory, apiKeysFileName);
}

export function readApiKeys(directory: string): ApiKeysConfig | undefined {
  const path = apiKeysPath(directory);
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new NodeConfigError(`${path} is not JSON (${(error as Error).message}); restore it, or remove it and add keys again with nines cluster key add`);
  }
  const config = parsed as Partial<ApiKeysConfig> | null;
  if (typeof config !== 'object' || config === null || typeof config.open !== 'boolean' || !Array.isArray(config.keys)) throw new NodeConfigError(`${path} must be {"open": boolean, "keys": [...]}`);
  for (const entry of config.keys as Partial<StoredKey>[]) {
    if (typeof entry?.name !== 'string' || !keyNamePattern.test(entry.name) || typeof entry.key !== 'string' || entry.key.length < 16 || (entry.priority !== 'normal' && entry.priority !== 'low')) {
      throw new NodeConfigError(`${path}: every key needs a name (letters, digits, _ . @ -), a key of at least 16 characters and a priority (normal or low)`);
    }
    if (!isRate(entry.requestsPerMinute) || !isRate(entry.tokensPerMinute)) throw new NodeConfigError(`${path}: key ${entry.name}'s requestsPerMinute and tokensPerMinute must be whole numbers of at least 1`);
  }
  return config as ApiKeysConfig;
}

/** Writes the file whole or not at all (a new file renamed over the old), so a running peer that re-reads it never sees half of it. */
export function writeApiKeys(directory: string, config: ApiKeysConfig): void {
  const path = apiKeysPath(directory);
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(partial, 0o600);
  renameSync(partial, path);
}

/** Adds a key named `name` and returns it (shown once; it is stored in the 0600 file only). */
export function addApiKey(directory: string, name: string, priority: 'normal' | 'low', limits: { requestsPerMinute?: number; tokensPerMinute?: number } = {}): string {
  if (!keyNamePattern.test(name)) throw new RangeError(`a key name is 1 to 64 letters, digits or _ . @ -, got ${JSON.stringify(name)}`);
  const config = readApiKeys(directory) ?? { open: false, keys: [] };
  if (config.keys.some((entry) => entry.name === name)) throw new RangeError(`a key named ${name} exists already; revoke it first (nines cluster key revoke ${name}) or pick another name`);
  if (config.keys.length >= apiKeysMax) throw new RangeError(`the cluster has ${apiKeysMax} keys, the most it may have; revoke unused ones first`);
  const key = `nines-${randomBytes(24).toString('base64url')}`;
  writeApiKeys(directory, { open: config.open, keys: [...config.keys, { name, key, priority, ...limits }] });
  return key;
}

export function revokeApiKey(directory: string, name: string): void {
  const config = readApiKeys(directory);
  if (config === undefined || !config.keys.some((entry) => entry.name === name)) throw new RangeError(`no key named ${name} in ${apiKeysPath(directory)}`);
  writeApiKeys(directory, { open: config.open, keys: config.keys.filter((entry) => entry.name !== name) });
}

/** A key's rate limits, by key name (empty for a key that names none: the gateway's defaults). */
export type KeyLimitsByName = Record<string, { requestsPerMinute?: number; tokensPerMinute?: number }>;

/** What a peer serves with: its ring's keys and each key's rate limits. */
export interface PeerApiKeys {
  auth: ApiKeys;
  limits: KeyLimitsByName;
  /** The file these came from (undefined when there was none), so that a watcher knows what is applied. */
  config: ApiKeysConfig | undefined;
}

/** The 401 every request gets from a peer whose cluster has no keys yet. */
export function noKeysReason(clusterDirectory: string | undefined): string {
  const pickUp = clusterDirectory === undefined ? 'then restart this peer with --cluster-dir' : 'a running peer picks it up without a restart';
  return `This cluster has no API keys yet, so this peer answers 401 until you add one: nines cluster key add <name> --dir ${clusterDirectory ?? '<cluster dir>'} (${pickUp}).`;
}

/** The keys and limits a parsed api-keys.json stands for; no file, or one without keys, closes the peer. */
export function peerApiKeysOf(config: ApiKeysConfig | undefined, clusterDirectory: string | undefined): PeerApiKeys {
  if (config?.open === true) return { auth: { open: true }, limits: {}, config };
  if (config === undefined || config.keys.length === 0) return { auth: { closed: noKeysReason(clusterDirectory) }, limits: {}, config };
  const limits = Object.fromEntries(
    config.keys.map((entry) => [entry.name, { ...(entry.requestsPerMinute !== undefined && { requestsPerMinute: entry.requestsPerMinute }), ...(entry.tokensPerMinute !== undefined && { tokensPerMinute: entry.tokensPerMinute }) }]),
  );
  return { auth: { keys: new Map<string, ApiKeyEntry>(config.keys.map((entry) => [entry.key, { name: entry.name, priority: entry.priority }])), }, limits, config };
}

/**
 * The keys a peer serves with: its cluster directory's (copied into the data directory), else
 * the copy from an earlier start. With `required` (a peer asked for the gateway role) it refuses
 * when there are neither keys nor an open cluster; without, such a peer is closed (401 to all).
 */
export function settlePeerApiKeys(dataDirectory: string, clusterDirectory: string | undefined, options: { required: boolean }): PeerApiKeys {
  const fromCluster = clusterDirectory === undefined ? undefined : readApiKeys(clusterDirectory);
  if (fromCluster !== undefined) writeApiKeys(dataDirectory, fromCluster);
  const keys = peerApiKeysOf(fromCluster ?? readApiKeys(dataDirectory), clusterDirectory);
  if (options.required && 'closed' in keys.auth) {
    const where = clusterDirectory ?? '<cluster dir>';
    throw new NodeConfigError(`the gateway has no API keys to accept: add one with nines cluster key add <name> --dir ${where}, or make the cluster explicitly open with nines cluster init --open`);
  }
  return keys;
}

/** The keys a gateway asked for serves with; refuses when there are neither keys nor an open cluster. */
export function settleApiAuth(dataDirectory: string, clusterDirectory: string | undefined): ApiAuth {
  return settlePeerApiKeys(dataDirectory, clusterDirectory, { required: true }).auth;
}
