/**
 * The simulated network between peers: how long each message takes, whether it is lost or
 * duplicated, and which peers a partition keeps apart. Reordering needs no switch of its
 * own: every message draws its own latency, so two messages on the same link overtake each
 * other whenever the second draws a shorter one.
 */
import { assert } from '../core/assert.js';
import type { Rng } from '../core/rng.js';

export interface NetworkSettings {
  /** Median one-way latency, in milliseconds. Latencies are log-normal around it. */
  latencyMsMedian: number;
  /** Standard deviation of the latency's logarithm: 0 gives a fixed latency, 0.5 a moderate spread. */
  latencyLogSigma: number;
  /** Bounds on one message's latency, in milliseconds. */
  latencyMsMin: number;
  latencyMsMax: number;
  /** Probability that a message is lost. */
  lossRate: number;
  /** Probability that a message is delivered twice (with independent latencies). */
  duplicationRate: number;
}

export const defaultNetworkSettings: Readonly<NetworkSettings> = Object.freeze({
  latencyMsMedian: 40,
  latencyLogSigma: 0.5,
  latencyMsMin: 1,
  latencyMsMax: 2_000,
  lossRate: 0,
  duplicationRate: 0,
});

export function networkSettings(overrides: Partial<NetworkSettings> = {}): NetworkSettings {
  const settings = { ...defaultNetworkSettings, ...overrides };
  assert(settings.latencyMsMin >= 1, 'latencyMsMin must be at least 1 ms: a message never arrives in the same instant it was sent');
  assert(settings.latencyMsMin <= settings.latencyMsMedian && settings.latencyMsMedian <= settings.latencyMsMax, 'latency bounds must satisfy min <= median <= max');
  assert(settings.latencyLogSigma >= 0, 'latencyLogSigma must not be negative');
  assert(settings.lossRate >= 0 && settings.lossRate < 1, 'lossRate must be in [0, 1)');
  assert(settings.duplicationRate >= 0 && settings.duplicationRate < 1, 'duplicationRate must be in [0, 1)');
  return settings;
}

export class NetworkModel {
  readonly settings: NetworkSettings;
  private readonly rng: Rng;
  /** Partition group of each listed address; addresses not listed share the group -1. Empty when healed. */
  private groups = new Map<string, number>();

  constructor(settings: NetworkSettings, rng: Rng) {
    this.settings = settings;
    this.rng = rng;
  }

  /** A one-way latency in whole milliseconds. */
  latencyMs(): number {
    const { latencyMsMedian, latencyLogSigma, latencyMsMin, latencyMsMax } = this.settings;
    const latency = latencyLogSigma === 0 ? latencyMsMedian : latencyMsMedian * Math.exp(latencyLogSigma * this.rng.nextGaussian());
    return Math.min(latencyMsMax, Math.max(latencyMsMin, Math.round(latency)));
  }

  loses(): boolean {
    return this.settings.lossRate > 0 && this.rng.nextFloat() < this.settings.lossRate;
  }

  duplicates(): boolean {
    return this.settings.duplicationRate > 0 && this.rng.nextFloat() < this.settings.duplicationRate;
  }

  /**
   * Splits the network: peers in different groups cannot reach each other; every peer not
   * listed belongs to one more group of its own. Replaces any partition in force.
   */
  partition(groups: readonly (readonly string[])[]): void {
    const next = new Map<string, number>();
    groups.forEach((group, index) => {
      for (const address of group) {
        assert(!next.has(address), `address ${address} is listed in two partition groups`);
        next.set(address, index);
      }
    });
    this.groups = next;
  }

  heal(): void {
    this.groups = new Map();
  }

  get partitioned(): boolean {
    return this.groups.size > 0;
  }

  canReach(from: string, to: string): boolean {
    if (this.groups.size === 0) return true;
    return (this.groups.get(from) ?? -1) === (this.groups.get(to) ?? -1);
  }
}
