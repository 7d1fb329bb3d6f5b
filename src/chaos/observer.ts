/**
 * Watching the storage leader during a chaos run (single-leader mode): every live peer's
 * `GET /v1/cluster/status` is polled every `leaderPollMs` (every `leaderPollFailoverMs` while
 * a failover is open), and a leader is recorded the first time any peer names it for a term
 * higher than any seen before.
 *
 * When the run kills the leader, a failover opens: a probe writes one key again and again
 * through the live gateways. The failover's MTTR runs from the kill to the moment both a new
 * leader is known (by polling) and a write has been acknowledged. Polling bounds how finely
 * the first is seen: to within `leaderPollFailoverMs`.
 */
import { failoverProbeMs, failoverProbeTimeoutMs, leaderPollFailoverMs, leaderPollMs, probeRequestTimeoutMs } from './constants.js';
import { authorizationHeaders, send } from './http-client.js';
import type { FailoverMeasure, LeaderObservation } from './types.js';

export interface ObservedPeer {
  index: number;
  nodeId: string;
  api: string;
}

export interface ObserverParts {
  /** The peers up right now (as far as the run knows): the only ones asked. */
  livePeers: () => ObservedPeer[];
  apiKey: string | undefined;
  runTag: string;
  acks: string;
  now: () => number;
}

interface OpenFailover {
  measure: FailoverMeasure;
  term: number;
  done: Promise<void>;
}

export class ClusterObserver {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly leaders: LeaderObservation[] = [];
  private readonly failovers: OpenFailover[] = [];
  private knownTerm = -1;
  private knownLeader: string | undefined;
  /** Whether any peer answered with a leader field at all: false in multi-leader and leaderless modes. */
  private sawLeaderField = false;

  constructor(private readonly parts: ObserverParts) {}

  start(): void {
    this.running = true;
    this.loop = this.pollLoop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.all(this.failovers.map((failover) => failover.done));
  }

  get leader(): string | undefined {
    return this.knownLeader;
  }

  get hasLeaders(): boolean {
    return this.sawLeaderField;
  }

  observations(): LeaderObservation[] {
    return [...this.leaders];
  }

  measures(): FailoverMeasure[] {
    return this.failovers.map((failover) => failover.measure);
  }

  /** Asks every live peer once, now (the run calls it once before it starts killing). */
  async pollOnce(): Promise<void> {
    const peers = this.parts.livePeers();
    await Promise.all(peers.map((peer) => this.poll(peer)));
  }

  /** The run killed `oldLeader` at `killAtMs`: measure how long until a new leader takes writes. */
  openFailover(killAtMs: number, oldLeader: string): void {
    const measure: FailoverMeasure = { killAtMs, oldLeader, newLeader: null, newLeaderAtMs: null, firstWriteAtMs: null, mttrMs: null };
    const failover: OpenFailover = { measure, term: this.knownTerm, done: Promise.resolve() };
    failover.done = this.probeWrites(measure);
    this.failovers.push(failover);
  }

  private open(): boolean {
    return this.failovers.some((failover) => failover.measure.mttrMs === null && this.parts.now() - failover.measure.killAtMs < failoverProbeTimeoutMs);
  }

  private async pollLoop(): Promise<void> {
    while (this.running) {
      const started = this.parts.now();
      await this.pollOnce();
      const interval = this.open() ? leaderPollFailoverMs : leaderPollMs;
      await pause(Math.max(0, interval - (this.parts.now() - started)));
    }
  }

  private async poll(peer: ObservedPeer): Promise<void> {
    const outcome = await send(`${peer.api}/v1/cluster/status`, { method: 'GET', headers: this.authorization(), timeoutMs: probeRequestTimeoutMs });
    if (outcome.kind !== 'answer' || outcome.answer.status !== 200) return;
    let status: { leader?: unknown; term?: unknown };
    try {
      status = JSON.parse(outcome.answer.text) as { leader?: unknown; term?: unknown };
    } catch {
      return;
    }
    if ('leader' in status) this.sawLeaderField = true;
    if (typeof status.leader !== 'string' || typeof status.term !== 'number' || status.term <= this.knownTerm) return;
    const atMs = this.parts.now();
    this.knownTerm = status.term;
    this.knownLeader = status.leader;
    this.leaders.push({ atMs, leader: status.leader, term: status.term, observer: peer.nodeId });
    for (const failover of this.failovers) {
      if (failover.measure.newLeaderAtMs === null && status.term > failover.term && status.leader !== failover.measure.oldLeader) {
        failover.measure.newLeader = status.leader;
        failover.measure.newLeaderAtMs = atMs;
        settle(failover.measure);
      }
    }
  }

  /** Writes the probe key through the live gateways until one write is acknowledged (or the probe times out). */
  private async probeWrites(measure: FailoverMeasure): Promise<void> {
    const key = encodeURIComponent(`chaos/${this.parts.runTag}/failover-probe`);
    for (let attempt = 0; this.parts.now() - measure.killAtMs < failoverProbeTimeoutMs; attempt++) {
      const peers = this.parts.livePeers();
      if (peers.length > 0) {
        const peer = peers[attempt % peers.length];
        const outcome = await send(`${peer.api}/v1/kv/${key}?acks=${this.parts.acks}`, { method: 'PUT', headers: this.authorization(), body: String(measure.killAtMs), timeoutMs: probeRequestTimeoutMs });
        if (outcome.kind === 'answer' && outcome.answer.status === 200) {
          measure.firstWriteAtMs = this.parts.now();
          settle(measure);
          return;
        }
      }
      await pause(failoverProbeMs);
    }
  }

  private authorization(): Record<string, string> {
    return authorizationHeaders(this.parts.apiKey);
  }
}

/** A failover is over once both a new leader is known and a write went through. */
function settle(measure: FailoverMeasure): void {
  if (measure.newLeaderAtMs === null || measure.firstWriteAtMs === null) return;
  measure.mttrMs = Math.max(measure.newLeaderAtMs, measure.firstWriteAtMs) - measure.killAtMs;
}

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
