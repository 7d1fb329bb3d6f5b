/**
 * API keys: `Authorization: Bearer <key>`, configured per cluster.
 *
 * A cluster is either explicitly open (`{ open: true }`: every request is served as
 * 'anonymous', and a key sent anyway is ignored) or keyed, when a request without one of
 * its keys gets 401 invalid_api_key. Keys are compared in constant time: the presented
 * key and every configured key are hashed to the same length, and all of them are
 * compared without stopping at the first match, so the time taken reveals neither how
 * much of a key was right nor which key matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyPriority } from '../../service/completion-backend.js';
import { OpenAiError } from './errors.js';

export interface ApiKeyEntry {
  /** Who the key belongs to: shown in logs and used to count its streams. */
  name: string;
  priority?: ApiKeyPriority;
}

export type ApiAuth = { open: true } | { keys: ReadonlyMap<string, ApiKeyEntry> };

export interface Caller {
  name: string;
  priority: ApiKeyPriority;
}

export const anonymousCaller: Readonly<Caller> = Object.freeze({ name: 'anonymous', priority: 'normal' });

export class ApiKeyRing {
  private readonly entries: { digest: Buffer; caller: Caller }[];
  private readonly open: boolean;

  constructor(auth: ApiAuth) {
    if ('open' in auth) {
      if (auth.open !== true) throw new TypeError('auth must be { open: true } or { keys }');
      this.open = true;
      this.entries = [];
      return;
    }
    this.open = false;
    if (auth.keys.size === 0) throw new TypeError('auth.keys is empty, so no request could be served; configure a key, or make the cluster explicitly open with { open: true }');
    this.entries = [...auth.keys].map(([key, entry]) => {
      if (key.length === 0) throw new TypeError(`the API key of '${entry.name}' is empty`);
      return { digest: digestOf(key), caller: { name: entry.name, priority: entry.priority ?? 'normal' } };
    });
  }

  /** The caller the Authorization header names; throws invalid_api_key (401) when a keyed cluster does not know it. */
  authenticate(authorization: string | undefined): Caller {
    if (this.open) return anonymousCaller;
    if (authorization === undefined || authorization.trim() === '') {
      throw new OpenAiError('invalid_api_key', "You didn't provide an API key. Send it in the header 'Authorization: Bearer <key>'; this cluster requires one.");
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match === null) throw new OpenAiError('invalid_api_key', "The Authorization header must be 'Bearer <key>'.");
    const presented = digestOf(match[1]);
    let found: Caller | undefined;
    for (const entry of this.entries) {
      // No early exit: every key is compared, whichever matches.
      if (timingSafeEqual(entry.digest, presented) && found === undefined) found = entry.caller;
    }
    if (found === undefined) throw new OpenAiError('invalid_api_key', `Incorrect API key provided: ${redacted(match[1])}. Use one of this cluster's keys.`);
    return found;
  }
}

function digestOf(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Enough of a wrong key for its owner to recognise it, not enough to reuse. */
function redacted(key: string): string {
  return key.length <= 8 ? '****' : `${key.slice(0, 3)}****${key.slice(-4)}`;
}
