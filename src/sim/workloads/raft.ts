/**
 * The Raft workload: a cluster of production `RaftNode`s on simulated disks and a simulated
 * network, clients doing reads, writes and compare-and-set on a few keys, and faults
 * (partitions that also cut clients off, crashes that lose unsynced writes and tear the last
 * one, membership changes). A safety phase under faults, then a liveness phase in which the
 * healed cluster must take writes again. Checked at the end:
 *
 * - Election Safety: at most one leader per term (Raft §5.2);
 * - State Machine Safety: every peer applies the same entry at each index (§5.4.3);
 * - linearizability of the client history (WGL search), and no acknowledged write lost,
 *   required for acks `quorum` and `all`; for `leader` both are measured and reported;
 * - liveness: writes succeed after healing.
 */
import { Rng } from '../../core/rng.js';
import { bootstrapStoredState, emptyStoredState, type AckLevel, type AppliedCommand, type Entry } from '../../replication/leader/index.js';
import { checkLinearizability, type HistoryOperation } from '../checkers/linearizability.js';
import { checkWeakReads } from '../checkers/session.js';
import { SimulatedClient, type WeakReadRecord } from '../raft/client.js';
import { SimulatedDisk } from '../raft/disk.js';
import type { SimulatedRaftMessage } from '../raft/messages.js';
import { SimulatedRaftServer, type ServerObserver } from '../raft/server.js';
import { Simulation } from '../simulation.js';
import { randomRaftRunSettings, raftTickMs, type RaftRunSettings } from './raft-settings.js';

export interface RaftRunReport {
  seed: number;
  acks: AckLevel;
  settings: RaftRunSettings;
  /** Broken promises; empty when the run passed. */
  failures: string[];
  operations: number;
  completedOperations: number;
  acknowledgedWrites: number;
  /** Acknowledged writes that never made it into the committed log. */
  lostAcknowledgedWrites: number;
  linearizable: boolean;
  /** Session and stale reads served, and how many broke their promise (expected only with acks=leader). */
  weakReads: number;
  weakReadViolations: number;
  /** Writes acknowledged that were called after the cluster healed and settled. */
  writesAfterHealing: number;
  tornEntriesFound: number;
  snapshotsInstalled: number;
  crashes: number;
  partitions: number;
  membershipChanges: number;
  leadershipTransfers: number;
  leaderElections: number;
  simulatedMs: number;
  events: number;
  traceHash: string;
}

export function runRaftWorkload(seed: number, acks: AckLevel, overrides: Partial<RaftRunSettings> = {}): RaftRunReport {
  // The settings come from their own stream of the seed, so that the simulation can be built with them.
  const settings = { ...randomRaftRunSettings(new Rng(seed).fork(), acks), ...overrides };
  const sim = new Simulation<SimulatedRaftMessage>({ seed, tickMs: raftTickMs, network: settings.network });
  return new RaftRun(sim, sim.forkRng(), seed, settings).run();
}

class RaftRun implements ServerObserver {
  private readonly sim: Simulation<SimulatedRaftMessage>;
  private readonly rng: Rng;
  private readonly seed: number;
  private readonly settings: RaftRunSettings;
  private readonly servers: string[] = [];
  private readonly clients: string[] = [];
  private readonly disks = new Map<string, SimulatedDisk>();
  private readonly started = new Set<string>();
  private readonly history: HistoryOperation[] = [];
  private readonly weakReads: WeakReadRecord[] = [];
  private readonly clock = { now: 0 };
  private readonly failures: string[] = [];
  private readonly appliedHashes = new Map<number, string>();
  private readonly leaders = new Map<number, string>();
  /** Each committed write's value and the index it committed at. */
  private readonly committedValues = new Map<string, number>();
  private readonly acknowledgedValues: string[] = [];
  private readonly clientPeers: SimulatedClient[] = [];
  private clientsActive = true;
  private faultsActive = true;
  private tornEntriesFound = 0;
  private snapshotsInstalled = 0;
  private crashes = 0;
  private partitions = 0;
  private membershipChanges = 0;
  private transfers = 0;

  constructor(sim: Simulation<SimulatedRaftMessage>, rng: Rng, seed: number, settings: RaftRunSettings) {
    this.sim = sim;
    this.rng = rng;
    this.seed = seed;
    this.settings = settings;
  }

  run(): RaftRunReport {
    try {
      return this.runPhases();
    } catch (error) {
      // A broken assertion inside a core or shell is a failure of this seed, reported with it like any other.
      this.fail(`crashed: ${error instanceof Error ? error.message : String(error)}`);
      return this.report(Number.POSITIVE_INFINITY, false);
    }
  }

  private runPhases(): RaftRunReport {
    const { settings, sim } = this;
    for (let index = 1; index <= settings.voters + (settings.sparePeer ? 1 : 0); index++) this.servers.push(`s${index}`);
    const founders = this.servers.slice(0, settings.voters);
    for (const address of this.servers) {
      const initial = founders.includes(address) ? bootstrapStoredState(founders) : emptyStoredState();
      this.disks.set(address, new SimulatedDisk(initial, settings.tearProbability));
      sim.addPeer(address, (peerAddress, peerRng) => this.makeServer(peerAddress, peerRng));
    }
    for (let index = 0; index < settings.clients; index++) {
      const address = `c${index}`;
      this.clients.push(address);
      sim.addPeer(address, (clientAddress, clientRng) => {
        const client = new SimulatedClient({
          address: clientAddress, clientNumber: index, servers: this.servers, keys: Array.from({ length: settings.keys }, (_, key) => `k${key}`),
          acks: settings.acks, requestTimeoutTicks: 3 * (settings.raft.electionTicks ?? 10), thinkTicksMax: 5,
          clock: this.clock, history: this.history, weakReads: this.weakReads, onAcknowledgedWrite: (value) => this.acknowledgedValues.push(value), active: () => this.clientsActive,
        }, clientRng);
        this.clientPeers.push(client);
        return client;
      });
    }
    this.schedulePartitions();
    this.scheduleCrashes();
    if (settings.sparePeer) this.scheduleMembershipChanges();
    this.scheduleLeadershipTransfers();
    sim.runUntil(settings.safetyMs);
    // Liveness phase: heal everything, restart everyone, and expect writes to succeed again.
    this.faultsActive = false;
    sim.heal();
    for (const address of this.servers) if (!sim.isUp(address)) sim.restart(address);
    const settleMs = 40 * raftTickMs * (settings.raft.electionTicks ?? 10) / 10 + 500;
    sim.runFor(settleMs);
    const healedAt = this.clock.now;
    sim.runFor(settings.livenessMs);
    this.clientsActive = false;
    sim.runFor(100 * raftTickMs);
    return this.report(healedAt, true);
  }

  private makeServer(address: string, rng: Rng): SimulatedRaftServer {
    const disk = this.disks.get(address)!;
    // A restart follows a crash: what was not synced is lost, and the last write may be torn.
    if (this.started.has(address)) disk.crash(rng);
    this.started.add(address);
    return new SimulatedRaftServer({
      address, disk, settings: this.settings.raft, observer: this, fsyncTicks: this.settings.fsyncTicks, snapshotEveryEntries: this.settings.snapshotEveryEntries,
      readMode: this.settings.readMode,
    }, rng);
  }

  // ---- observer ------------------------------------------------------------------------------

  applied(peer: string, entry: Entry, command: AppliedCommand | undefined): void {
    const known = this.appliedHashes.get(entry.index);
    if (known === undefined) this.appliedHashes.set(entry.index, entry.hash);
    else if (known !== entry.hash) this.fail(`State Machine Safety: ${peer} applied a different entry at index ${entry.index}`);
    if (command === undefined || command.duplicate) return;
    if (command.command.op === 'put') this.committedValues.set(command.command.value, entry.index);
    if (command.command.op === 'cas' && command.result?.op === 'cas' && command.result.succeeded && command.command.value !== null) this.committedValues.set(command.command.value, entry.index);
  }

  leaderElected(peer: string, term: number): void {
    const known = this.leaders.get(term);
    if (known !== undefined && known !== peer) this.fail(`Election Safety: ${known} and ${peer} both led term ${term}`);
    this.leaders.set(term, peer);
  }

  tornEntryFound(): void {
    this.tornEntriesFound++;
  }

  snapshotInstalled(): void {
    this.snapshotsInstalled++;
  }

  private fail(message: string): void {
    if (this.failures.length < 20) this.failures.push(`${message} (at ${this.sim.now} ms)`);
  }

  // ---- faults --------------------------------------------------------------------------------

  private exponential(meanMs: number): number {
    return Math.max(1, Math.round(-meanMs * Math.log(1 - this.rng.nextFloat())));
  }

  /**
   * Partitions split servers and clients alike into two sides. Half of them are aimed: the
   * current leader is cut off with a few clients, the case where a deposed leader that still
   * believes it leads could serve stale reads or acknowledge writes it cannot commit.
   */
  private schedulePartitions(): void {
    const next = () => this.sim.after(this.exponential(this.settings.partitionMeanGapMs), () => {
      if (!this.faultsActive) return;
      const leader = this.rng.nextFloat() < 0.5 ? this.currentLeader() : undefined;
      let sides: [string[], string[]];
      if (leader !== undefined) {
        const clients = this.rng.shuffle([...this.clients]);
        const withLeader = 1 + this.rng.nextInt(clients.length);
        sides = [[leader, ...clients.slice(0, withLeader)], [...this.servers.filter((server) => server !== leader), ...clients.slice(withLeader)]];
      } else {
        const everyone = this.rng.shuffle([...this.servers, ...this.clients]);
        const cut = 1 + this.rng.nextInt(everyone.length - 1);
        sides = [everyone.slice(0, cut), everyone.slice(cut)];
      }
      this.sim.partition(sides);
      this.partitions++;
      this.sim.after(50 + this.rng.nextInt(this.settings.partitionDurationMsMax), () => {
        if (this.faultsActive) this.sim.heal();
        next();
      });
    });
    next();
  }

  /** The peer that believes it leads in the highest term, if any is up. */
  private currentLeader(): string | undefined {
    let leader: string | undefined;
    let term = -1;
    for (const address of this.servers) {
      const status = this.sim.invoke(address, (peer) => (peer as SimulatedRaftServer).node);
      if (status !== undefined && status.role === 'leader' && status.term > term) {
        leader = address;
        term = status.term;
      }
    }
    return leader;
  }

  private scheduleCrashes(): void {
    const next = () => this.sim.after(this.exponential(this.settings.crashMeanGapMs), () => {
      if (!this.faultsActive) return;
      const up = this.servers.filter((address) => this.sim.isUp(address));
      if (up.length > 0) {
        const victim = up[this.rng.nextInt(up.length)];
        this.sim.crash(victim);
        this.crashes++;
        this.sim.after(20 + this.rng.nextInt(500), () => this.sim.restart(victim));
      }
      next();
    });
    next();
  }

  /** One server at a time: add the spare as a learner, promote it, later remove a voter (which becomes the new spare). */
  private scheduleMembershipChanges(): void {
    const next = () => this.sim.after(this.exponential(this.settings.membershipMeanGapMs), () => {
      if (!this.faultsActive) return;
      for (const address of this.servers) {
        const done = this.sim.invoke(address, (peer) => {
          const server = peer as SimulatedRaftServer;
          if (server.node.role !== 'leader') return false;
          const membership = server.node.membership;
          const outsider = this.servers.find((candidate) => !membership.voters.includes(candidate) && !membership.learners.includes(candidate));
          const learner = membership.learners[0];
          try {
            if (learner !== undefined) server.node.proposeMembershipChange({ kind: 'addVoter', peer: learner });
            else if (membership.voters.length > this.settings.voters) server.node.proposeMembershipChange({ kind: 'removePeer', peer: membership.voters[this.rng.nextInt(membership.voters.length)] });
            else if (outsider !== undefined) server.node.proposeMembershipChange({ kind: 'addLearner', peer: outsider });
            this.membershipChanges++;
          } catch {
            // Refused (a change is still uncommitted): try again at the next event.
          }
          return true;
        });
        if (done === true) break;
      }
      next();
    });
    next();
  }

  /** Now and then the leader hands leadership to a random voter (dissertation §3.10), as an operator draining a peer would. */
  private scheduleLeadershipTransfers(): void {
    const next = () => this.sim.after(this.exponential(2 * this.settings.membershipMeanGapMs), () => {
      if (!this.faultsActive) return;
      for (const address of this.servers) {
        const done = this.sim.invoke(address, (peer) => {
          const node = (peer as SimulatedRaftServer).node;
          if (node.role !== 'leader') return false;
          const targets = node.membership.voters.filter((voter) => voter !== address);
          if (targets.length === 0) return true;
          node.transferLeadership(targets[this.rng.nextInt(targets.length)]);
          this.transfers++;
          return true;
        });
        if (done === true) break;
      }
      next();
    });
    next();
  }

  // ---- verdict -------------------------------------------------------------------------------

  private report(healedAt: number, completed: boolean): RaftRunReport {
    // A run cut short by a crash is already failed; its partial history is not worth a search.
    const linearizability = completed ? checkLinearizability(this.history) : { ok: false, violations: [], undecided: [], steps: 0 };
    const lost = this.acknowledgedValues.filter((value) => !this.committedValues.has(value)).length;
    const weakReadViolations = checkWeakReads(this.weakReads, (value) => this.committedValues.get(value));
    const writesAfterHealing = this.history.filter((operation) => operation.kind !== 'read' && operation.output !== undefined && operation.callAt >= healedAt).length;
    if (this.settings.acks !== 'leader') {
      for (const violation of linearizability.violations) this.fail(`not linearizable: key ${violation.key}: ${violation.detail}`);
      if (lost > 0) this.fail(`${lost} acknowledged writes lost with acks=${this.settings.acks}`);
      for (const violation of weakReadViolations.slice(0, 3)) this.fail(`session guarantee broken: ${violation}`);
    }
    if (this.settings.acks !== 'leader') for (const key of linearizability.undecided) this.fail(`linearizability search gave up on key ${key} (raise searchStepsMax or shorten the run)`);
    if (completed && writesAfterHealing === 0) this.fail('liveness: no write succeeded after the cluster healed');
    return {
      seed: this.seed,
      acks: this.settings.acks,
      settings: this.settings,
      failures: this.failures,
      operations: this.history.length,
      completedOperations: this.history.filter((operation) => operation.output !== undefined).length,
      acknowledgedWrites: this.acknowledgedValues.length,
      lostAcknowledgedWrites: lost,
      linearizable: linearizability.violations.length === 0,
      weakReads: this.weakReads.length,
      weakReadViolations: weakReadViolations.length,
      writesAfterHealing,
      tornEntriesFound: this.tornEntriesFound,
      snapshotsInstalled: this.snapshotsInstalled,
      crashes: this.crashes,
      partitions: this.partitions,
      membershipChanges: this.membershipChanges,
      leadershipTransfers: this.transfers,
      leaderElections: this.leaders.size,
      simulatedMs: this.sim.now,
      events: this.sim.stats.events,
      traceHash: this.sim.traceHash(),
    };
  }
}
