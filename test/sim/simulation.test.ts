import { describe, expect, it } from 'vitest';
import { scheduleFaults } from '../../src/sim/faults.js';
import type { NetworkSettings } from '../../src/sim/network.js';
import { Simulation } from '../../src/sim/simulation.js';
import { toyFactory, ToyPeer, type ToyMessage } from './toy-peer.js';

const addresses = ['a', 'b', 'c', 'd', 'e'];

function toySimulation(seed: number, network: Partial<NetworkSettings> = {}, talkative = true, log?: (line: string) => void) {
  const sim = new Simulation<ToyMessage>({ seed, tickMs: 10, network, recordTrace: true, describe: (message) => `${message.kind}#${message.sequence}`, log });
  const factory = toyFactory(() => addresses, talkative);
  for (const address of addresses) sim.addPeer(address, factory);
  return sim;
}

function peer(sim: Simulation<ToyMessage>, address: string): ToyPeer {
  return sim.invoke(address, (found) => found as ToyPeer)!;
}

/** A run with every kind of fault, for the replay tests. */
function faultyRun(seed: number) {
  const sim = toySimulation(seed, { lossRate: 0.05, duplicationRate: 0.05, latencyLogSigma: 0.8 });
  const faults = scheduleFaults(sim, () => addresses, {
    fromMs: 0, untilMs: 20_000,
    partitionMeanGapMs: 2_000, partitionDurationMsMin: 200, partitionDurationMsMax: 1_500,
    crashMeanGapMs: 1_500, downtimeMsMin: 100, downtimeMsMax: 2_000,
  }, sim.forkRng());
  sim.runUntil(25_000);
  return { sim, faults };
}

describe('Simulation', () => {
  it('prints its seed at the start', () => {
    const lines: string[] = [];
    toySimulation(4242, {}, true, (line) => lines.push(line));
    expect(lines[0]).toMatch(/seed 4242/);
  });

  it('replays a run exactly from its seed, faults included, and a different seed gives a different run', () => {
    const first = faultyRun(7);
    const second = faultyRun(7);
    expect(first.faults.partitions).toBeGreaterThan(3);
    expect(first.faults.crashes).toBeGreaterThan(3);
    expect(second.sim.traceHash()).toBe(first.sim.traceHash());
    expect(second.sim.trace).toEqual(first.sim.trace);
    expect(second.sim.stats).toEqual(first.sim.stats);
    const other = faultyRun(8);
    expect(other.sim.traceHash()).not.toBe(first.sim.traceHash());
  });

  it('loses about the configured fraction of messages', () => {
    const sim = toySimulation(1, { lossRate: 0.2 });
    sim.runUntil(20_000);
    const fraction = sim.stats.droppedLost / sim.stats.messagesSent;
    expect(sim.stats.messagesSent).toBeGreaterThan(10_000);
    expect(fraction).toBeGreaterThan(0.18);
    expect(fraction).toBeLessThan(0.22);
  });

  it('duplicates messages, so that a receiver sees the same message twice', () => {
    const sim = toySimulation(2, { duplicationRate: 0.1 });
    sim.runUntil(5_000);
    const receipts = peer(sim, 'a').received.map((receipt) => `${receipt.from}/${receipt.kind}/${receipt.sequence}`);
    expect(new Set(receipts).size).toBeLessThan(receipts.length);
    expect(sim.stats.messagesDuplicated).toBeGreaterThan(0);
    // Every message is delivered once, a few twice; some are still in flight when the run stops.
    expect(sim.stats.messagesDelivered).toBeGreaterThan(sim.stats.messagesSent);
    expect(sim.stats.messagesDelivered).toBeLessThanOrEqual(sim.stats.messagesSent + sim.stats.messagesDuplicated);
  });

  it('reorders messages on a link when latencies vary, and never when they are fixed', () => {
    const overtakes = (sigma: number) => {
      const sim = toySimulation(3, { latencyLogSigma: sigma }, false);
      const sender = peer(sim, 'a');
      for (let i = 0; i < 200; i++) sim.at(i, () => sim.invoke('a', () => sender.sayHello('b')));
      sim.runUntil(5_000);
      const sequences = peer(sim, 'b').received.filter((receipt) => receipt.kind === 'hello').map((receipt) => receipt.sequence);
      expect(sequences).toHaveLength(200);
      return sequences.filter((sequence, index) => index > 0 && sequence < sequences[index - 1]).length;
    };
    expect(overtakes(0.8)).toBeGreaterThan(0);
    expect(overtakes(0)).toBe(0);
  });

  it('draws latencies around the median, within the bounds', () => {
    const sim = toySimulation(4, { latencyMsMedian: 50, latencyLogSigma: 0.5, latencyMsMin: 5, latencyMsMax: 400 });
    const latencies = Array.from({ length: 20_000 }, () => sim.network.latencyMs()).sort((a, b) => a - b);
    expect(latencies[0]).toBeGreaterThanOrEqual(5);
    expect(latencies[latencies.length - 1]).toBeLessThanOrEqual(400);
    expect(latencies[10_000]).toBeGreaterThanOrEqual(47);
    expect(latencies[10_000]).toBeLessThanOrEqual(53);
  });

  it('keeps partitioned groups apart until the partition heals', () => {
    const sim = toySimulation(5);
    sim.runUntil(1_000);
    sim.partition([['a', 'b'], ['c']]);
    const heard = (address: string, from: readonly string[]) => peer(sim, address).received.filter((receipt) => from.includes(receipt.from)).length;
    const cutAt = sim.now;
    const cHeardBefore = heard('c', ['a', 'b', 'd', 'e']);
    const aHeardBBefore = heard('a', ['b']);
    const dHeardEBefore = heard('d', ['e']);
    const aHeardDBefore = heard('a', ['d', 'e']);
    sim.runUntil(cutAt + 5_000);
    // c hears nobody while cut off; a and b still hear each other, and so do d and e (the unlisted rest).
    expect(heard('c', ['a', 'b', 'd', 'e'])).toBe(cHeardBefore);
    expect(heard('a', ['d', 'e'])).toBe(aHeardDBefore);
    expect(heard('a', ['b'])).toBeGreaterThan(aHeardBBefore);
    expect(heard('d', ['e'])).toBeGreaterThan(dHeardEBefore);
    expect(sim.stats.droppedPartitioned).toBeGreaterThan(0);
    sim.heal();
    sim.runUntil(cutAt + 10_000);
    expect(heard('c', ['a', 'b', 'd', 'e'])).toBeGreaterThan(cHeardBefore);
    expect(heard('a', ['d', 'e'])).toBeGreaterThan(aHeardDBefore);
  });

  it('loses a crashed peer\'s memory, drops messages to it while down, and restarts it fresh with the same address', () => {
    const sim = toySimulation(6);
    sim.runUntil(1_000);
    const old = peer(sim, 'b');
    expect(old.received.length).toBeGreaterThan(0);
    sim.crash('b');
    expect(sim.isUp('b')).toBe(false);
    expect(sim.invoke('b', () => 1)).toBeUndefined();
    sim.runUntil(2_000);
    expect(sim.stats.droppedUnreachable).toBeGreaterThan(0);
    sim.restart('b');
    const fresh = peer(sim, 'b');
    expect(fresh).not.toBe(old);
    expect(fresh.incarnation).toBe(2);
    expect(fresh.received).toHaveLength(0);
    sim.runUntil(3_000);
    expect(fresh.received.length).toBeGreaterThan(0);
    expect(sim.stats.crashes).toBe(1);
    expect(sim.stats.restarts).toBe(1);
  });

  it('removes a peer for good', () => {
    const sim = toySimulation(7);
    sim.runUntil(500);
    sim.removePeer('e');
    sim.restart('e');
    expect(sim.isUp('e')).toBe(false);
    expect(() => sim.addPeer('e', toyFactory(() => addresses))).toThrow(/already exists/);
    expect(() => sim.crash('nobody')).toThrow(/no simulated peer/);
  });

  it('applies exactly one tick per tickMs, even to a peer it only wakes when due', () => {
    /** Counts its ticks, has timed work every 7 ticks, and notes the tick count whenever something happens. */
    class Sleeper {
      ticks = 0;
      readonly work: { ticks: number; atMs: number }[] = [];
      readonly arrivals: { ticks: number; atMs: number }[] = [];
      constructor(private readonly now: () => number) {}
      tick(): void {
        this.ticks++;
        if (this.ticks % 7 === 0) this.work.push({ ticks: this.ticks, atMs: this.now() });
      }
      ticksUntilDue(): number {
        return 7 - (this.ticks % 7);
      }
      receive(): void {
        this.arrivals.push({ ticks: this.ticks, atMs: this.now() });
      }
      takeMessages() {
        return [];
      }
    }
    const sim = new Simulation<ToyMessage>({ seed: 1, tickMs: 10 });
    sim.runUntil(25);
    const sleeper = new Sleeper(() => sim.now);
    sim.addPeer('sleeper', () => sleeper);
    sim.addPeer('sender', toyFactory(() => [], false));
    for (const atMs of [333, 1_000, 1_001, 1_456]) sim.at(atMs, () => sim.invoke('sender', (sender) => (sender as ToyPeer).sayHello('sleeper')));
    sim.runUntil(2_000);
    // Added at 25 ms, it is ticked at 30, 40, 50 ... ms: by time t it has had floor(t / 10) - 2 ticks.
    expect(sleeper.arrivals).toHaveLength(4);
    for (const arrival of sleeper.arrivals) expect(arrival.ticks).toBe(Math.floor(arrival.atMs / 10) - 2);
    // Its timed work ran at every 7th tick, each on time (the last one, tick 196, at 1,980 ms).
    expect(sleeper.work).toEqual(Array.from({ length: 28 }, (_, index) => ({ ticks: 7 * (index + 1), atMs: 20 + 70 * (index + 1) })));
    expect(sleeper.ticks).toBe(196);
    sim.invoke('sleeper', () => undefined);
    expect(sleeper.ticks).toBe(198);
  });

  it('runs actions at their time, in the order they were scheduled', () => {
    const sim = toySimulation(8, {}, false);
    const seen: string[] = [];
    sim.at(300, () => seen.push(`x@${sim.now}`));
    sim.at(100, () => {
      seen.push(`y@${sim.now}`);
      sim.after(50, () => seen.push(`z@${sim.now}`));
    });
    sim.at(300, () => seen.push(`w@${sim.now}`));
    sim.runUntil(1_000);
    expect(seen).toEqual(['y@100', 'z@150', 'x@300', 'w@300']);
    expect(sim.now).toBe(1_000);
  });
});
