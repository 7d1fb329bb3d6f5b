/**
 * API keys: `Authorization: Bearer <key>`, configured per cluster.
 *
 * A cluster is either explicitly open (`{ open: true }`: every request is served as
 * 'anonymous', and a key sent anyway is ignored) or keyed, when a request without one of
 * its keys gets 401 invalid_api_key. A peer whose cluster has no keys yet is closed
 * (`{ closed: reason }`): every request gets 401 with the reason, which says how to add one.
 *
 * The keys can change while a peer runs (`nines cluster key add|revoke`): `replace()` swaps
 * them at once, and a ring made from another ring shares its keys, so the OpenAI routes, the
 * admin API and the key-value API of one peer all follow one replacement. Keys are compared in constant time: the presented
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

/** A cluster's keys as configured. */
export type ApiKeys = { open: true } | { keys: ReadonlyMap<string, ApiKeyEntry> } | { closed: string };

/** The keys, or a live ring whose replacements the holder follows. */
export type ApiAuth = ApiKeys | ApiKeyRing;

export type ApiKeyRingState = 'open' | 'keyed' | 'closed';

export interface Caller {
  name: string;
  priority: ApiKeyPriority;
}

export const anonymousCaller: Readonly<Caller> = Object.freeze({ name: 'anonymous', priority: 'normal' });

interface RingKeys {
  state: ApiKeyRingState;
  entries: readonly { digest: Buffer; caller: Caller }[];
  /** Why a closed ring refuses everyone, and what to do about it. */
  closedReason: string;
}

export class ApiKeyRing {
  /** Shared by every ring made from this one: replace() swaps its contents for all of them. */
  private readonly current: { keys: RingKeys };

  constructor(auth: ApiAuth) {
    this.current = auth instanceof ApiKeyRing ? auth.current : { keys: ringKeysOf(auth) };
  }

  /** Swaps the keys (checked first: keys that cannot work throw and leave the old ones in place). */
  replace(auth: ApiKeys): void {
    this.current.keys = ringKeysOf(auth);
  }

  get state(): ApiKeyRingState {
    return this.current.keys.state;
  }

  /** How many keys the ring holds (0 when open or closed). */
  get size(): number {
    return this.current.keys.entries.length;
  }

  /** The caller the Authorization header names; throws invalid_api_key (401) when a keyed cluster does not know it. */
  authenticate(authorization: string | undefined): Caller {
    const keys = this.current.keys;
    if (keys.state === 'open') return anonymousCaller;
    if (keys.state === 'closed') throw new OpenAiError('invalid_api_key', keys.closedReason);
    if (authorization === undefined || authorization.trim() === '') {
      throw new OpenAiError('invalid_api_key', "You didn't provide an API key. Send it in the header 'Authorization: Bearer <key>'; this cluster requires one.");
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match === null) throw new OpenAiError('invalid_api_key', "The Authorization header must be 'Bearer <key>'.");
    const presented = digestOf(match[1]);
    let found: Caller | undefined;
    for (const entry of keys.entries) {
      // No early exit: every key is compared, whichever matches.
      if (timingSafeEqual(entry.digest, presented) && found === undefined) found = entry.caller;
    }
    if (found === undefined) throw new OpenAiError('invalid_api_key', `Incorrect API key provided: ${redacted(match[1])}. Use one of this cluster's keys.`);
    return found;
  }
}

function ringKeysOf(auth: ApiKeys): RingKeys {
  if ('open' in auth) {
    if (auth.open !== true) throw new TypeError('auth must be { open: true }, { keys } or { closed: reason }');
    return { state: 'open', entries: [], closedReason: '' };
  }
  if ('closed' in auth) {
    if (typeof auth.closed !== 'string' || auth.closed === '') throw new TypeError('a closed ring needs the reason its 401 answers give, saying how to add a key');
    return { state: 'closed', entries: [], closedReason: auth.closed };
  }
  if (auth.keys.size === 0) throw new TypeError('auth.keys is empty, so no request could be served; configure a key, make the cluster explicitly open with { open: true }, or say why it is closed with { closed: reason }');
  const entries = [...auth.keys].map(([key, entry]) => {
    if (key.length === 0) throw new TypeError(`the API key of '${entry.name}' is empty`);
    return { digest: digestOf(key), caller: { name: entry.name, priority: entry.priority ?? 'normal' } };
  });
  return { state: 'keyed', entries, closedReason: '' };
}

function digestOf(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Enough of a wrong key for its owner to recognise it, not enough to reuse. */
function redacted(key: string): string {
  return key.length <= 8 ? '****' : `${key.slice(0, 3)}****${key.slice(-4)}`;
}
