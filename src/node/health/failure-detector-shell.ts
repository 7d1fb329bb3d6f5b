/**
 * The failure detector's shell: every pingIntervalMs it ticks the pure detector
 * (src/replication/failure-detector) and pings each watched peer with `health.ping` over the
 * transport. An answer, or any ping that arrives from a peer, is "heard"; other code may call
 * `heard` for any other message it gets from a peer. Each change of state goes to
 * `onTransition(observerId, transition, lastHeardAtMs)`, where the peer records it as a health
 * event (`peerEventOf` makes that event).
 *
 * The peers to watch come from a function, asked at every tick, so the monitor follows the
 * swarm as discovery finds and forgets peers. A ping is not sent to a peer that still has one
 * in flight: a slow peer gets one question at a time, and its late answer still counts.
 */
import type { PeerEvent } from '../../availability/index.js';
import { FailureDetector, type Health, type PeerHealth, type Transition } from '../../replication/failure-detector/index.js';
import type { Contact } from '../../p2p/kademlia/index.js';
import { silentLogger, type Logger, type RpcContext, type Transport } from '../../net/index.js';
import { downAfterMsDefault, healthPingMethod, pingIntervalMsDefault, suspectAfterMsDefault } from './constants.js';
import { HealthSettingsError } from './errors.js';

export interface HealthMonitorOptions {
  transport: Pick<Transport, 'nodeId' | 'handle' | 'request'>;
  peers: () => readonly Contact[];
  /**
   * A change of a peer's state. `lastHeardAtMs` is when anything last arrived from the peer (or
   * when it was first watched): for a 'down', the moment it went silent, which `peerEventOf`
   * records as the start of the outage rather than the moment the timeout noticed it.
   */
  onTransition: (observerId: string, transition: Transition, lastHeardAtMs: number) => void;
  /** Milliseconds since the epoch; Date.now by default. */
  now?: () => number;
  pingIntervalMs?: number;
  /** Silence after which a peer is suspected, rounded up to whole ping intervals. */
  suspectAfterMs?: number;
  /** Silence after which a peer is declared down, rounded up to whole ping intervals. */
  downAfterMs?: number;
  logger?: Logger;
}

export interface PingAnswer {
  nodeId: string;
}

function ticksOf(name: string, milliseconds: number, pingIntervalMs: number): number {
  if (!(Number.isFinite(milliseconds) && milliseconds > 0)) throw new HealthSettingsError(`${name} must be a number of milliseconds above 0, got ${milliseconds}`);
  return Math.ceil(milliseconds / pingIntervalMs);
}

export class HealthMonitor {
  readonly nodeId: string;
  readonly pingIntervalMs: number;
  private readonly options: HealthMonitorOptions;
  private readonly detector: FailureDetector;
  private readonly logger: Logger;
  private readonly contacts = new Map<string, Contact>();
  private readonly pinging = new Set<string>();
  private readonly lastHeardAtMs = new Map<string, number>();
  private readonly now: () => number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(options: HealthMonitorOptions) {
    this.options = options;
    this.nodeId = options.transport.nodeId;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.pingIntervalMs = options.pingIntervalMs ?? pingIntervalMsDefault;
    if (!(Number.isFinite(this.pingIntervalMs) && this.pingIntervalMs > 0)) throw new HealthSettingsError(`pingIntervalMs must be a number of milliseconds above 0, got ${this.pingIntervalMs}`);
    const suspectAfterTicks = ticksOf('suspectAfterMs', options.suspectAfterMs ?? suspectAfterMsDefault, this.pingIntervalMs);
    const downAfterTicks = ticksOf('downAfterMs', options.downAfterMs ?? downAfterMsDefault, this.pingIntervalMs);
    if (downAfterTicks <= suspectAfterTicks) {
      throw new HealthSettingsError(`downAfterMs must be at least one ping interval (${this.pingIntervalMs} ms) longer than suspectAfterMs: a peer is suspected before it is declared down`);
    }
    this.detector = new FailureDetector({ suspectAfterTicks, downAfterTicks });
    options.transport.handle(healthPingMethod, (_body: unknown, context: RpcContext): PingAnswer => {
      this.heard(context.peer.nodeId);
      return { nodeId: this.nodeId };
    });
  }

  /** Starts pinging; the first pings go out at once. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.syncWatched();
    this.pingAll();
    this.timer = setInterval(() => this.interval(), this.pingIntervalMs);
    this.timer.unref?.();
  }

  /** Stops ticking and pinging; answers still in flight are ignored. The ping handler stays registered (a transport cannot unregister one) and answers. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Anything arrived from the peer. */
  heard(peerId: string): void {
    if (this.stopped) return;
    if (this.contacts.has(peerId)) this.lastHeardAtMs.set(peerId, this.now());
    const transition = this.detector.heard(peerId);
    if (transition !== undefined) this.emit(transition);
  }

  state(peerId: string): Health | undefined {
    return this.detector.state(peerId);
  }

  states(): PeerHealth[] {
    return this.detector.states();
  }

  private interval(): void {
    if (this.stopped) return;
    for (const transition of this.detector.tick()) this.emit(transition);
    this.syncWatched();
    this.pingAll();
  }

  private emit(transition: Transition): void {
    try {
      this.options.onTransition(this.nodeId, transition, this.lastHeardAtMs.get(transition.peer) ?? this.now());
    } catch (error) {
      this.logger.error({ peer: transition.peer, to: transition.to, detail: (error as Error).message }, 'a failure-detector transition could not be handled');
    }
  }

  /** Watches the peers the swarm knows now (never this node) and forgets the others. */
  private syncWatched(): void {
    const current = new Map<string, Contact>();
    for (const contact of this.options.peers()) if (contact.nodeId !== this.nodeId) current.set(contact.nodeId, contact);
    for (const peer of this.contacts.keys()) {
      if (!current.has(peer)) {
        this.contacts.delete(peer);
        this.lastHeardAtMs.delete(peer);
        this.detector.unwatch(peer);
      }
    }
    for (const [peer, contact] of current) {
      if (!this.contacts.has(peer)) {
        try {
          this.detector.watch(peer);
          this.lastHeardAtMs.set(peer, this.now());
        } catch (error) {
          this.logger.warn({ peer, code: (error as { code?: unknown }).code, detail: (error as Error).message }, 'peer not watched');
          continue;
        }
      }
      this.contacts.set(peer, contact);
    }
  }

  private pingAll(): void {
    for (const [peer, contact] of this.contacts) {
      if (this.pinging.has(peer)) continue;
      this.pinging.add(peer);
      const timeoutMs = this.detector.downAfterTicks * this.pingIntervalMs;
      this.options.transport
        .request({ host: contact.host, port: contact.port, nodeId: peer }, healthPingMethod, { nodeId: this.nodeId }, { timeoutMs })
        .then((answer) => {
          if ((answer as Partial<PingAnswer> | null)?.nodeId === peer) this.heard(peer);
        })
        // A failed ping is silence, which the detector counts; the reason is only worth a debug line.
        .catch((error: unknown) => this.logger.debug({ peer, code: (error as { code?: unknown }).code }, 'health ping failed'))
        .finally(() => this.pinging.delete(peer));
    }
  }
}

/**
 * The health event a transition makes, if any: 'down' dated when the peer was last heard from,
 * 'up' (after a 'down') dated now. Suspicion is a routing hint, not an outage: no event.
 */
export function peerEventOf(observerId: string, transition: Transition, nowMs: number, lastHeardAtMs: number): PeerEvent | undefined {
  if (transition.to === 'down') return { kind: 'peer', atMs: Math.min(lastHeardAtMs, nowMs), observer: observerId, subject: transition.peer, state: 'down' };
  if (transition.to === 'up' && transition.from === 'down') return { kind: 'peer', atMs: nowMs, observer: observerId, subject: transition.peer, state: 'up' };
  return undefined;
}
