/**
 * The leaderless store's settings, its fixed limits (TigerBeetle style: every map and queue
 * has a named maximum) and the relationships between settings, checked once at start-up.
 */
import type { AntiEntropySettings } from './anti-entropy/index.js';

export interface LeaderlessSettings {
  /** Replicas per key: the key lives on the n distinct peers that follow its hash on the ring. */
  n: number;
  /** Answers a read waits for, unless the request asks for another number in 1..n. */
  r: number;
  /** Fsynced acknowledgements a write waits for, unless the request asks for another number in 1..n. */
  w: number;
  /** Points each peer takes on the ring: more points spread keys more evenly and move fewer at once. */
  virtualNodesPerPeer: number;
  /** A request that has not gathered its r or w answers after this many ticks fails with KV_TIMEOUT. */
  requestTimeoutTicks: number;
  /** Hints one peer keeps for others at most; a stand-in that is full refuses to stand in. */
  hintsMax: number;
  /** Every this many ticks a peer hands its hints (and keys it no longer owns) to their owners. */
  handoffIntervalTicks: number;
  /** After a read, replicas that answered with a stale or missing state get the merged state. */
  readRepair: boolean;
  /**
   * Sloppy quorum (Dynamo section 4.6): a down preference-list peer is replaced by the next
   * healthy peer on the ring, which keeps the write as a hint. Off, only the key's own n
   * replicas count, so r + w > n gives read-your-writes, at the price of availability.
   * (An addition to the brief's settings: the simulator needs strict-quorum runs.)
   */
  sloppyQuorum: boolean;
  antiEntropy?: Partial<AntiEntropySettings>;
}

export const leaderlessDefaults: LeaderlessSettings = Object.freeze({
  n: 3,
  r: 2,
  w: 2,
  virtualNodesPerPeer: 64,
  requestTimeoutTicks: 40,
  hintsMax: 100_000,
  handoffIntervalTicks: 10,
  readRepair: true,
  sloppyQuorum: true,
}) as LeaderlessSettings;

/** Requests one peer coordinates or forwards at once; more are refused with KV_UNAVAILABLE rather than queued without bound. */
export const pendingRequestsMax = 10_000;
/** Hints and moved keys one peer hands to one owner per handoff interval, so a returning peer is not flooded. */
export const handoffKeysPerIntervalMax = 256;
/** Register states in one anti-entropy push message (each state may be up to a value's size). */
export const pushStatesPerMessageMax = 16;
/** A request id is at most this long: ids come from clients and travel in every message of the request. */
export const requestIdCharactersMax = 256;
/** Peers in a cluster at most (each takes virtualNodesPerPeer points on the ring). */
export const peersMax = 1024;
/** The ring's points at most, so rebuilding it stays cheap. */
export const ringPointsMax = 262_144;

export class LeaderlessSettingsError extends Error {
  override name = 'LeaderlessSettingsError';
  readonly code = 'LEADERLESS_SETTINGS_INVALID';
}

/** The settings with defaults filled in; throws LeaderlessSettingsError naming the first rule broken. */
export function leaderlessSettings(overrides: Partial<LeaderlessSettings> = {}): LeaderlessSettings {
  const settings: LeaderlessSettings = { ...leaderlessDefaults };
  for (const [name, value] of Object.entries(overrides)) if (value !== undefined) (settings as unknown as Record<string, unknown>)[name] = value;
  return settings;
}

/** Asserts the relationships between settings, with an error that says what to change. */
export function checkLeaderlessSettings(settings: LeaderlessSettings, peerCount: number): void {
  const positiveIntegers = ['n', 'r', 'w', 'virtualNodesPerPeer', 'requestTimeoutTicks', 'hintsMax', 'handoffIntervalTicks'] as const;
  for (const name of positiveIntegers) {
    const value = settings[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new LeaderlessSettingsError(`${name} must be a positive integer, got ${String(value)}`);
  }
  if (typeof settings.readRepair !== 'boolean') throw new LeaderlessSettingsError(`readRepair must be true or false, got ${String(settings.readRepair)}`);
  if (typeof settings.sloppyQuorum !== 'boolean') throw new LeaderlessSettingsError(`sloppyQuorum must be true or false, got ${String(settings.sloppyQuorum)}`);
  if (settings.r > settings.n) throw new LeaderlessSettingsError(`r (${settings.r}) must not exceed n (${settings.n}): a read cannot wait for more replicas than a key has`);
  if (settings.w > settings.n) throw new LeaderlessSettingsError(`w (${settings.w}) must not exceed n (${settings.n}): a write cannot wait for more replicas than a key has`);
  if (!Number.isSafeInteger(peerCount) || peerCount < 1) throw new LeaderlessSettingsError(`the cluster needs at least one storage peer, got ${peerCount}`);
  if (peerCount > peersMax) throw new LeaderlessSettingsError(`the cluster has ${peerCount} storage peers, more than peersMax (${peersMax})`);
  if (settings.n > peerCount) throw new LeaderlessSettingsError(`n (${settings.n}) must not exceed the number of storage peers (${peerCount}): add peers or lower n`);
  if (settings.virtualNodesPerPeer * peerCount > ringPointsMax) {
    throw new LeaderlessSettingsError(`virtualNodesPerPeer (${settings.virtualNodesPerPeer}) x ${peerCount} peers exceeds ringPointsMax (${ringPointsMax}): lower virtualNodesPerPeer`);
  }
}
