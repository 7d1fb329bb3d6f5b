/**
 * An in-memory cluster for the scripted and unit tests: every peer's Ready is persisted to a
 * memory store, its messages go to one mailbox, and the test decides when they are delivered,
 * to whom (partitions), and whether peers crash. Output lines describe what happened, for the
 * golden files in testdata/.
 */
import { Rng } from '../../../src/core/rng.js';
import {
  bootstrapStoredState, describeMessage, emptyStoredState, KvStateMachine, RaftNode, type Entry, type HardState, type RaftMessage,
  type RaftSettings, type Ready, type Snapshot, type StoredState,
} from '../../../src/replication/leader/index.js';

export interface HarnessPeer {
  node: RaftNode;
  kv: KvStateMachine;
  store: { hardState: HardState; snapshot: Snapshot; entries: Entry[] };
  up: boolean;
}

export class Harness {
  readonly peers = new Map<string, HarnessPeer>();
  mailbox: RaftMessage[] = [];
  readonly output: string[] = [];
  /** Groups that can reach each other; empty = no partition. */
  private groups: string[][] = [];
  readonly acknowledged: string[] = [];
  readonly readResults: string[] = [];
  private seed: number;
  private readonly settings: Partial<RaftSettings>;

  constructor(ids: readonly string[], settings: Partial<RaftSettings> = {}, seed = 1) {
    this.settings = settings;
    this.seed = seed;
    for (const id of ids) this.addPeer(id, bootstrapStoredState(ids));
  }

  addPeer(id: string, stored: StoredState = emptyStoredState()): void {
    const store = { hardState: stored.hardState, snapshot: stored.snapshot, entries: [...stored.entries] };
    const kv = new KvStateMachine();
    kv.restore(store.snapshot.data);
    this.peers.set(id, { node: new RaftNode({ id, rng: new Rng(this.seed++), stored: store, settings: this.settings }), kv, store, up: true });
  }

  peer(id: string): HarnessPeer {
    const peer = this.peers.get(id);
    if (peer === undefined) throw new Error(`no peer ${id}`);
    return peer;
  }

  /** Handles every pending Ready of `id` once; returns whether there was one. */
  processReady(id: string): boolean {
    const peer = this.peer(id);
    if (!peer.up || !peer.node.hasReady()) return false;
    const ready = peer.node.ready();
    this.persist(peer, ready);
    this.describeReady(id, ready);
    this.mailbox.push(...ready.messages);
    if (ready.snapshot?.fromLeader === true) peer.kv.restore(ready.snapshot.snapshot.data);
    for (const entry of ready.committedEntries) if (entry.index > peer.kv.appliedIndex) peer.kv.apply(entry);
    for (const read of ready.readStates) this.readResults.push(`${id} read ${read.requestId} at ${read.index}`);
    for (const ack of ready.acknowledged) this.acknowledged.push(`${id} ack ${ack.proposalId} at ${ack.index}`);
    peer.node.advance();
    return true;
  }

  private persist(peer: HarnessPeer, ready: Ready): void {
    if (ready.snapshot !== undefined) {
      const meta = ready.snapshot.snapshot.meta;
      peer.store.snapshot = ready.snapshot.snapshot;
      peer.store.entries = ready.snapshot.fromLeader ? [] : peer.store.entries.filter((entry) => entry.index > meta.index);
    }
    if (ready.entries.length > 0) {
      const first = ready.entries[0].index;
      peer.store.entries = peer.store.entries.filter((entry) => entry.index < first).concat(ready.entries);
    }
    if (ready.hardState !== undefined) peer.store.hardState = ready.hardState;
  }

  private describeReady(id: string, ready: Ready): void {
    const lines: string[] = [];
    if (ready.softState !== undefined) lines.push(`  role=${ready.softState.role} term=${ready.softState.term} leader=${ready.softState.leader ?? '-'}`);
    if (ready.hardState !== undefined) lines.push(`  hardState term=${ready.hardState.term} vote=${ready.hardState.vote ?? '-'} commit=${ready.hardState.commit}`);
    if (ready.snapshot !== undefined) lines.push(`  snapshot ${ready.snapshot.snapshot.meta.index}@${ready.snapshot.snapshot.meta.term}${ready.snapshot.fromLeader ? ' from leader' : ' local'}`);
    if (ready.entries.length > 0) lines.push(`  entries ${ready.entries.map((entry) => `${entry.index}@${entry.term}`).join(' ')}`);
    if (ready.committedEntries.length > 0) lines.push(`  apply ${ready.committedEntries.map((entry) => `${entry.index}@${entry.term}`).join(' ')}`);
    for (const message of ready.messages) lines.push(`  send ${describeMessage(message)}`);
    for (const read of ready.readStates) lines.push(`  readState ${read.requestId} index=${read.index}`);
    for (const ack of ready.acknowledged) lines.push(`  acknowledged ${ack.proposalId} index=${ack.index}`);
    for (const abandoned of ready.abandoned) lines.push(`  abandoned ${abandoned.proposalId} index=${abandoned.index}`);
    if (lines.length > 0) this.output.push(`> ${id} ready`, ...lines);
  }

  canReach(from: string, to: string): boolean {
    if (this.groups.length === 0) return true;
    const group = (id: string) => this.groups.findIndex((members) => members.includes(id));
    return group(from) === group(to);
  }

  /** Delivers the messages now in the mailbox (optionally only those to `to`); returns how many. */
  deliver(to?: string): number {
    const now = this.mailbox.filter((message) => to === undefined || message.to === to);
    this.mailbox = this.mailbox.filter((message) => !(to === undefined || message.to === to));
    let delivered = 0;
    for (const message of now) {
      const peer = this.peers.get(message.to);
      if (peer === undefined || !peer.up || !this.canReach(message.from, message.to)) {
        this.output.push(`  dropped ${describeMessage(message)}`);
        continue;
      }
      peer.node.step(message);
      delivered++;
    }
    return delivered;
  }

  /** Processes Readies and delivers messages until nothing moves. */
  stabilize(roundsMax = 100): void {
    for (let round = 0; round < roundsMax; round++) {
      let moved = false;
      for (const id of [...this.peers.keys()].sort()) moved = this.processReady(id) || moved;
      if (this.mailbox.length > 0) {
        this.deliver();
        moved = true;
      }
      if (!moved) return;
    }
    throw new Error(`the cluster did not stabilize within ${roundsMax} rounds`);
  }

  partition(groups: string[][]): void {
    this.groups = groups;
  }

  heal(): void {
    this.groups = [];
  }

  /** Crash and restart from the memory store (everything persisted survives). */
  restart(id: string): void {
    const old = this.peer(id);
    const seed = this.seed++;
    const kv = new KvStateMachine();
    kv.restore(old.store.snapshot.data);
    this.peers.set(id, { node: new RaftNode({ id, rng: new Rng(seed), stored: old.store, settings: this.settings }), kv, store: old.store, up: true });
  }

  status(id: string): string {
    const status = this.peer(id).node.status();
    const followers = status.followers.map((follower) => `${follower.peer}:${follower.state}/${follower.match}`).join(' ');
    return `${id} ${status.role} term=${status.term} leader=${status.leader ?? '-'} commit=${status.commit} applied=${status.applied} last=${status.lastIndex} snapshot=${status.snapshotIndex} voters=(${status.membership.voters.join(' ')})${status.membership.learners.length > 0 ? ` learners=(${status.membership.learners.join(' ')})` : ''}${followers.length > 0 ? ` progress=${followers}` : ''}`;
  }
}
