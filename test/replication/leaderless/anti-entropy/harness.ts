/**
 * An in-test "node" around AntiEntropy: it keeps each range's key -> state bytes, records the
 * digest of every change, and applies pushed states by a deterministic merge (the larger byte
 * string wins), the stand-in for the real register merge. `exchangeAll` runs ticks and delivers
 * every message and push between nodes until the network is quiet, counting the bytes.
 */
import { AntiEntropy, messageBytes, stateDigest, type AntiEntropyMessage, type AntiEntropySettings } from '../../../../src/replication/leaderless/anti-entropy/index.js';
import { Rng } from '../../../../src/core/rng.js';

export class TestNode {
  readonly states = new Map<string, Map<string, Uint8Array>>();
  readonly antiEntropy: AntiEntropy;
  constructor(
    readonly name: string,
    settings: Partial<AntiEntropySettings>,
    seed: number,
  ) {
    this.antiEntropy = new AntiEntropy({ self: name, settings, rng: new Rng(seed) });
  }

  put(rangeId: string, key: string, state: Uint8Array): void {
    let range = this.states.get(rangeId);
    if (range === undefined) {
      range = new Map();
      this.states.set(rangeId, range);
    }
    range.set(key, state);
    this.antiEntropy.record(rangeId, key, stateDigest(state));
  }

  remove(rangeId: string, key: string): void {
    this.states.get(rangeId)?.delete(key);
    this.antiEntropy.record(rangeId, key, null);
  }

  merge(rangeId: string, key: string, incoming: Uint8Array): void {
    const local = this.states.get(rangeId)?.get(key);
    if (local === undefined || Buffer.compare(Buffer.from(incoming), Buffer.from(local)) > 0) this.put(rangeId, key, incoming);
  }

  /** The range's contents as sorted [key, hex state] pairs, for comparing replicas. */
  contents(rangeId: string): Array<[string, string]> {
    return [...(this.states.get(rangeId) ?? new Map<string, Uint8Array>()).entries()].map(([key, state]): [string, string] => [key, Buffer.from(state).toString('hex')]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

export interface Traffic {
  messageBytes: number;
  messages: number;
  pushedStateBytes: number;
  keysPushed: number;
  /** Per node and tick, the message bytes that left and the largest message among them. */
  perTick: Array<{ node: string; bytes: number; largest: number }>;
}

export function newTraffic(): Traffic {
  return { messageBytes: 0, messages: 0, pushedStateBytes: 0, keysPushed: 0, perTick: [] };
}

/** Delivers everything the nodes have ready, repeatedly, until nothing is left; `drop` can swallow messages. */
export function deliver(nodes: Map<string, TestNode>, traffic: Traffic, drop: (from: string, to: string, message: AntiEntropyMessage) => boolean = () => false): void {
  const sentThisTick = new Map<string, { bytes: number; largest: number }>();
  for (let busy = true; busy; ) {
    busy = false;
    for (const node of nodes.values()) {
      const ready = node.antiEntropy.ready();
      for (const { to, message } of ready.messages) {
        busy = true;
        const bytes = messageBytes(message);
        traffic.messageBytes += bytes;
        traffic.messages++;
        const tally = sentThisTick.get(node.name) ?? { bytes: 0, largest: 0 };
        tally.bytes += bytes;
        tally.largest = Math.max(tally.largest, bytes);
        sentThisTick.set(node.name, tally);
        const target = nodes.get(to);
        if (target !== undefined && !drop(node.name, to, message)) target.antiEntropy.step(node.name, structuredClone(message));
      }
      for (const push of ready.pushKeys) {
        const target = nodes.get(push.to);
        for (const key of push.keys) {
          const state = node.states.get(push.rangeId)?.get(key);
          if (state === undefined || target === undefined) continue;
          busy = true;
          traffic.pushedStateBytes += state.length + Buffer.byteLength(key);
          traffic.keysPushed++;
          target.merge(push.rangeId, key, state);
        }
      }
    }
  }
  for (const [node, tally] of sentThisTick) traffic.perTick.push({ node, ...tally });
}

/** Ticks every node and delivers, `ticks` times. */
export function run(nodes: Map<string, TestNode>, ticks: number, traffic: Traffic = newTraffic(), drop?: (from: string, to: string, message: AntiEntropyMessage) => boolean): Traffic {
  for (let tick = 0; tick < ticks; tick++) {
    for (const node of nodes.values()) node.antiEntropy.tick();
    deliver(nodes, traffic, drop);
  }
  return traffic;
}

export function nodeMap(...nodes: TestNode[]): Map<string, TestNode> {
  return new Map(nodes.map((node) => [node.name, node]));
}
