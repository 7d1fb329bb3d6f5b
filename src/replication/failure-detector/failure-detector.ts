/**
 * A heartbeat-timeout failure detector as a pure state machine, in the style of etcd's raft:
 * the shell calls `heard(peer)` whenever anything arrives from a peer (a ping's answer or any
 * other message) and `tick()` at a fixed interval; the detector counts the ticks each peer has
 * been silent and reports the changes of state as plain data.
 *
 *   up --(silent suspectAfterTicks)--> suspect --(silent downAfterTicks)--> down
 *   suspect or down --(heard)--> up
 *
 * A peer that is watched but never heard from starts 'up': it gets downAfterTicks to speak
 * before it is declared down, as a peer that was just heard would. This errs on the side of
 * "up" for a peer that never existed, and the caller learns the truth downAfterTicks later;
 * starting 'down' would instead report a failure of every peer at every start.
 *
 * 'suspect' is a hint (route new work elsewhere, do not count an outage yet); only 'down'
 * counts as a failure in availability reports.
 */
import { assert } from '../../core/assert.js';
import { watchedPeersMax as watchedPeersMaxDefault } from './constants.js';
import { FailureDetectorSettingsError, WatchedPeersFullError } from './errors.js';

export type Health = 'up' | 'suspect' | 'down';

export interface Transition {
  peer: string;
  from: Health;
  to: Health;
}

export interface FailureDetectorSettings {
  /** Ticks of silence after which a peer is suspected. */
  suspectAfterTicks: number;
  /** Ticks of silence after which a peer is declared down; more than suspectAfterTicks. */
  downAfterTicks: number;
  watchedPeersMax?: number;
}

export interface PeerHealth {
  peer: string;
  state: Health;
  /** Whole tick intervals since the peer was last heard from (or watched). */
  silentTicks: number;
}

function checkSettings(settings: FailureDetectorSettings): void {
  const { suspectAfterTicks, downAfterTicks } = settings;
  const watchedMax = settings.watchedPeersMax ?? watchedPeersMaxDefault;
  if (!Number.isSafeInteger(suspectAfterTicks) || suspectAfterTicks < 1) {
    throw new FailureDetectorSettingsError(`suspectAfterTicks must be a whole number of ticks >= 1, got ${suspectAfterTicks}`);
  }
  if (!Number.isSafeInteger(downAfterTicks) || downAfterTicks <= suspectAfterTicks) {
    throw new FailureDetectorSettingsError(`downAfterTicks must be a whole number of ticks above suspectAfterTicks (${suspectAfterTicks}), got ${downAfterTicks}: a peer is suspected before it is declared down`);
  }
  if (!Number.isSafeInteger(watchedMax) || watchedMax < 1) throw new FailureDetectorSettingsError(`watchedPeersMax must be a whole number >= 1, got ${watchedMax}`);
}

export class FailureDetector {
  readonly suspectAfterTicks: number;
  readonly downAfterTicks: number;
  readonly watchedPeersMax: number;
  private readonly peers = new Map<string, { state: Health; silentTicks: number; heardThisTick: boolean }>();

  constructor(settings: FailureDetectorSettings) {
    checkSettings(settings);
    this.suspectAfterTicks = settings.suspectAfterTicks;
    this.downAfterTicks = settings.downAfterTicks;
    this.watchedPeersMax = settings.watchedPeersMax ?? watchedPeersMaxDefault;
  }

  /** Starts watching a peer, 'up' with no silent tick counted yet; watching a watched peer changes nothing. */
  watch(peer: string): void {
    if (this.peers.has(peer)) return;
    if (this.peers.size >= this.watchedPeersMax) throw new WatchedPeersFullError(this.watchedPeersMax);
    this.peers.set(peer, { state: 'up', silentTicks: 0, heardThisTick: false });
  }

  /** Stops watching a peer; no transition is reported for it. */
  unwatch(peer: string): void {
    this.peers.delete(peer);
  }

  /**
   * Anything arrived from the peer. A suspected or down peer is up again at once, and that
   * transition is returned here rather than at the next tick, so a repair is seen when it happens.
   */
  heard(peer: string): Transition | undefined {
    const entry = this.peers.get(peer);
    if (entry === undefined) return undefined;
    entry.silentTicks = 0;
    entry.heardThisTick = true;
    if (entry.state === 'up') return undefined;
    const transition: Transition = { peer, from: entry.state, to: 'up' };
    entry.state = 'up';
    return transition;
  }

  /**
   * The end of one tick interval: every watched peer not heard from during it has been silent
   * one tick longer. Returns the peers that became suspect or down. A peer heard during every
   * interval is never suspected, however close to the tick its messages arrive.
   */
  tick(): Transition[] {
    const transitions: Transition[] = [];
    for (const [peer, entry] of this.peers) {
      if (entry.heardThisTick) {
        entry.heardThisTick = false;
        continue;
      }
      entry.silentTicks++;
      const next: Health = entry.silentTicks >= this.downAfterTicks ? 'down' : entry.silentTicks >= this.suspectAfterTicks ? 'suspect' : 'up';
      if (next === entry.state) continue;
      // Silence only ever makes a peer worse; 'heard' is the one way back.
      assert(next !== 'up', 'silence never brings a peer up');
      transitions.push({ peer, from: entry.state, to: next });
      entry.state = next;
    }
    return transitions;
  }

  state(peer: string): Health | undefined {
    return this.peers.get(peer)?.state;
  }

  /** Every watched peer, in the order they were first watched. */
  states(): PeerHealth[] {
    return [...this.peers].map(([peer, entry]) => ({ peer, state: entry.state, silentTicks: entry.silentTicks }));
  }
}
