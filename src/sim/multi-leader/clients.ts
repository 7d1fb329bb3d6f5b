/**
 * The clients of the multi-leader workload. Each thinks, then does one operation at a peer
 * that is up: a put (blind, or read-modify-write with the context a read just returned;
 * last-writer-wins on the keys meant for it), an append to a conversation, a read at the peer
 * it last wrote to, or a session read at any peer with its token. Reads are checked on the spot
 * against the client's own acknowledged writes (checker 3); acknowledged writes are collected
 * for checker 1.
 */
import type { Rng } from '../../core/rng.js';
import type { KeyState, MultiLeaderReply } from '../../replication/multi-leader/index.js';
import { joinVectors, type VersionVector } from '../../replication/versions/index.js';
import type { Simulation } from '../simulation.js';
import { missedOwnWrites, type AcknowledgedAppend, type AcknowledgedPut } from './checkers.js';
import type { SimulatedMultiLeaderMessage, SimulatedMultiLeaderPeer } from './peer.js';
import { multiLeaderTickMs } from './settings.js';

/** A client gives up on a write after this long: its peer crashed (a local write otherwise takes an fsync, a few ticks). */
export const writeTimeoutMs = 300;
/** A client gives up on a session read after this long: the peer could not catch up with its token (a partition). */
export const sessionReadTimeoutMs = 1_000;

export interface ClientsShared {
  sim: Simulation<SimulatedMultiLeaderMessage>;
  rng: Rng;
  peers: readonly string[];
  registerKeys: readonly string[];
  lastWriterWinsKeys: readonly string[];
  conversations: readonly string[];
  thinkMsMax: number;
  active: () => boolean;
  acknowledgedPuts: AcknowledgedPut[];
  acknowledgedAppends: AcknowledgedAppend[];
  fail: (message: string) => void;
  counts: ClientCounts;
}

export interface ClientCounts {
  writes: number;
  refusals: Record<string, number>;
  samePeerReads: number;
  sessionReads: number;
  sessionReadsTimedOut: number;
  writesAfterHealing: number;
  healedAtMs: number;
}

export class WorkloadClient {
  private token: VersionVector = {};
  private lastPeer: string | undefined;
  private operations = 0;
  private readonly puts: AcknowledgedPut[] = [];
  private readonly appends: AcknowledgedAppend[] = [];

  constructor(private readonly number: number, private readonly shared: ClientsShared) {}

  start(): void {
    this.next();
  }

  private next(): void {
    const { sim, rng, thinkMsMax } = this.shared;
    sim.after(1 + rng.nextInt(thinkMsMax), () => this.act());
  }

  private peer(address: string): SimulatedMultiLeaderPeer | undefined {
    return this.shared.sim.invoke(address, (peer) => peer as SimulatedMultiLeaderPeer);
  }

  private act(): void {
    if (!this.shared.active()) return;
    const { rng, sim, peers } = this.shared;
    const up = peers.filter((address) => sim.isUp(address));
    if (up.length === 0) return this.next();
    const address = this.lastPeer !== undefined && sim.isUp(this.lastPeer) && rng.nextFloat() < 0.7 ? this.lastPeer : up[rng.nextInt(up.length)];
    const choice = rng.nextFloat();
    if (choice < 0.4) this.put(address);
    else if (choice < 0.65) this.append(address);
    else if (choice < 0.8) this.samePeerRead();
    else this.sessionRead(address);
  }

  private put(address: string): void {
    const { rng, registerKeys, lastWriterWinsKeys } = this.shared;
    const keys = [...registerKeys, ...lastWriterWinsKeys];
    const key = keys[rng.nextInt(keys.length)];
    const peer = this.peer(address)!;
    const current = peer.read(key).state;
    const context = rng.nextFloat() < 0.6 && current?.kind === 'register' ? current.state.clock : undefined;
    const requestId = `c${this.number}-${++this.operations}`;
    const value = rng.nextFloat() < 0.1 ? null : requestId;
    const lastWriterWins = lastWriterWinsKeys.includes(key);
    this.send(address, peer, { kind: 'put', requestId, key, value, ...(context !== undefined && { context }), lastWriterWins }, (reply) => {
      const dot = { node: address, counter: reply.state!.clock[address] };
      const put = { client: this.number, peer: address, key, dot, value };
      this.puts.push(put);
      this.shared.acknowledgedPuts.push(put);
    });
  }

  private append(address: string): void {
    const { rng, conversations } = this.shared;
    const key = conversations[rng.nextInt(conversations.length)];
    const requestId = `c${this.number}-${++this.operations}`;
    this.send(address, this.peer(address)!, { kind: 'append', requestId, key, value: requestId }, (reply) => {
      const append = { client: this.number, peer: address, key, id: reply.element!.id, value: requestId };
      this.appends.push(append);
      this.shared.acknowledgedAppends.push(append);
    });
  }

  /** Sends a write; `acknowledged` records it when the reply is ok. The client moves on after the reply or a time-out. */
  private send(address: string, peer: SimulatedMultiLeaderPeer, write: Parameters<SimulatedMultiLeaderPeer['write']>[0], acknowledged: (reply: Extract<MultiLeaderReply, { ok: true }>) => void): void {
    const { sim, counts } = this.shared;
    counts.writes++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.next();
    };
    sim.invoke(address, () => peer.write(write, (reply) => {
      if (reply.ok) {
        acknowledged(reply);
        this.token = joinVectors(this.token, reply.applied);
        this.lastPeer = address;
        if (sim.now >= counts.healedAtMs) counts.writesAfterHealing++;
      } else {
        counts.refusals[reply.code] = (counts.refusals[reply.code] ?? 0) + 1;
      }
      // The reply arrives inside the peer's own step: the next operation waits for a fresh event.
      sim.after(0, finish);
    }));
    sim.after(writeTimeoutMs, finish);
  }

  /** Read-your-writes at the peer this client last wrote to: it must show every write the client had acknowledged there. */
  private samePeerRead(): void {
    const { sim, rng } = this.shared;
    const address = this.lastPeer;
    if (address === undefined || !sim.isUp(address)) return this.next();
    const mine = this.puts.filter((put) => put.peer === address);
    const appends = this.appends.filter((append) => append.peer === address);
    const keys = [...new Set([...mine.map((put) => put.key), ...appends.map((append) => append.key)])];
    const key = keys[rng.nextInt(keys.length)];
    this.shared.counts.samePeerReads++;
    this.check('same-peer', address, key, this.peer(address)!.read(key).state, mine, appends);
    this.next();
  }

  /** A session read at any peer: answered once that peer has applied the client's token, and then it must show all the client's acknowledged writes. */
  private sessionRead(address: string): void {
    const { sim, rng, counts } = this.shared;
    const keys = [...new Set([...this.puts.map((put) => put.key), ...this.appends.map((append) => append.key)])];
    if (keys.length === 0) return this.next();
    const key = keys[rng.nextInt(keys.length)];
    const puts = this.puts.filter((put) => put.key === key);
    const appends = this.appends.filter((append) => append.key === key);
    counts.sessionReads++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.next();
    };
    const token = this.token;
    sim.invoke(address, (peer) => (peer as SimulatedMultiLeaderPeer).sessionRead(key, token, sessionReadTimeoutMs / multiLeaderTickMs, (state, applied) => {
      if (applied === undefined) counts.sessionReadsTimedOut++;
      else this.check('session', address, key, state, puts, appends);
      sim.after(0, finish);
    }));
    sim.after(sessionReadTimeoutMs + multiLeaderTickMs, finish);
  }

  private check(kind: string, address: string, key: string, state: KeyState | undefined, puts: readonly AcknowledgedPut[], appends: readonly AcknowledgedAppend[]): void {
    const missed = missedOwnWrites(state, puts.filter((put) => put.key === key), appends.filter((append) => append.key === key));
    if (missed.length > 0) this.shared.fail(`read-your-writes: client ${this.number}'s ${kind} read of ${key} at ${address} missed its own acknowledged ${missed.slice(0, 3).join(', ')}`);
  }
}
