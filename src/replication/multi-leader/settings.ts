/**
 * The multi-leader core's settings, each a limit or a period in ticks, checked once at start-up.
 */
import { MultiLeaderSettingsError } from './errors.js';

export interface MultiLeaderSettings {
  /** Ship new changes to each peer every this many ticks. */
  shipIntervalTicks: number;
  /** Entries in one `changes` message at most. */
  shipBatchMax: number;
  /** A batch not acknowledged within this many ticks is sent again (from the peer's acknowledged cursor). */
  retransmitTicks: number;
  /**
   * Own entries kept until every peer has acknowledged them. When a peer stays away so long
   * that the log is full, this peer refuses new writes (KV_UNAVAILABLE) until that peer catches
   * up or leaves the cluster: keeping every change until all peers have it is what lets any peer
   * catch up from its cursor without a full-state transfer.
   */
  logEntriesMax: number;
  /** Elements one append-only set takes from local appends; merges from other peers may exceed it (they never drop an element). */
  setElementsMax: number;
}

export const multiLeaderDefaults: MultiLeaderSettings = Object.freeze({
  shipIntervalTicks: 1,
  shipBatchMax: 256,
  retransmitTicks: 10,
  logEntriesMax: 1_000_000,
  setElementsMax: 100_000,
});

/** Entries one received `changes` message may hold: far above any sender's shipBatchMax, low enough to bound the work one message makes. */
export const changesPerMessageMax = 65_536;

/**
 * Bytes of values (roughly, in UTF-16 code units) one batch carries before it is cut, so that a
 * batch of large values stays a reasonable message. A single entry larger than this still ships, alone.
 */
export const shipValueCharactersMax = 4 * 1024 * 1024;

export function multiLeaderSettings(overrides: Partial<MultiLeaderSettings> = {}): MultiLeaderSettings {
  const settings: MultiLeaderSettings = { ...multiLeaderDefaults, ...overrides };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isSafeInteger(value) || (value as number) < 1) throw new MultiLeaderSettingsError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  if (settings.shipBatchMax > changesPerMessageMax) throw new MultiLeaderSettingsError(`shipBatchMax (${settings.shipBatchMax}) must not exceed ${changesPerMessageMax}, the most a receiver accepts in one message`);
  if (settings.retransmitTicks < settings.shipIntervalTicks) throw new MultiLeaderSettingsError(`retransmitTicks (${settings.retransmitTicks}) must be at least shipIntervalTicks (${settings.shipIntervalTicks}): a batch cannot time out before the next could be sent`);
  return settings;
}
