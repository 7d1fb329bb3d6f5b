/**
 * Where the gauges get their numbers: each part of a peer hands the metrics a function
 * that returns its current status, and the metrics call it while Prometheus scrapes. No
 * part pushes anything, and a part that is not running on this peer is simply not given
 * (or its function returns undefined, which leaves its series out of the scrape).
 */
import type { KademliaStats } from '../../p2p/kademlia/index.js';
import type { RaftStatus } from '../../replication/leader/index.js';
import type { LeaderlessStatus } from '../../replication/leaderless/index.js';
import type { MultiLeaderStatus } from '../../replication/multi-leader/index.js';
import type { AdmissionStats, BreakerStatus, DegradationLevel } from '../../resilience/index.js';
import type { ComputeCounters } from '../../service/compute/compute-engine.js';
import type { Protection } from '../openai/protection.js';

/** The DHT's state, as `Node.status()` reports it (src/node/node.ts). */
export interface DhtSnapshot {
  /** `KademliaNode.routingTableSize`: contacts in the routing table. */
  routingTableSize: number;
  /** `KademliaNode.storedRecordCount`: provider records and values this peer stores for others. */
  storedRecords: number;
  /** `KademliaNode.stats`: counters since the node started. */
  stats: KademliaStats;
}

/** The gateway's protection: its admission queue and its degradation level. */
export interface ProtectionSnapshot {
  admission: AdmissionStats;
  degradationLevel: DegradationLevel;
}

/** A peer's state as this peer's failure detector sees it. */
export type PeerHealth = 'up' | 'suspect' | 'down';
export const peerHealthStates: readonly PeerHealth[] = ['up', 'suspect', 'down'];

/** What the availability tracker knows now (src/availability). */
export interface AvailabilitySnapshot {
  peers: readonly { peer: string; state: PeerHealth }[];
  /** The measured availability, a fraction from 0 to 1. */
  availability?: number;
  /** The same as a number of nines (0.999 is 3); null when there is nothing to count yet. */
  nines?: number | null;
}

/** The status of a storage peer in multi-leader or leaderless mode (`MultiLeaderPeer.status()`, `LeaderlessPeer.status()`). */
export type ReplicaStatus = MultiLeaderStatus | LeaderlessStatus;

/** Every source is optional; the metrics of a source that is not given are not registered at all. */
export interface MetricsSources {
  /** `RaftPeer.status()` on a single-leader storage peer. */
  raft?: () => RaftStatus | undefined;
  /** `MultiLeaderPeer.status()` or `LeaderlessPeer.status()` on a storage peer of those modes. */
  replica?: () => ReplicaStatus | undefined;
  dht?: () => DhtSnapshot | undefined;
  /** A gateway's protection; `protectionSource(protection)` builds it. */
  protection?: () => ProtectionSnapshot | undefined;
  /** `CircuitBreakers.states()` of the gateway's compute directory. */
  breakers?: () => readonly BreakerStatus[] | undefined;
  /** `ComputeEngine.counters` on a compute peer. */
  compute?: () => ComputeCounters | undefined;
  availability?: () => AvailabilitySnapshot | undefined;
}

export type MetricsSourceName = keyof MetricsSources;

/** The source a gateway's `Protection` gives: its admission queue's stats and its degradation level. */
export function protectionSource(protection: Pick<Protection, 'admission' | 'degradation'>): () => ProtectionSnapshot {
  return () => ({ admission: protection.admission.stats(), degradationLevel: protection.degradation.level });
}

/**
 * Reads one source at most once per scrape. prom-client collects every metric of a
 * registry in one synchronous pass (each metric's `collect()` runs before the first
 * `await`), so a snapshot kept until the next microtask serves all the gauges of a source
 * in that scrape: they agree with each other, the source runs once, and a failure is
 * counted once.
 */
export class SourceReader<T> {
  private current: { value: T | undefined; errorCounted: boolean } | undefined;

  constructor(
    readonly name: MetricsSourceName,
    private readonly read: () => T | undefined,
    private readonly onError: (name: MetricsSourceName, error: unknown) => void,
  ) {}

  /** This scrape's snapshot, or undefined when the source has none now or threw. */
  snapshot(): T | undefined {
    if (this.current === undefined) {
      const current: { value: T | undefined; errorCounted: boolean } = { value: undefined, errorCounted: false };
      this.current = current;
      queueMicrotask(() => {
        this.current = undefined;
      });
      try {
        current.value = this.read();
      } catch (error) {
        this.fail(error);
      }
    }
    return this.current.value;
  }

  /**
   * Counts a failure of this scrape's snapshot: the source threw, or a metric found a value
   * of the wrong shape in it (that metric then leaves its series out; the others, whose
   * values were fine, still show theirs). A scrape counts at most one failure per source.
   */
  fail(error: unknown): void {
    if (this.current !== undefined) {
      if (this.current.errorCounted) return;
      this.current.errorCounted = true;
    }
    this.onError(this.name, error);
  }
}
