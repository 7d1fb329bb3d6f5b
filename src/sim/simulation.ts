/**
 * The deterministic simulator (DESIGN.md section 3): one seed drives a simulated clock, the
 * network between simulated peers and the faults, and the production cores run inside it.
 * The same seed replays the same run event for event; `traceHash` fingerprints a run so that
 * a test can say so.
 *
 * Time is in simulated milliseconds, and peers tick at every multiple of `tickMs`. Ticking
 * ten thousand idle peers ten times a simulated second would cost more than everything else
 * together (each tick touches a different peer's memory), so ticks are applied lazily: a peer
 * says how many ticks may pass before it has timed work to do (`ticksUntilDue`), the
 * simulator wakes it then, and before anything else reaches a peer (a message, a call) the
 * simulator first applies the ticks it missed. The peer sees exactly the ticks it would have
 * seen with a global tick; only the number of events differs.
 *
 * Events are message deliveries, wake-ups of one peer, and actions that workloads and fault
 * plans schedule (crash a peer, start a lookup, cut the network in two).
 */
import { Rng } from '../core/rng.js';
import { EventQueue } from './event-queue.js';
import { NetworkModel, networkSettings, type NetworkSettings } from './network.js';
import type { AddressedMessage, PeerFactory, SimulatedPeer } from './peer.js';

export interface SimulationOptions<Message> {
  /** The one seed the whole run follows. */
  seed: number;
  /** Simulated milliseconds between two ticks of every peer; use the core's own production `tickMs`. */
  tickMs: number;
  network?: Partial<NetworkSettings>;
  /** Where the seed and other run notes are printed; nothing is printed without it. */
  log?: (line: string) => void;
  /** Keep a readable line per event (for small runs and failing tests); `describe` names a message in it. */
  recordTrace?: boolean;
  describe?: (message: Message) => string;
}

export interface SimulationStats {
  events: number;
  messagesSent: number;
  messagesDelivered: number;
  messagesDuplicated: number;
  droppedLost: number;
  droppedPartitioned: number;
  /** Addressed to a peer that is down, removed, or never existed. */
  droppedUnreachable: number;
  crashes: number;
  restarts: number;
}

interface Slot<Message> {
  /** A number that identifies the peer in the trace hash (its order of creation). */
  readonly index: number;
  readonly address: string;
  readonly factory: PeerFactory<Message>;
  peer: SimulatedPeer<Message> | undefined;
  removed: boolean;
  /** The tick instant (a multiple of `tickMs`) the peer has been ticked through. */
  tickedThroughMs: number;
  /** When the peer's next wake-up is scheduled, or infinity. */
  wakeAtMs: number;
}

const enum EventKind {
  Deliver = 1,
  Wake = 2,
  Action = 3,
}

type SimulationEvent<Message> =
  | { readonly kind: EventKind.Deliver; readonly from: Slot<Message>; readonly to: string; readonly message: Message }
  | { readonly kind: EventKind.Wake; readonly slot: Slot<Message>; readonly atMs: number }
  | { readonly kind: EventKind.Action; readonly action: () => void };

export class Simulation<Message> {
  readonly seed: number;
  readonly network: NetworkModel;
  readonly stats: SimulationStats = {
    events: 0, messagesSent: 0, messagesDelivered: 0, messagesDuplicated: 0,
    droppedLost: 0, droppedPartitioned: 0, droppedUnreachable: 0, crashes: 0, restarts: 0,
  };
  readonly trace: string[] = [];
  private readonly rng: Rng;
  private readonly queue = new EventQueue<SimulationEvent<Message>>();
  private readonly slots = new Map<string, Slot<Message>>();
  private readonly options: SimulationOptions<Message>;
  private clockMs = 0;
  private hashHigh = 0x811c9dc5;
  private hashLow = 0x01000193;
  private nextSlotIndex = 0;

  constructor(options: SimulationOptions<Message>) {
    if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw new RangeError(`seed must be a non-negative safe integer, got ${options.seed}`);
    if (!(options.tickMs >= 1)) throw new RangeError(`tickMs must be at least 1, got ${options.tickMs}`);
    this.options = options;
    this.seed = options.seed;
    this.rng = new Rng(options.seed);
    this.network = new NetworkModel(networkSettings(options.network), this.rng.fork());
    options.log?.(`simulation seed ${options.seed} (re-run with this seed to replay this run exactly)`);
  }

  /** Simulated milliseconds since the start. */
  get now(): number {
    return this.clockMs;
  }

  /** A fresh random stream for a workload, derived from the seed. */
  forkRng(): Rng {
    return this.rng.fork();
  }

  // ---- peers -------------------------------------------------------------------------

  addPeer(address: string, factory: PeerFactory<Message>): void {
    if (this.slots.has(address)) throw new RangeError(`a peer with address ${address} already exists`);
    const slot: Slot<Message> = {
      index: this.nextSlotIndex++, address, factory, peer: undefined, removed: false,
      tickedThroughMs: this.lastTickInstant(), wakeAtMs: Number.POSITIVE_INFINITY,
    };
    this.slots.set(address, slot);
    slot.peer = factory(address, this.rng.fork());
    this.mix(4, slot.index);
    this.flush(slot);
  }

  /** The peer's in-memory state is lost; messages to it are dropped until `restart`. */
  crash(address: string): void {
    const slot = this.slotOf(address);
    if (slot.peer === undefined) return;
    slot.peer = undefined;
    this.stats.crashes++;
    this.mix(5, slot.index);
    this.note(`crash ${address}`);
  }

  /** A crashed peer comes back with its identity and nothing else: a fresh core from its factory. */
  restart(address: string): void {
    const slot = this.slotOf(address);
    if (slot.peer !== undefined || slot.removed) return;
    slot.peer = slot.factory(address, this.rng.fork());
    slot.tickedThroughMs = this.lastTickInstant();
    slot.wakeAtMs = Number.POSITIVE_INFINITY;
    this.stats.restarts++;
    this.mix(6, slot.index);
    this.note(`restart ${address}`);
    this.flush(slot);
  }

  /** The peer leaves for good (crashed and never restarted); its address may not be reused. */
  removePeer(address: string): void {
    const slot = this.slotOf(address);
    slot.peer = undefined;
    slot.removed = true;
    this.mix(7, slot.index);
    this.note(`remove ${address}`);
  }

  isUp(address: string): boolean {
    return this.slots.get(address)?.peer !== undefined;
  }

  /** Runs `use` on a live peer (to start a lookup, say) and sends what it produced. Returns undefined if the peer is down. */
  invoke<Result>(address: string, use: (peer: SimulatedPeer<Message>) => Result): Result | undefined {
    const slot = this.slotOf(address);
    if (slot.peer === undefined) return undefined;
    this.catchUp(slot);
    const result = use(slot.peer);
    this.flush(slot);
    return result;
  }

  // ---- faults and scheduling ---------------------------------------------------------

  partition(groups: readonly (readonly string[])[]): void {
    this.network.partition(groups);
    this.mix(8, groups.length);
    this.note(`partition ${groups.map((group) => group.length).join('/')}`);
  }

  heal(): void {
    this.network.heal();
    this.mix(9, 0);
    this.note('heal');
  }

  /** Runs `action` at simulated time `timeMs` (not before now). */
  at(timeMs: number, action: () => void): void {
    this.queue.push(Math.max(timeMs, this.clockMs), { kind: EventKind.Action, action });
  }

  after(delayMs: number, action: () => void): void {
    this.at(this.clockMs + delayMs, action);
  }

  // ---- running -----------------------------------------------------------------------

  /** Runs every event up to and including `timeMs`, then sets the clock to `timeMs`. */
  runUntil(timeMs: number): void {
    while (this.queue.peekTime() <= timeMs) {
      this.clockMs = this.queue.peekTime();
      this.handle(this.queue.pop());
    }
    this.clockMs = Math.max(this.clockMs, timeMs);
  }

  runFor(durationMs: number): void {
    this.runUntil(this.clockMs + durationMs);
  }

  /** A fingerprint of everything that happened so far: equal for two runs of one seed, different (almost surely) otherwise. */
  traceHash(): string {
    return (this.hashHigh >>> 0).toString(16).padStart(8, '0') + (this.hashLow >>> 0).toString(16).padStart(8, '0');
  }

  /** Folds a workload's own observation (a lookup's outcome, say) into the trace hash. */
  noteOutcome(value: number): void {
    this.mix(10, value | 0);
  }

  private handle(event: SimulationEvent<Message>): void {
    this.stats.events++;
    switch (event.kind) {
      case EventKind.Deliver:
        return this.deliver(event.from, event.to, event.message);
      case EventKind.Wake:
        return this.wake(event.slot, event.atMs);
      case EventKind.Action:
        this.mix(3, this.clockMs);
        return event.action();
    }
  }

  /** The latest tick instant at or before now: peers are ticked at every multiple of `tickMs`. */
  private lastTickInstant(): number {
    return Math.floor(this.clockMs / this.options.tickMs) * this.options.tickMs;
  }

  /** Applies the ticks a peer missed since it was last ticked, up to and including the latest tick instant. */
  private catchUp(slot: Slot<Message>): void {
    const peer = slot.peer!;
    const throughMs = this.lastTickInstant();
    for (let instant = slot.tickedThroughMs + this.options.tickMs; instant <= throughMs; instant += this.options.tickMs) peer.tick();
    slot.tickedThroughMs = Math.max(slot.tickedThroughMs, throughMs);
  }

  private wake(slot: Slot<Message>, atMs: number): void {
    // A wake-up made stale by an earlier one, a crash or a removal does nothing.
    if (slot.peer === undefined || slot.wakeAtMs !== atMs) return;
    slot.wakeAtMs = Number.POSITIVE_INFINITY;
    this.mix(2, slot.index);
    this.catchUp(slot);
    this.flush(slot);
  }

  private deliver(from: Slot<Message>, to: string, message: Message): void {
    const slot = this.slots.get(to);
    const toIndex = slot?.index ?? -1;
    if (slot === undefined || slot.peer === undefined) {
      this.stats.droppedUnreachable++;
      this.mix(from.index, ~toIndex);
      return;
    }
    if (!this.network.canReach(from.address, to)) {
      this.stats.droppedPartitioned++;
      this.mix(from.index, ~toIndex ^ 0x5555);
      return;
    }
    this.stats.messagesDelivered++;
    this.mix(from.index, toIndex);
    if (this.options.recordTrace === true) this.note(`deliver ${from.address} -> ${to} ${this.options.describe?.(message) ?? ''}`);
    this.catchUp(slot);
    slot.peer.receive(from.address, message);
    this.flush(slot);
  }

  /**
   * Sends what a peer produced (each message is lost, or delivered after a random latency,
   * sometimes twice) and makes sure the peer is woken when its next timed work falls due.
   * Messages travel by reference, not serialised: cores treat messages as immutable values,
   * which is what lets ten thousand peers share one copy of each contact.
   */
  private flush(slot: Slot<Message>): void {
    const peer = slot.peer;
    if (peer === undefined) return;
    const dueMs = slot.tickedThroughMs + Math.max(1, peer.ticksUntilDue()) * this.options.tickMs;
    if (dueMs < slot.wakeAtMs) {
      slot.wakeAtMs = dueMs;
      this.queue.push(dueMs, { kind: EventKind.Wake, slot, atMs: dueMs });
    }
    const messages: readonly AddressedMessage<Message>[] = peer.takeMessages();
    for (const { to, message } of messages) {
      this.stats.messagesSent++;
      if (this.network.loses()) {
        this.stats.droppedLost++;
        this.mix(slot.index, 0x10000);
        continue;
      }
      this.queue.push(this.clockMs + this.network.latencyMs(), { kind: EventKind.Deliver, from: slot, to, message });
      if (this.network.duplicates()) {
        this.stats.messagesDuplicated++;
        this.queue.push(this.clockMs + this.network.latencyMs(), { kind: EventKind.Deliver, from: slot, to, message });
      }
    }
  }

  private slotOf(address: string): Slot<Message> {
    const slot = this.slots.get(address);
    if (slot === undefined) throw new RangeError(`no simulated peer has address ${address}`);
    return slot;
  }

  private note(line: string): void {
    if (this.options.recordTrace === true) this.trace.push(`${this.clockMs} ${line}`);
  }

  /** Folds two numbers and the clock into the trace hash (two 32-bit FNV-1a style lanes). */
  private mix(a: number, b: number): void {
    this.hashHigh = Math.imul(this.hashHigh ^ a, 0x01000193);
    this.hashHigh = Math.imul(this.hashHigh ^ b, 0x01000193);
    this.hashHigh = Math.imul(this.hashHigh ^ this.clockMs, 0x01000193);
    this.hashLow = Math.imul(this.hashLow ^ (b + 0x9e3779b9), 0x85ebca6b);
    this.hashLow = Math.imul(this.hashLow ^ (a + this.clockMs), 0xc2b2ae35);
    this.hashLow ^= this.hashLow >>> 15;
  }
}
