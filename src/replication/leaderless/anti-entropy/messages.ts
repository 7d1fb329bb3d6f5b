/**
 * What replicas send each other during an exchange, how big each message is judged to be (for
 * the rate limit), and the validation every message gets on arrival: messages cross the
 * network, so a field that is missing, of the wrong type or too large is refused with the reason.
 *
 * The exchange is driven by its initiator; the responder keeps no state and only answers:
 *   ae-hashes-request (level, parents)  ->  ae-hashes (2 short hashes per parent; the root alone at level 0)
 *   ae-entries-request (level, buckets) ->  ae-entries (each bucket's [key, short digest] pairs)
 *   ae-push-request (keys)                  (the responder pushes those keys' states; no answer)
 *   any request the responder cannot serve -> ae-refused (reason)
 * Descending one level per round trip sends the fewest bytes: only children of nodes already
 * seen to differ are ever sent, and round trips are cheap next to the rate limit's ticks. Levels
 * go below the tree's leaves (down to keyHashBits), where buckets are leaf subsets made on
 * demand, until a differing bucket holds few enough keys that listing them is cheaper.
 */
import {
  entriesPerMessageMax,
  exchangeIdCharactersMax,
  keyBytesMax,
  keysPerMessageMax,
  bucketsPerRequestMax,
  keyHashBits,
  parentsPerRequestMax,
  rangeIdCharactersMax,
  shortHashHexDigits,
  treeDepthMax,
} from './settings.js';

export type AntiEntropyRefusal = 'unknown-range' | 'not-a-peer' | 'depth-mismatch';
const refusals: readonly AntiEntropyRefusal[] = ['unknown-range', 'not-a-peer', 'depth-mismatch'];

export type AntiEntropyMessage =
  /** Hashes of the nodes at `level` under each of `parents` (at level - 1); level 0 with no parents asks for the root. */
  | { type: 'ae-hashes-request'; exchangeId: string; rangeId: string; depth: number; level: number; parents: number[] }
  /** Salted short hashes, in request order: left then right child of each parent. */
  | { type: 'ae-hashes'; exchangeId: string; hashes: string[] }
  /** The pairs of each of `buckets` at `level` (depth <= level <= keyHashBits). */
  | { type: 'ae-entries-request'; exchangeId: string; rangeId: string; depth: number; level: number; buckets: number[] }
  /** One list per bucket answered, for the leading requested buckets that fit in a message: [key, salted short digest]. */
  | { type: 'ae-entries'; exchangeId: string; buckets: Array<Array<[string, string]>> }
  /** Keys the initiator lacks or holds differently: the responder pushes their full states. */
  | { type: 'ae-push-request'; exchangeId: string; rangeId: string; keys: string[] }
  | { type: 'ae-refused'; exchangeId: string; reason: AntiEntropyRefusal };

/** Framing, type tag and field names of one message, judged generously for a compact encoding. */
export const messageOverheadBytes = 48;
/** An index travels as up to four bytes. */
const indexBytes = 4;
/** Each string in a list costs its bytes and a two-byte length. */
const stringOverheadBytes = 2;

function stringBytes(value: string): number {
  return Buffer.byteLength(value) + stringOverheadBytes;
}

/** The size a message is charged against the rate limit. */
export function messageBytes(message: AntiEntropyMessage): number {
  let bytes = messageOverheadBytes + stringBytes(message.exchangeId);
  switch (message.type) {
    case 'ae-hashes-request':
      return bytes + stringBytes(message.rangeId) + 2 * indexBytes + message.parents.length * indexBytes;
    case 'ae-hashes':
      return bytes + message.hashes.length * (shortHashHexDigits + stringOverheadBytes);
    case 'ae-entries-request':
      return bytes + stringBytes(message.rangeId) + 2 * indexBytes + message.buckets.length * indexBytes;
    case 'ae-entries':
      for (const bucket of message.buckets) {
        bytes += indexBytes;
        for (const [key, digest] of bucket) bytes += stringBytes(key) + stringBytes(digest);
      }
      return bytes;
    case 'ae-push-request':
      bytes += stringBytes(message.rangeId);
      for (const key of message.keys) bytes += stringBytes(key);
      return bytes;
    case 'ae-refused':
      return bytes + stringBytes(message.reason);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textProblem(value: unknown, name: string, charactersMax: number): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return `${name} must be a non-empty string`;
  return value.length > charactersMax ? `${name} is longer than ${charactersMax} characters` : undefined;
}

export function keyProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return 'a key must be a non-empty string';
  return Buffer.byteLength(value) > keyBytesMax ? `a key is longer than keyBytesMax (${keyBytesMax} bytes)` : undefined;
}

const shortHashPattern = new RegExp(`^[0-9a-f]{${shortHashHexDigits}}$`);

function shortHashProblem(value: unknown, name: string): string | undefined {
  return typeof value === 'string' && shortHashPattern.test(value) ? undefined : `${name} must be ${shortHashHexDigits} lowercase hex digits`;
}

function indexListProblem(value: unknown, name: string, itemsMax: number, bound: number): string | undefined {
  if (!Array.isArray(value) || value.length > itemsMax) return `${name} must be an array of at most ${itemsMax} indexes`;
  for (const index of value) {
    if (!Number.isInteger(index) || index < 0 || index >= bound) return `${name} holds ${String(index)}, not an integer in [0, ${bound})`;
  }
  return undefined;
}

function depthProblem(m: Record<string, unknown>): string | undefined {
  const depth = m.depth;
  return Number.isInteger(depth) && (depth as number) >= 0 && (depth as number) <= treeDepthMax ? undefined : `depth must be an integer in [0, ${treeDepthMax}]`;
}

function hashesRequestProblem(m: Record<string, unknown>): string | undefined {
  const level = m.level;
  if (!Number.isInteger(level) || (level as number) < 0 || (level as number) > keyHashBits) return `level must be an integer in [0, ${keyHashBits}]`;
  if (level === 0) return Array.isArray(m.parents) && m.parents.length === 0 ? undefined : 'a level-0 request asks for the root and must name no parents';
  const problem = indexListProblem(m.parents, 'parents', parentsPerRequestMax, 2 ** ((level as number) - 1));
  if (problem !== undefined) return problem;
  return (m.parents as number[]).length === 0 ? 'parents must name at least one node' : undefined;
}

function entriesProblem(buckets: unknown): string | undefined {
  if (!Array.isArray(buckets) || buckets.length > bucketsPerRequestMax) return `buckets must be an array of at most ${bucketsPerRequestMax} lists`;
  let total = 0;
  for (const bucket of buckets) {
    if (!Array.isArray(bucket)) return 'each bucket must be an array of [key, digest] pairs';
    total += bucket.length;
    if (total > entriesPerMessageMax) return `more than ${entriesPerMessageMax} entries in one message`;
    for (const entry of bucket) {
      if (!Array.isArray(entry) || entry.length !== 2) return 'each entry must be a [key, digest] pair';
      const problem = keyProblem(entry[0]) ?? shortHashProblem(entry[1], 'an entry digest');
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

function keysProblem(keys: unknown): string | undefined {
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > keysPerMessageMax) return `keys must be an array of 1 to ${keysPerMessageMax} keys`;
  for (const key of keys) {
    const problem = keyProblem(key);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function bodyProblem(m: Record<string, unknown>): string | undefined {
  switch (m.type) {
    case 'ae-hashes-request':
      return textProblem(m.rangeId, 'rangeId', rangeIdCharactersMax) ?? depthProblem(m) ?? hashesRequestProblem(m);
    case 'ae-hashes': {
      if (!Array.isArray(m.hashes) || m.hashes.length === 0 || m.hashes.length > 2 * parentsPerRequestMax) return `hashes must be an array of 1 to ${2 * parentsPerRequestMax} hashes`;
      for (const hash of m.hashes) {
        const problem = shortHashProblem(hash, 'each hash');
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    case 'ae-entries-request': {
      const problem = textProblem(m.rangeId, 'rangeId', rangeIdCharactersMax) ?? depthProblem(m);
      if (problem !== undefined) return problem;
      const depth = m.depth as number;
      const level = m.level;
      if (!Number.isInteger(level) || (level as number) < depth || (level as number) > keyHashBits) return `level must be an integer in [depth ${depth}, ${keyHashBits}]`;
      const listProblem = indexListProblem(m.buckets, 'buckets', bucketsPerRequestMax, 2 ** (level as number));
      if (listProblem !== undefined) return listProblem;
      return (m.buckets as number[]).length === 0 ? 'buckets must name at least one bucket' : undefined;
    }
    case 'ae-entries':
      return entriesProblem(m.buckets);
    case 'ae-push-request':
      return textProblem(m.rangeId, 'rangeId', rangeIdCharactersMax) ?? keysProblem(m.keys);
    case 'ae-refused':
      return refusals.includes(m.reason as AntiEntropyRefusal) ? undefined : `reason must be one of ${refusals.join(', ')}`;
    default:
      return `unknown anti-entropy message type ${JSON.stringify(m.type)}`;
  }
}

/** Why `message` is not a valid AntiEntropyMessage, or undefined when it is. */
export function antiEntropyMessageProblem(message: unknown): string | undefined {
  if (!isRecord(message)) return 'an anti-entropy message must be an object';
  if (typeof message.type !== 'string') return 'an anti-entropy message needs a string type';
  const idProblem = textProblem(message.exchangeId, 'exchangeId', exchangeIdCharactersMax);
  if (idProblem !== undefined) return `${message.type}: ${idProblem}`;
  const problem = bodyProblem(message);
  return problem === undefined ? undefined : `${message.type}: ${problem}`;
}
