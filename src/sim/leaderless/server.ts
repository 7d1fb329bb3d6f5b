/**
 * A production `LeaderlessNode` as a simulated peer, with the shell's duties done the way a
 * real shell must: persist each Ready on the simulated disk as one transaction, wait for the
 * fsync, and only then send its messages and deliver its replies. The shell also runs the
 * failure detector the core relies on (`setPeerUp`): it pings every peer and suspects one it
 * has not heard from for a while, as the real shell does with RPC errors and timeouts.
 */
import type { Rng } from '../../core/rng.js';
import { LeaderlessNode, type LeaderlessReady, type LeaderlessSettings } from '../../replication/leaderless/index.js';
import type { AddressedMessage, SimulatedPeer } from '../peer.js';
import type { SimulatedLeaderlessDisk } from './disk.js';
import type { SimulatedLeaderlessMessage } from './messages.js';

/** Client requests one server remembers the sender of, at most (older ones are forgotten: their clients gave up long ago). */
export const clientRoutesMax = 4_096;

export interface LeaderlessServerOptions {
  address: string;
  servers: readonly string[];
  disk: SimulatedLeaderlessDisk;
  settings: Partial<LeaderlessSettings>;
  /** Ticks an fsync takes. */
  fsyncTicks: number;
  /** The failure detector pings every peer this often, and suspects one not heard from for `suspectTicks`. */
  pingIntervalTicks: number;
  suspectTicks: number;
  nowMs: () => number;
  /**
   * A broken shell for the checker's own test: send acknowledgements before the fsync (and
   * fsync lazily), so a crash loses writes that were already acknowledged.
   */
  ackBeforePersist?: boolean;
}

export class SimulatedLeaderlessServer implements SimulatedPeer<SimulatedLeaderlessMessage> {
  readonly node: LeaderlessNode;
  private readonly options: LeaderlessServerOptions;
  private outbox: AddressedMessage<SimulatedLeaderlessMessage>[] = [];
  private persisting: { ready: LeaderlessReady; ticksLeft: number } | undefined;
  private readonly clientOf = new Map<string, string>();
  private readonly lastHeardTick = new Map<string, number>();
  private readonly suspected = new Set<string>();
  private ticks = 0;
  private servers: readonly string[];

  constructor(options: LeaderlessServerOptions, rng: Rng) {
    this.options = options;
    this.servers = options.servers;
    const restored = options.disk.recover();
    this.node = new LeaderlessNode({ id: options.address, peers: options.servers, settings: options.settings, rng, restored });
    for (const peer of options.servers) this.lastHeardTick.set(peer, 0);
  }

  /** A membership change, as the operator's new configuration reaches this peer. */
  setServers(servers: readonly string[]): void {
    this.servers = servers;
    for (const peer of servers) if (!this.lastHeardTick.has(peer)) this.lastHeardTick.set(peer, this.ticks);
    this.node.setPeers(servers);
  }

  tick(): void {
    this.ticks++;
    this.node.tick();
    if (this.ticks % this.options.pingIntervalTicks === 0) {
      for (const peer of this.servers) if (peer !== this.options.address) this.outbox.push({ to: peer, message: { kind: 'ping' } });
    }
    for (const peer of this.servers) {
      if (peer === this.options.address || this.suspected.has(peer)) continue;
      if (this.ticks - this.lastHeardTick.get(peer)! > this.options.suspectTicks) {
        this.suspected.add(peer);
        this.node.setPeerUp(peer, false);
      }
    }
    if (this.options.ackBeforePersist === true && this.ticks % (8 * this.options.fsyncTicks) === 0) this.options.disk.fsync();
    if (this.persisting !== undefined && --this.persisting.ticksLeft <= 0) this.finishReady();
  }

  ticksUntilDue(): number {
    return 1;
  }

  receive(from: string, message: SimulatedLeaderlessMessage): void {
    if (this.lastHeardTick.has(from)) {
      this.lastHeardTick.set(from, this.ticks);
      if (this.suspected.delete(from)) this.node.setPeerUp(from, true);
    }
    switch (message.kind) {
      case 'core':
        return this.node.step(from, message.message, this.options.nowMs());
      case 'ping':
        return void this.outbox.push({ to: from, message: { kind: 'pong' } });
      case 'request':
        if (this.clientOf.size >= clientRoutesMax) this.clientOf.delete(this.clientOf.keys().next().value!);
        this.clientOf.set(message.request.requestId, from);
        return this.node.request(message.request, this.options.nowMs());
      default:
        return;
    }
  }

  takeMessages(): readonly AddressedMessage<SimulatedLeaderlessMessage>[] {
    while (this.persisting === undefined && this.node.hasReady()) this.startReady();
    const messages = this.outbox;
    this.outbox = [];
    return messages;
  }

  /** Step 1 of the Ready contract: write the transaction; the rest waits for the fsync unless nothing needs persisting. */
  private startReady(): void {
    const ready = this.node.ready();
    const needsSync = ready.statesToPersist.length + ready.hintsToPersist.length + ready.hintsToDelete.length > 0;
    if (needsSync) this.options.disk.write({ states: ready.statesToPersist, hintsToPersist: ready.hintsToPersist, hintsToDelete: ready.hintsToDelete });
    this.persisting = { ready, ticksLeft: this.options.fsyncTicks };
    if (!needsSync || this.options.ackBeforePersist === true) this.finishReady();
  }

  private finishReady(): void {
    const { ready } = this.persisting!;
    if (this.options.ackBeforePersist !== true) this.options.disk.fsync();
    for (const { to, message } of ready.messages) this.outbox.push({ to, message: { kind: 'core', message } });
    for (const reply of ready.replies) {
      const client = this.clientOf.get(reply.requestId);
      if (client === undefined) continue;
      this.clientOf.delete(reply.requestId);
      this.outbox.push({ to: client, message: { kind: 'reply', reply } });
    }
    this.persisting = undefined;
    this.node.advance();
  }
}
