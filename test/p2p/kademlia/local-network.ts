/**
 * A minimal synchronous network for Kademlia tests, separate from the simulator so that these
 * tests depend on the core alone: messages are delivered in the order they were sent, with no
 * latency, and `settle` delivers until nothing is left. Peers can be made unreachable.
 */
import { Rng } from '../../../src/core/rng.js';
import type { Contact } from '../../../src/p2p/kademlia/contact.js';
import type { KademliaMessage } from '../../../src/p2p/kademlia/messages.js';
import { KademliaNode } from '../../../src/p2p/kademlia/node.js';
import type { OperationResult } from '../../../src/p2p/kademlia/operations.js';
import type { KademliaSettings } from '../../../src/p2p/kademlia/settings.js';
import { contactOf } from './helpers.js';

/** A stand-in signature: the publisher's key bytes, then a checksum of the signed bytes. Not cryptography. */
export function fakeSign(publicKey: Uint8Array, bytes: Uint8Array): Uint8Array {
  let sum = 7;
  for (const byte of bytes) sum = (Math.imul(sum, 31) + byte) >>> 0;
  return new Uint8Array([...publicKey, sum & 255, (sum >>> 8) & 255, (sum >>> 16) & 255, sum >>> 24]);
}

export function fakeVerify(publicKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array): boolean {
  const expected = fakeSign(publicKey, bytes);
  return expected.length === signature.length && expected.every((byte, index) => byte === signature[index]);
}

export class LocalNetwork {
  readonly nodes = new Map<string, KademliaNode>();
  readonly results = new Map<string, OperationResult[]>();
  readonly unreachable = new Set<string>();
  private queue: { from: Contact; to: Contact; message: KademliaMessage }[] = [];
  delivered = 0;

  constructor(private readonly settings: Partial<KademliaSettings> = {}) {}

  add(nodeId: string, seed = 1): KademliaNode {
    const node = new KademliaNode({ self: contactOf(nodeId), rng: new Rng(seed), verify: fakeVerify }, this.settings);
    this.nodes.set(nodeId, node);
    this.results.set(nodeId, []);
    return node;
  }

  node(nodeId: string): KademliaNode {
    return this.nodes.get(nodeId)!;
  }

  /** Moves every node's ready output into the queue and the result lists. */
  collect(): void {
    for (const [nodeId, node] of this.nodes) {
      if (!node.hasReady()) continue;
      const ready = node.ready();
      for (const { to, message } of ready.messages) this.queue.push({ from: node.self, to, message });
      this.results.get(nodeId)!.push(...ready.results);
      node.advance();
    }
  }

  /** Delivers messages until none are left (and at most `limit`, to catch loops). */
  settle(limit = 1_000_000): void {
    this.collect();
    while (this.queue.length > 0) {
      if (this.delivered++ > limit) throw new Error('the network did not settle');
      const { from, to, message } = this.queue.shift()!;
      const target = this.nodes.get(to.nodeId);
      if (target !== undefined && !this.unreachable.has(to.nodeId) && !this.unreachable.has(from.nodeId)) target.step(from, message);
      this.collect();
    }
  }

  /** Ticks every node `count` times, settling after each tick. */
  tick(count = 1): void {
    for (let i = 0; i < count; i++) {
      for (const node of this.nodes.values()) node.tick();
      this.settle();
    }
  }

  /** The result of an operation, once it is done. */
  result(nodeId: string, operationId: number): OperationResult | undefined {
    return this.results.get(nodeId)!.find((result) => result.operationId === operationId);
  }
}
