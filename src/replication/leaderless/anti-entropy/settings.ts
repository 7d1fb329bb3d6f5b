/**
 * Anti-entropy settings, the fixed limits every message and queue has (TigerBeetle style), and
 * the relationships between them, checked once when an AntiEntropy is made.
 */

export interface AntiEntropySettings {
  /** Each range's Merkle tree has 2^treeDepth leaf buckets; exchanges split crowded leaves on demand, so this trades memory for fewer on-demand hashes. */
  treeDepth: number;
  /** A replica starts an exchange about every this many ticks (jittered by the rng to +-50%). */
  exchangeIntervalTicks: number;
  /** An exchange whose request has had no answer this many ticks after it left is abandoned. */
  exchangeTimeoutTicks: number;
  /** Exchanges this replica has started and not finished, at most. */
  exchangesInFlightMax: number;
  /** Bytes of anti-entropy messages that leave this replica per tick; unused budget does not pile up, debt carries over. */
  bytesPerTickMax: number;
  /** Most keys named in one pushKeys item or one push request. */
  keysPerPushMax: number;
}

export const antiEntropyDefaults: AntiEntropySettings = Object.freeze({
  treeDepth: 10,
  exchangeIntervalTicks: 20,
  exchangeTimeoutTicks: 40,
  exchangesInFlightMax: 2,
  bytesPerTickMax: 64 * 1024,
  keysPerPushMax: 256,
}) as AntiEntropySettings;

/** Deepest tree allowed: 2^20 leaves, so one tree's node array stays a few megabytes. */
export const treeDepthMax = 20;
/** Bits of a key's placement hash: an exchange can descend below the leaves down to this level. */
export const keyHashBits = 32;
/**
 * A differing bucket at or below the leaves in which this replica holds at most this many keys
 * gets its entries fetched; a fuller one is split further. Splitting costs an index and two
 * short hashes (about 24 bytes), an entry a key and a short digest (about 35 bytes for a 20-byte
 * key), so splitting pays once a bucket holds more than two keys.
 */
export const bucketKeysForEntriesMax = 2;
/** Parent nodes whose children's hashes one request asks for. */
export const parentsPerRequestMax = 1024;
/** Buckets whose entries one request asks for. */
export const bucketsPerRequestMax = 1024;
/** The initiator sizes an entries request so that, judging by its own leaves, about this many entries come back. */
export const entriesPerRequestTarget = 2048;
/** (key, digest) entries in one answer; a responder answers only the leading buckets that fit. */
export const entriesPerMessageMax = 65_536;
/** Keys named in one push request. */
export const keysPerMessageMax = 4096;
/** Bytes of one key, as for the key-value store's keys. */
export const keyBytesMax = 1024;
/** Characters of a range id (the node's names are short hashes). */
export const rangeIdCharactersMax = 256;
/** Characters of an exchange id (a counter and 64 random bits). */
export const exchangeIdCharactersMax = 64;
/** Messages waiting for rate-limit budget, at most; answers beyond it are dropped and their requester times out. */
export const outboxMessagesMax = 4096;
/**
 * Hex digits of the salted short hashes that descents and leaf entries carry. 32 bits: a
 * different subtree or digest looks equal with probability 2^-32 per comparison, and since the
 * salt (the exchange id) changes every exchange, such a miss is caught by the next exchange.
 */
export const shortHashHexDigits = 8;

export class AntiEntropySettingsError extends Error {
  override name = 'AntiEntropySettingsError';
  readonly code = 'ANTI_ENTROPY_BAD_SETTINGS';
}

function integerIn(settings: AntiEntropySettings, name: keyof AntiEntropySettings, minimum: number, maximum: number): void {
  const value = settings[name];
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
    throw new AntiEntropySettingsError(`anti-entropy setting ${name} must be an integer in [${minimum}, ${maximum}], got ${String(value)}`);
  }
}

/** The settings with defaults filled in; throws AntiEntropySettingsError naming the first rule broken. */
export function antiEntropySettings(overrides: Partial<AntiEntropySettings> = {}): AntiEntropySettings {
  const settings: AntiEntropySettings = { ...antiEntropyDefaults, ...overrides };
  integerIn(settings, 'treeDepth', 0, treeDepthMax);
  integerIn(settings, 'exchangeIntervalTicks', 1, Number.MAX_SAFE_INTEGER);
  integerIn(settings, 'exchangeTimeoutTicks', 1, Number.MAX_SAFE_INTEGER);
  integerIn(settings, 'exchangesInFlightMax', 1, 1024);
  integerIn(settings, 'bytesPerTickMax', 1, Number.MAX_SAFE_INTEGER);
  integerIn(settings, 'keysPerPushMax', 1, keysPerMessageMax);
  return settings;
}
