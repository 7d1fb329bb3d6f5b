/**
 * The multi-leader workload: 3 to 5 production `MultiLeaderNode`s on simulated disks and a
 * simulated network, clients writing registers (with and without contexts, some
 * last-writer-wins) and appending to conversations at random peers, and faults: crashes that
 * lose unsynced transactions, restarts, partitions (which the peers' failure detectors notice
 * or not), message loss, duplication and reordering. A safety phase under faults; then the
 * network heals, every peer restarts, clients write a little longer (their writes must
 * succeed) and stop, and every peer must hold the same state within a bound. Checked: no
 * acknowledged write lost, convergence (its time is reported), read-your-writes (checkers.ts).
 */
import { assert } from '../../core/assert.js';
import { Rng } from '../../core/rng.js';
import type { VersionVector } from '../../replication/versions/index.js';
import type { ChangeEntry, MultiLeaderNode, MultiLeaderNodeOptions } from '../../replication/multi-leader/index.js';
import { Simulation } from '../simulation.js';
import { divergence, lostAcknowledgedWrites, type AcknowledgedAppend, type AcknowledgedPut, type DurablePut } from './checkers.js';
import { WorkloadClient, type ClientCounts } from './clients.js';
import { SimulatedMultiLeaderDisk } from './disk.js';
import { SimulatedMultiLeaderPeer, type SimulatedMultiLeaderMessage } from './peer.js';
import { multiLeaderTickMs, randomMultiLeaderRunSettings, type MultiLeaderRunSettings } from './settings.js';

export interface MultiLeaderRunReport {
  seed: number;
  settings: MultiLeaderRunSettings;
  /** Broken promises; empty when the run passed. */
  failures: string[];
  writes: number;
  acknowledgedPuts: number;
  acknowledgedAppends: number;
  /** Writes refused, by code (KV_UNAVAILABLE while a full log waits for a peer, KV_TOO_MANY_SIBLINGS). */
  refusals: Record<string, number>;
  samePeerReads: number;
  sessionReads: number;
  sessionReadsTimedOut: number;
  writesAfterHealing: number;
  /** Simulated milliseconds from the clients stopping until every peer held the same state (infinity if never). */
  convergenceMs: number;
  crashes: number;
  partitions: number;
  lostUnsyncedTransactions: number;
  simulatedMs: number;
  events: number;
  messagesSent: number;
  traceHash: string;
}

/** What only tests pass: a factory for a deliberately broken core. */
export interface MultiLeaderRunHooks {
  makeNode?: (options: MultiLeaderNodeOptions) => MultiLeaderNode;
}

export function runMultiLeaderWorkload(seed: number, overrides: Partial<MultiLeaderRunSettings> = {}, hooks: MultiLeaderRunHooks = {}): MultiLeaderRunReport {
  // The settings come from their own stream of the seed, so that the simulation can be built with them.
  const settings = { ...randomMultiLeaderRunSettings(new Rng(seed).fork()), ...overrides };
  const sim = new Simulation<SimulatedMultiLeaderMessage>({ seed, tickMs: multiLeaderTickMs, network: settings.network });
  return new MultiLeaderRun(sim, seed, settings, hooks).run();
}

class MultiLeaderRun {
  private readonly rng: Rng;
  private readonly peers: string[] = [];
  private readonly disks = new Map<string, SimulatedMultiLeaderDisk>();
  private readonly skewsMs = new Map<string, number>();
  private readonly started = new Set<string>();
  private readonly failures: string[] = [];
  private readonly acknowledgedPuts: AcknowledgedPut[] = [];
  private readonly acknowledgedAppends: AcknowledgedAppend[] = [];
  private readonly durablePuts: DurablePut[] = [];
  /** The context of each put a peer accepted, by `<origin>:<seq>` (a seq lost to a crash is reused, and its entry replaced). */
  /** The context each accepted put came with; undefined for a blind put (which supersedes what its peer had seen). */
  private readonly acceptedContexts = new Map<string, VersionVector | undefined>();
  private readonly counts: ClientCounts = { writes: 0, refusals: {}, samePeerReads: 0, sessionReads: 0, sessionReadsTimedOut: 0, writesAfterHealing: 0, healedAtMs: Number.POSITIVE_INFINITY };
  private clientsActive = true;
  private faultsActive = true;
  private crashes = 0;
  private partitions = 0;

  constructor(
    private readonly sim: Simulation<SimulatedMultiLeaderMessage>,
    private readonly seed: number,
    private readonly settings: MultiLeaderRunSettings,
    private readonly hooks: MultiLeaderRunHooks,
  ) {
    this.rng = sim.forkRng();
  }

  run(): MultiLeaderRunReport {
    try {
      return this.runPhases();
    } catch (error) {
      // A broken assertion inside the core or the shell is a failure of this seed, reported with it like any other.
      this.fail(`crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return this.report(Number.POSITIVE_INFINITY);
    }
  }

  private runPhases(): MultiLeaderRunReport {
    const { settings, sim } = this;
    for (let index = 1; index <= settings.peers; index++) this.peers.push(`p${index}`);
    for (const address of this.peers) {
      this.disks.set(address, new SimulatedMultiLeaderDisk((entry) => this.recordDurable(entry)));
      this.skewsMs.set(address, this.rng.nextInt(2 * settings.clockSkewMsMax + 1) - settings.clockSkewMsMax);
      sim.addPeer(address, (peerAddress, peerRng) => this.makePeer(peerAddress, peerRng));
    }
    const names = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}${index}`);
    const shared = {
      sim, rng: this.rng, peers: this.peers, thinkMsMax: settings.thinkMsMax, active: () => this.clientsActive,
      registerKeys: names('register', settings.registerKeys), lastWriterWinsKeys: names('lww', settings.lastWriterWinsKeys), conversations: names('conversation', settings.conversations),
      acknowledgedPuts: this.acknowledgedPuts, acknowledgedAppends: this.acknowledgedAppends, fail: (message: string) => this.fail(message), counts: this.counts,
    };
    for (let index = 0; index < settings.clients; index++) new WorkloadClient(index, shared).start();
    this.schedulePartitions();
    this.scheduleCrashes();
    sim.runUntil(settings.safetyMs);
    // Liveness: heal, restart everyone; writes must succeed again, then every peer must converge.
    this.faultsActive = false;
    sim.heal();
    for (const address of this.peers) if (!sim.isUp(address)) sim.restart(address);
    this.counts.healedAtMs = sim.now;
    sim.runFor(settings.livenessMs);
    this.clientsActive = false;
    const stoppedAtMs = sim.now;
    let convergenceMs = Number.POSITIVE_INFINITY;
    let difference: string | undefined = 'not checked yet';
    while (sim.now - stoppedAtMs <= settings.convergenceMsMax) {
      sim.runFor(multiLeaderTickMs);
      difference = this.difference();
      if (difference === undefined) {
        convergenceMs = sim.now - stoppedAtMs;
        break;
      }
    }
    if (difference !== undefined) this.fail(`convergence: peers still differ ${settings.convergenceMsMax} ms after the clients stopped: ${difference}`);
    if (this.counts.writesAfterHealing === 0) this.fail('liveness: no write was acknowledged after the network healed');
    const finalStates = new Map(this.peers.map((address) => [address, (key: string) => this.peer(address).read(key).state]));
    for (const lost of lostAcknowledgedWrites(finalStates, this.acknowledgedPuts, this.acknowledgedAppends, this.durablePuts)) this.fail(`lost: ${lost}`);
    return this.report(convergenceMs);
  }

  private makePeer(address: string, rng: Rng): SimulatedMultiLeaderPeer {
    const disk = this.disks.get(address)!;
    // A restart follows a crash: transactions not yet synced may be lost.
    if (this.started.has(address)) disk.crash(rng);
    this.started.add(address);
    const skewMs = this.skewsMs.get(address)!;
    return new SimulatedMultiLeaderPeer({
      address, peers: this.peers, disk, settings: this.settings.core, fsyncTicks: this.settings.fsyncTicks,
      wallClockMs: () => 1_000_000 + this.sim.now + skewMs, mutation: this.settings.mutation, makeNode: this.hooks.makeNode,
      accepted: (seq, write) => {
        if (write.kind === 'put') this.acceptedContexts.set(`${address}:${seq}`, write.context);
      },
    }, rng);
  }

  private peer(address: string): SimulatedMultiLeaderPeer {
    return this.sim.invoke(address, (peer) => peer as SimulatedMultiLeaderPeer)!;
  }

  /**
   * A put on disk for good. Its dot is the origin's counter in its delta's clock. What it had
   * seen is its client's context, except for a blind put or on a last-writer-wins key, where a
   * write supersedes all its peer held: there the delta's clock is the only record of that.
   */
  private recordDurable(entry: ChangeEntry): void {
    if (entry.change.kind !== 'put') return;
    const delta = entry.change.delta;
    const dot = { node: entry.origin, counter: delta.clock[entry.origin] };
    const id = `${entry.origin}:${entry.seq}`;
    assert(this.acceptedContexts.has(id), `change ${id} reached the disk but was never accepted`);
    const context = this.acceptedContexts.get(id);
    this.durablePuts.push({ key: entry.key, dot, seen: delta.lastWriterWins === true || context === undefined ? delta.clock : context });
  }

  /** Why the peers are not yet converged, or undefined when they are. */
  private difference(): string | undefined {
    const states = new Map<string, { keys: Map<string, string>; applied: string }>();
    for (const address of this.peers) {
      if (!this.sim.isUp(address)) return `${address} is down`;
      const peer = this.peer(address);
      const status = peer.node.status();
      if (status.logEntries > 0) return `${address} still keeps ${status.logEntries} unacknowledged changes`;
      const keys = new Map<string, string>();
      for (const key of this.allKeys()) {
        const state = peer.read(key).state;
        if (state !== undefined) keys.set(key, JSON.stringify(state));
      }
      states.set(address, { keys, applied: JSON.stringify(Object.entries(peer.node.appliedVector()).sort()) });
    }
    return divergence(states);
  }

  private allKeys(): string[] {
    const keys = new Set<string>();
    for (const put of this.durablePuts) keys.add(put.key);
    for (const append of this.acknowledgedAppends) keys.add(append.key);
    for (let index = 0; index < this.settings.conversations; index++) keys.add(`conversation${index}`);
    return [...keys];
  }

  private fail(message: string): void {
    if (this.failures.length < 20) this.failures.push(`${message} (at ${this.sim.now} ms)`);
  }

  // ---- faults --------------------------------------------------------------------------------

  private exponential(meanMs: number): number {
    return Math.max(1, Math.round(-meanMs * Math.log(1 - this.rng.nextFloat())));
  }

  /** Splits the peers in two; each side's failure detector notices the other side's peers as down, or not, at random. */
  private schedulePartitions(): void {
    const next = () => this.sim.after(this.exponential(this.settings.partitionMeanGapMs), () => {
      if (!this.faultsActive) return;
      const shuffled = this.rng.shuffle([...this.peers]);
      const cut = 1 + this.rng.nextInt(shuffled.length - 1);
      const sides = [shuffled.slice(0, cut), shuffled.slice(cut)];
      this.sim.partition(sides);
      this.partitions++;
      for (const [side, other] of [[sides[0], sides[1]], [sides[1], sides[0]]]) {
        for (const address of side) {
          if (this.rng.nextFloat() < 0.5) this.sim.invoke(address, (peer) => other.forEach((down) => (peer as SimulatedMultiLeaderPeer).markDown(down)));
        }
      }
      this.sim.after(50 + this.rng.nextInt(this.settings.partitionDurationMsMax), () => {
        if (this.faultsActive) this.sim.heal();
        next();
      });
    });
    next();
  }

  private scheduleCrashes(): void {
    const next = () => this.sim.after(this.exponential(this.settings.crashMeanGapMs), () => {
      if (!this.faultsActive) return;
      const up = this.peers.filter((address) => this.sim.isUp(address));
      if (up.length > 0) {
        const victim = up[this.rng.nextInt(up.length)];
        this.sim.crash(victim);
        this.crashes++;
        this.sim.after(20 + this.rng.nextInt(this.settings.downtimeMsMax), () => this.sim.restart(victim));
      }
      next();
    });
    next();
  }

  // ---- verdict -------------------------------------------------------------------------------

  private report(convergenceMs: number): MultiLeaderRunReport {
    let lostUnsyncedTransactions = 0;
    for (const disk of this.disks.values()) lostUnsyncedTransactions += disk.lostTransactions;
    return {
      seed: this.seed,
      settings: this.settings,
      failures: this.failures,
      writes: this.counts.writes,
      acknowledgedPuts: this.acknowledgedPuts.length,
      acknowledgedAppends: this.acknowledgedAppends.length,
      refusals: this.counts.refusals,
      samePeerReads: this.counts.samePeerReads,
      sessionReads: this.counts.sessionReads,
      sessionReadsTimedOut: this.counts.sessionReadsTimedOut,
      writesAfterHealing: this.counts.writesAfterHealing,
      convergenceMs,
      crashes: this.crashes,
      partitions: this.partitions,
      lostUnsyncedTransactions,
      simulatedMs: this.sim.now,
      events: this.sim.stats.events,
      messagesSent: this.sim.stats.messagesSent,
      traceHash: this.sim.traceHash(),
    };
  }
}
