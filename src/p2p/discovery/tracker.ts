/**
 * The tracker (hybrid P2P): a role that any node can run over the same TLS transport.
 * Peers announce themselves to it (`tracker.announce`) and ask it for other peers
 * (`tracker.peers`); it forgets a peer that stops announcing for its TTL. The peers it
 * returns are fed to the DHT as contacts, so a tracker and the DHT work together: the
 * tracker introduces, the DHT routes.
 *
 * A tracker believes nothing a peer says about itself: the node ID is the one its
 * certificate proved in the TLS handshake, the host is the connection's remote address and
 * the port is the listen port from its greeting.
 */
import type { Rng } from '../../core/rng.js';
import { RpcHandlerError, type Logger, type RpcContext, type Transport } from '../../net/index.js';
import { formatContact } from '../identity/index.js';
import { contactOfPeer } from '../dht/index.js';
import { contactProblem, type Contact } from '../kademlia/index.js';
import {
  trackerAnnounceIntervalMsDefault,
  trackerAnnounceMethod,
  trackerExpiryChecksPerTtl,
  trackerPeersMax,
  trackerPeersMethod,
  trackerPeersPerAnswerMax,
  trackerPeerTtlMsDefault,
  trackerRequestTimeoutMs,
  trackersMax,
} from './constants.js';
import type { DiscoveryDht } from './discovery-dht.js';
import { DiscoveryConfigError } from './errors.js';
import { TrackerRegistry } from './tracker-registry.js';

export interface TrackerServerOptions {
  transport: Transport;
  rng: Rng;
  logger: Logger;
  ttlMs?: number;
  nowMs?: () => number;
}

/** The tracker role: registers its two methods on the transport. */
export class TrackerServer {
  readonly registry: TrackerRegistry;
  private readonly options: TrackerServerOptions;
  private readonly nowMs: () => number;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: TrackerServerOptions) {
    this.options = options;
    this.nowMs = options.nowMs ?? Date.now;
    this.registry = new TrackerRegistry(options.ttlMs ?? trackerPeerTtlMsDefault, trackerPeersMax, (contact) => {
      options.logger.info({ contact: formatContact(contact), peers: this.registry.size }, 'tracker forgot a peer that stopped announcing');
    });
  }

  start(): void {
    this.options.transport.handle(trackerAnnounceMethod, (_body, context) => this.announce(context));
    this.options.transport.handle(trackerPeersMethod, (_body, context) => this.peers(context));
    // Announcements and questions expire the silent as they come; the timer does it when nobody calls.
    const expiryIntervalMs = Math.max(1, Math.round(this.registry.ttlMs / trackerExpiryChecksPerTtl));
    this.timer = setInterval(() => this.registry.expire(this.nowMs()), expiryIntervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private announce(context: RpcContext): { outcome: string; ttlMs: number } {
    const contact = contactOfPeer(context.peer);
    if (contact === undefined) throw new RpcHandlerError('TRACKER_NOT_A_PEER', 'only peers that accept connections (a non-zero listen port) can announce');
    const outcome = this.registry.announce(contact, this.nowMs());
    if (outcome === 'full') {
      this.options.logger.warn({ contact: formatContact(contact), peersMax: trackerPeersMax }, 'tracker is full; refused an announcement');
      throw new RpcHandlerError('TRACKER_FULL', `this tracker already tracks ${trackerPeersMax} peers, the most it keeps; try again later`);
    }
    if (outcome === 'added') this.options.logger.info({ contact: formatContact(contact), peers: this.registry.size }, 'tracker added a peer');
    return { outcome, ttlMs: this.registry.ttlMs };
  }

  private peers(context: RpcContext): { peers: Contact[] } {
    return { peers: this.registry.peers(this.nowMs(), context.peer.nodeId, trackerPeersPerAnswerMax, this.options.rng) };
  }
}

export interface TrackerClientOptions {
  trackers: readonly Contact[];
  transport: Transport;
  dht: DiscoveryDht;
  logger: Logger;
  intervalMs?: number;
}

export interface TrackerStatus {
  tracker: string;
  announcements: number;
  failures: number;
  lastError: string | null;
  peersLastAnswer: number;
}

/** Announces to every tracker now and every `intervalMs`, and feeds the peers they return to the DHT. */
export class TrackerClient {
  private readonly options: TrackerClientOptions;
  private readonly intervalMs: number;
  private readonly statuses: TrackerStatus[];
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(options: TrackerClientOptions) {
    if (options.trackers.length > trackersMax) throw new DiscoveryConfigError(`at most ${trackersMax} trackers may be given, got ${options.trackers.length}`);
    this.intervalMs = options.intervalMs ?? trackerAnnounceIntervalMsDefault;
    if (!(Number.isInteger(this.intervalMs) && this.intervalMs >= 1)) throw new DiscoveryConfigError(`the tracker announce interval must be a positive number of milliseconds, got ${this.intervalMs}`);
    this.options = options;
    this.statuses = options.trackers.map((tracker) => ({ tracker: formatContact(tracker), announcements: 0, failures: 0, lastError: null, peersLastAnswer: 0 }));
  }

  start(): void {
    this.round();
    this.timer = setInterval(() => this.round(), this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  status(): TrackerStatus[] {
    return this.statuses.map((status) => ({ ...status }));
  }

  private round(): void {
    this.options.trackers.forEach((tracker, index) => void this.announceTo(tracker, this.statuses[index]));
  }

  private async announceTo(tracker: Contact, status: TrackerStatus): Promise<void> {
    const { transport, logger, dht } = this.options;
    const address = { host: tracker.host, port: tracker.port, nodeId: tracker.nodeId };
    try {
      await transport.request(address, trackerAnnounceMethod, null, { timeoutMs: trackerRequestTimeoutMs });
      const answer = await transport.request(address, trackerPeersMethod, null, { timeoutMs: trackerRequestTimeoutMs });
      if (this.stopped) return;
      const peers = parsePeersAnswer(answer);
      status.announcements++;
      status.peersLastAnswer = peers.length;
      status.lastError = null;
      if (status.announcements === 1) logger.info({ tracker: status.tracker, peers: peers.length }, 'announced to tracker');
      // The tracker is a node too: it joins the DHT with the peers it introduced.
      await dht.offerContacts([tracker, ...peers]);
    } catch (error) {
      if (this.stopped) return;
      status.failures++;
      status.lastError = (error as Error).message;
      logger.warn({ tracker: status.tracker, detail: status.lastError, retryInMs: this.intervalMs }, 'tracker did not answer');
    }
  }
}

/** The contacts in a tracker's answer to `tracker.peers`, or an error saying what is wrong with it. */
export function parsePeersAnswer(answer: unknown): Contact[] {
  const peers = (answer as { peers?: unknown } | null)?.peers;
  if (!Array.isArray(peers)) throw new Error('the tracker answered without a list of peers');
  if (peers.length > trackerPeersPerAnswerMax) throw new Error(`the tracker answered with ${peers.length} peers, more than the ${trackerPeersPerAnswerMax} allowed`);
  for (const peer of peers) {
    const problem = contactProblem(peer);
    if (problem !== undefined) throw new Error(`the tracker answered with a malformed contact: ${problem}`);
  }
  return peers as Contact[];
}
