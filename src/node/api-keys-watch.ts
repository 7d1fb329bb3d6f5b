/**
 * A running peer follows its cluster's API keys: `nines cluster key add|revoke` rewrites
 * `<cluster dir>/api-keys.json`, and every peer that watches it swaps its keys and per-key
 * rate limits without a restart, keeping the copy in its data directory up to date.
 *
 * The file is polled (a stat every `apiKeysReloadIntervalMs`) rather than watched with
 * inotify, which misses renames over the file on some filesystems and does not exist on
 * others. The poll compares the file's stat with the one it last read, and the parsed keys
 * with those applied, so the first poll also catches a change made between the peer's start
 * and the watch's, and an unchanged file is never applied twice.
 *
 * A file that cannot be read or parsed (an editor's half-written save, a typo) keeps the keys
 * the peer has, and the error is logged once until the problem changes; a file that
 * disappears keeps them too. Only a well-formed file changes what the peer accepts, so a
 * mistake never opens the cluster or drops every key by accident.
 */
import { existsSync, statSync } from 'node:fs';
import type { Logger } from '../net/index.js';
import type { ApiKeyRing } from '../api/openai/auth.js';
import { apiKeysPath, peerApiKeysOf, readApiKeys, writeApiKeys, type ApiKeysConfig, type KeyLimitsByName } from './api-keys-file.js';
import { apiKeysReloadIntervalMs } from './constants.js';

export interface ApiKeysWatchParts {
  dataDir: string;
  clusterDir: string;
  /** The peer's live ring: the OpenAI, admin and key-value routes all read it. */
  ring: ApiKeyRing;
  /** The file the ring's keys came from at start (undefined when there was none). */
  applied: ApiKeysConfig | undefined;
  /** Hands each key's rate limits to the gateway's limiter (absent on peers without a gateway). */
  onLimits?: (limits: KeyLimitsByName) => void;
  logger: Logger;
  intervalMs?: number;
}

export type ReloadOutcome = 'reloaded' | 'unchanged' | 'kept';

export class ApiKeysWatch {
  private readonly path: string;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The stat of the file when it was last read ('' before the first read and while it is missing). */
  private lastStat = '';
  private applied: string;
  /** Whether the cluster directory has held the file since the watch began: only then is its absence news. */
  private hadFile: boolean;
  /** The last problem logged, so that one bad file is reported once rather than at every poll. */
  private lastProblem: string | undefined;

  constructor(private readonly parts: ApiKeysWatchParts) {
    this.path = apiKeysPath(parts.clusterDir);
    this.applied = JSON.stringify(parts.applied ?? null);
    this.hadFile = existsSync(this.path);
  }

  /** Starts polling the file; the poll never keeps the process alive on its own. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.poll(), this.parts.intervalMs ?? apiKeysReloadIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Re-reads the file if its stat changed since the last read. */
  poll(): ReloadOutcome {
    const stat = statOf(this.path);
    if (stat === this.lastStat && stat !== '') return 'unchanged';
    this.lastStat = stat;
    return this.reload();
  }

  /** Re-reads the file now and swaps the keys if it is well formed and says something new; otherwise keeps them and says why (once). */
  reload(): ReloadOutcome {
    const { ring, logger, clusterDir, dataDir } = this.parts;
    let config: ApiKeysConfig | undefined;
    try {
      config = readApiKeys(clusterDir);
      // A cluster directory that never had the file (keys only in the data directory's copy) is no news.
      if (config === undefined) return this.hadFile ? this.keep(`${this.path} is gone`) : this.settled('unchanged');
      this.hadFile = true;
      if (JSON.stringify(config) === this.applied) return this.settled('unchanged');
      ring.replace(peerApiKeysOf(config, clusterDir).auth);
    } catch (error) {
      return this.keep((error as Error).message);
    }
    this.applied = JSON.stringify(config);
    this.parts.onLimits?.(peerApiKeysOf(config, clusterDir).limits);
    logger.info({ path: this.path, state: ring.state, keys: ring.size }, 'API keys reloaded');
    if (ring.state === 'closed') logger.warn({ path: this.path }, `no API keys: every API request answers 401 until you add one: nines cluster key add <name> --dir ${clusterDir}`);
    try {
      // The copy serves a later start without --cluster-dir; the keys above apply even if it cannot be written.
      writeApiKeys(dataDir, config);
    } catch (error) {
      logger.error({ dataDir, problem: (error as Error).message }, 'the API keys apply, but their copy in the data directory could not be updated');
    }
    return this.settled('reloaded');
  }

  private settled(outcome: ReloadOutcome): ReloadOutcome {
    this.lastProblem = undefined;
    return outcome;
  }

  private keep(problem: string): ReloadOutcome {
    if (problem !== this.lastProblem) this.parts.logger.error({ path: this.path, problem }, 'API keys not reloaded; the peer keeps the keys it had until the file is fixed');
    this.lastProblem = problem;
    return 'kept';
  }
}

/** What changes when the file is rewritten (a rename over it gives a new inode); '' when it is missing. */
function statOf(path: string): string {
  try {
    const stat = statSync(path);
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  } catch {
    return '';
  }
}

/** One clear warning when a peer that serves clients starts on a cluster without API keys (it answers 401 until one is added). */
export function warnIfNoKeys(ring: ApiKeyRing, peer: { gateway: boolean; storage: boolean; clusterDir: string | undefined; logger: Logger }): void {
  if (ring.state !== 'closed' || (!peer.gateway && !peer.storage)) return;
  const addOne = `nines cluster key add <name> --dir ${peer.clusterDir ?? '<cluster dir>'}`;
  const pickUp = peer.clusterDir === undefined ? 'this peer has no --cluster-dir to follow, so restart it with one' : 'a running peer picks the key up without a restart';
  const message = peer.gateway
    ? `no API keys: the OpenAI API answers 401 until you add one: ${addOne} (the key-value and admin APIs too; ${pickUp})`
    : `no API keys: the key-value and admin APIs answer 401 until you add one: ${addOne} (${pickUp})`;
  peer.logger.warn({ clusterDir: peer.clusterDir ?? null }, message);
}
