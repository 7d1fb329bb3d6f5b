/**
 * The leaderless workload: five production `LeaderlessNode`s on simulated disks and a
 * simulated network, clients doing gets and puts (with the contexts of their last reads) on a
 * few keys, and faults: partitions that also cut clients off, crashes that lose unsynced
 * transactions, restarts from disk, message loss, duplication and reordering; in some runs a
 * sixth peer joins the ring midway. A safety phase under faults, then a liveness phase: the
 * network heals, every peer restarts, clients stop, and hinted handoff, read repair and
 * anti-entropy must make the replicas converge within a bound. The checkers (checkers.ts) then judge the history and the final states.
 */
import { Rng } from '../../core/rng.js';
import type { RegisterState } from '../../replication/versions/index.js';
import { Simulation } from '../simulation.js';
import { checkNoAcknowledgedWriteLost, checkReadYourWrites, divergentKeys } from './checkers.js';
import { SimulatedLeaderlessClient, type LeaderlessHistory } from './client.js';
import { SimulatedLeaderlessDisk } from './disk.js';
import { describeSimulatedLeaderlessMessage, type SimulatedLeaderlessMessage } from './messages.js';
import { SimulatedLeaderlessServer } from './server.js';
import { leaderlessTickMs, randomLeaderlessRunSettings, type LeaderlessRunSettings } from './settings.js';

export interface LeaderlessRunReport {
  seed: number;
  settings: LeaderlessRunSettings;
  /** Broken promises; empty when the run passed. */
  failures: string[];
  puts: number;
  acknowledgedPuts: number;
  gets: number;
  failedRequests: number;
  timedOutRequests: number;
  lostAcknowledgedWrites: number;
  /** Simulated milliseconds from healing until every replica of every key held the same state; undefined if not within the bound. */
  convergenceMs: number | undefined;
  readYourWrites: { guaranteed: boolean; checked: number; violations: number };
  readRepairs: number;
  antiEntropyExchanges: number;
  crashes: number;
  partitions: number;
  lostTransactions: number;
  /** Hint writes persisted by stand-ins (sloppy quorum at work). */
  hintsWritten: number;
  /** A sixth peer joined the ring during the run. */
  membershipChanged: boolean;
  simulatedMs: number;
  events: number;
  traceHash: string;
}

export interface LeaderlessWorkloadOptions extends Partial<LeaderlessRunSettings> {
  /** Where the seed and run notes go (nothing is printed without it). */
  log?: (line: string) => void;
}

export function runLeaderlessWorkload(seed: number, options: LeaderlessWorkloadOptions = {}): LeaderlessRunReport {
  const { log, ...overrides } = options;
  // The settings come from their own stream of the seed, so that the simulation can be built with them.
  const settings: LeaderlessRunSettings = { ...randomLeaderlessRunSettings(new Rng(seed).fork()), ...overrides };
  if (settings.noRepair) {
    const never = 1_000_000_000;
    settings.store = { ...settings.store, readRepair: false, handoffIntervalTicks: never, antiEntropy: { ...settings.store.antiEntropy, exchangeIntervalTicks: never } };
  }
  const sim = new Simulation<SimulatedLeaderlessMessage>({ seed, tickMs: leaderlessTickMs, network: settings.network, log, describe: describeSimulatedLeaderlessMessage });
  return new LeaderlessRun(sim, seed, settings).run();
}

class LeaderlessRun {
  private readonly rng: Rng;
  private readonly servers: string[] = [];
  private readonly clients: string[] = [];
  private readonly keys: string[] = [];
  private readonly disks = new Map<string, SimulatedLeaderlessDisk>();
  private readonly started = new Set<string>();
  private readonly history: LeaderlessHistory = { puts: [], gets: [], failedRequests: 0, timedOutRequests: 0 };
  private readonly failures: string[] = [];
  private clientsActive = true;
  private faultsActive = true;
  private crashes = 0;
  private partitions = 0;
  private joined = false;

  constructor(private readonly sim: Simulation<SimulatedLeaderlessMessage>, private readonly seed: number, private readonly settings: LeaderlessRunSettings) {
    this.rng = sim.forkRng();
  }

  run(): LeaderlessRunReport {
    try {
      return this.runPhases();
    } catch (error) {
      // A broken assertion inside a core or shell is a failure of this seed, reported with it like any other.
      this.fail(`crashed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      return this.report(undefined);
    }
  }

  private runPhases(): LeaderlessRunReport {
    const { settings, sim } = this;
    for (let index = 1; index <= settings.servers; index++) this.servers.push(`s${index}`);
    for (let index = 0; index < settings.keys; index++) this.keys.push(`k${index}`);
    const lastWriterWinsKeys = new Set(this.keys.slice(0, settings.lastWriterWinsKeys));
    for (const address of this.servers) {
      this.disks.set(address, new SimulatedLeaderlessDisk());
      sim.addPeer(address, (peerAddress, peerRng) => this.makeServer(peerAddress, peerRng));
    }
    for (let index = 0; index < settings.clients; index++) {
      const address = `c${index}`;
      this.clients.push(address);
      sim.addPeer(address, (clientAddress, clientRng) => new SimulatedLeaderlessClient({
        address: clientAddress, servers: this.servers, keys: this.keys, lastWriterWinsKeys, giveUpTicks: (settings.store.requestTimeoutTicks ?? 40) + 10,
        thinkTicksMax: 3, history: this.history, nowMs: () => sim.now, active: () => this.clientsActive,
      }, clientRng));
    }
    this.schedulePartitions();
    this.scheduleCrashes();
    if (settings.joinAtMs !== undefined) sim.at(settings.joinAtMs, () => this.join());
    sim.runUntil(settings.safetyMs);
    // Liveness phase: clients stop, the network heals, every peer is back; the background repair must converge the replicas.
    this.faultsActive = false;
    this.clientsActive = false;
    sim.heal();
    for (const address of this.servers) if (!sim.isUp(address)) sim.restart(address);
    const healedAt = sim.now;
    let convergenceMs: number | undefined;
    while (sim.now - healedAt < settings.convergenceBoundMs) {
      sim.runFor(settings.convergenceCheckMs);
      if (this.converged()) {
        convergenceMs = sim.now - healedAt;
        break;
      }
    }
    if (convergenceMs === undefined) {
      const divergent = divergentKeys(this.keys, (key) => this.preferenceList(key), (replica, key) => this.finalState(replica, key));
      this.fail(`no convergence within ${settings.convergenceBoundMs} ms of healing: ${divergent.length} keys differ between replicas (${divergent.slice(0, 5).join(', ')}), ${this.hintsHeld()} hints undelivered`);
    }
    return this.report(convergenceMs);
  }

  private makeServer(address: string, rng: Rng): SimulatedLeaderlessServer {
    const disk = this.disks.get(address)!;
    // A restart follows a crash: what was not synced may be lost.
    if (this.started.has(address)) disk.crash(rng);
    this.started.add(address);
    return new SimulatedLeaderlessServer({
      address, servers: [...this.servers], disk, settings: this.settings.store, fsyncTicks: this.settings.fsyncTicks,
      pingIntervalTicks: this.settings.pingIntervalTicks, suspectTicks: this.settings.suspectTicks, nowMs: () => this.sim.now,
      ackBeforePersist: this.settings.ackBeforePersist,
    }, rng);
  }

  /** A new peer joins: it starts empty, every running peer learns the new membership now, peers that are down when they restart. */
  private join(): void {
    const address = `s${this.servers.length + 1}`;
    this.servers.push(address);
    this.disks.set(address, new SimulatedLeaderlessDisk());
    this.sim.addPeer(address, (peerAddress, peerRng) => this.makeServer(peerAddress, peerRng));
    for (const other of this.servers.slice(0, -1)) this.sim.invoke(other, (peer) => (peer as SimulatedLeaderlessServer).setServers([...this.servers]));
    this.joined = true;
  }

  private server<Result>(address: string, use: (server: SimulatedLeaderlessServer) => Result): Result {
    // Wrapped, because invoke's undefined means "the peer is down" and a missing key's state is undefined too.
    const result = this.sim.invoke(address, (peer) => ({ value: use(peer as SimulatedLeaderlessServer) }));
    if (result === undefined) throw new Error(`server ${address} is down when the workload needs it`);
    return result.value;
  }

  private preferenceList(key: string): string[] {
    return this.server(this.servers[0], (server) => server.node.preferenceList(key));
  }

  private finalState(replica: string, key: string): RegisterState | undefined {
    return this.server(replica, (server) => server.node.localState(key));
  }

  private hintsHeld(): number {
    return this.servers.reduce((total, address) => total + this.server(address, (server) => server.node.status().hintsHeld), 0);
  }

  private converged(): boolean {
    return this.hintsHeld() === 0 && divergentKeys(this.keys, (key) => this.preferenceList(key), (replica, key) => this.finalState(replica, key)).length === 0;
  }

  private fail(message: string): void {
    if (this.failures.length < 20) this.failures.push(`${message} (at ${this.sim.now} ms)`);
  }

  // ---- faults --------------------------------------------------------------------------------

  private exponential(meanMs: number): number {
    return Math.max(1, Math.round(-meanMs * Math.log(1 - this.rng.nextFloat())));
  }

  /** Partitions split servers and clients alike into two random sides. */
  private schedulePartitions(): void {
    const next = () => this.sim.after(this.exponential(this.settings.partitionMeanGapMs), () => {
      if (!this.faultsActive) return;
      const everyone = this.rng.shuffle([...this.servers, ...this.clients]);
      const cut = 1 + this.rng.nextInt(everyone.length - 1);
      this.sim.partition([everyone.slice(0, cut), everyone.slice(cut)]);
      this.partitions++;
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
      const up = this.servers.filter((address) => this.sim.isUp(address));
      if (up.length > 0) {
        const victim = up[this.rng.nextInt(up.length)];
        this.sim.crash(victim);
        this.crashes++;
        this.sim.after(20 + this.rng.nextInt(this.settings.downtimeMsMax), () => {
          if (this.faultsActive) this.sim.restart(victim);
        });
      }
      next();
    });
    next();
  }

  // ---- verdict -------------------------------------------------------------------------------

  private report(convergenceMs: number | undefined): LeaderlessRunReport {
    const { store } = this.settings;
    const completed = this.failures.every((failure) => !failure.startsWith('crashed'));
    let lost: string[] = [];
    let readYourWrites = { checked: 0, violations: [] as string[] };
    let readRepairs = 0;
    let antiEntropyExchanges = 0;
    if (completed) {
      lost = checkNoAcknowledgedWriteLost(this.history.puts, (key) => this.preferenceList(key), (replica, key) => this.finalState(replica, key));
      for (const failure of lost.slice(0, 5)) this.fail(failure);
      readYourWrites = checkReadYourWrites(this.history.puts, this.history.gets);
      for (const address of this.servers) {
        const status = this.server(address, (server) => server.node.status());
        readRepairs += status.readRepairs;
        antiEntropyExchanges += status.antiEntropy.exchangesCompleted;
      }
    }
    // A membership change moves keys to a peer that starts empty: Dynamo promises nothing about reads during it.
    const guaranteed = !store.sloppyQuorum && store.r + store.w > store.n && !this.joined;
    if (guaranteed) for (const violation of readYourWrites.violations.slice(0, 3)) this.fail(`read-your-writes broken (strict quorum, r=${store.r} w=${store.w} n=${store.n}): ${violation}`);
    return {
      seed: this.seed,
      settings: this.settings,
      failures: this.failures,
      puts: this.history.puts.length,
      acknowledgedPuts: this.history.puts.filter((put) => put.dot !== undefined).length,
      gets: this.history.gets.length,
      failedRequests: this.history.failedRequests,
      timedOutRequests: this.history.timedOutRequests,
      lostAcknowledgedWrites: lost.length,
      convergenceMs,
      readYourWrites: { guaranteed, checked: readYourWrites.checked, violations: readYourWrites.violations.length },
      readRepairs,
      antiEntropyExchanges,
      crashes: this.crashes,
      partitions: this.partitions,
      lostTransactions: [...this.disks.values()].reduce((total, disk) => total + disk.lostTransactions, 0),
      hintsWritten: [...this.disks.values()].reduce((total, disk) => total + disk.hintsWritten, 0),
      membershipChanged: this.joined,
      simulatedMs: this.sim.now,
      events: this.sim.stats.events,
      traceHash: this.sim.traceHash(),
    };
  }
}
