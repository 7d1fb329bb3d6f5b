/**
 * A production `KademliaNode` as a simulated peer. Addresses are `host:port` of contacts;
 * the directory plays the part of the TLS handshake, which in production tells a peer whose
 * node id is on the other end of a connection.
 */
import type { Rng } from '../core/rng.js';
import { KademliaNode, type Contact, type KademliaMessage, type KademliaSettings, type OperationResult } from '../p2p/kademlia/index.js';
import type { AddressedMessage, PeerFactory, SimulatedPeer } from './peer.js';

export function addressOf(contact: Contact): string {
  return `${contact.host}:${contact.port}`;
}

/** Every identity that ever existed in a run, by address. */
export type ContactDirectory = Map<string, Contact>;

/** Messages sent in a run, by message type. */
export type TrafficCounts = Record<KademliaMessage['type'], number>;

export function emptyTrafficCounts(): TrafficCounts {
  return { ping: 0, pong: 0, findNode: 0, nodes: 0, addProvider: 0, getProviders: 0, providers: 0, putValue: 0, getValue: 0, values: 0, stored: 0 };
}

const noMessages: readonly AddressedMessage<KademliaMessage>[] = Object.freeze([]);

export class SimulatedKademliaPeer implements SimulatedPeer<KademliaMessage> {
  readonly node: KademliaNode;
  readonly address: string;
  private readonly directory: ContactDirectory;
  private readonly onResult: (address: string, result: OperationResult) => void;
  private readonly traffic: TrafficCounts | undefined;

  constructor(node: KademliaNode, directory: ContactDirectory, onResult: (address: string, result: OperationResult) => void, traffic?: TrafficCounts) {
    this.node = node;
    this.address = addressOf(node.self);
    this.directory = directory;
    this.onResult = onResult;
    this.traffic = traffic;
  }

  tick(): void {
    this.node.tick();
  }

  ticksUntilDue(): number {
    return this.node.ticksUntilDue();
  }

  receive(from: string, message: KademliaMessage): void {
    const contact = this.directory.get(from);
    // Without a known identity the TLS handshake would have failed: the message never reaches the core.
    if (contact !== undefined) this.node.step(contact, message);
  }

  takeMessages(): readonly AddressedMessage<KademliaMessage>[] {
    if (!this.node.hasReady()) return noMessages;
    const ready = this.node.ready();
    const messages = ready.messages.map(({ to, message }) => ({ to: addressOf(to), message }));
    if (this.traffic !== undefined) for (const { message } of ready.messages) this.traffic[message.type]++;
    const results = ready.results;
    this.node.advance();
    for (const result of results) this.onResult(this.address, result);
    return messages;
  }
}

/**
 * A stand-in signature for simulated values: a keyed 64-bit hash of the bytes. It is not
 * cryptography (anyone can compute it); it only lets the simulator exercise the code paths
 * of signed values, valid and forged, without key pairs. Production injects real ECDSA.
 */
export function simulatedSignature(publicKey: Uint8Array, bytes: Uint8Array): Uint8Array {
  let high = 0x811c9dc5;
  let low = 0x9e3779b9;
  for (const byte of publicKey) {
    high = Math.imul(high ^ byte, 0x01000193);
    low = Math.imul(low ^ byte, 0x85ebca6b);
  }
  for (const byte of bytes) {
    high = Math.imul(high ^ byte, 0x01000193);
    low = Math.imul(low ^ byte, 0x85ebca6b) ^ (high >>> 13);
  }
  const signature = new Uint8Array(8);
  new DataView(signature.buffer).setUint32(0, high >>> 0);
  new DataView(signature.buffer).setUint32(4, low >>> 0);
  return signature;
}

export function verifySimulatedSignature(publicKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array): boolean {
  const expected = simulatedSignature(publicKey, bytes);
  return signature.length === expected.length && expected.every((byte, index) => byte === signature[index]);
}

/** A factory for `Simulation.addPeer`: a fresh node with this identity on every (re)start, bootstrapped through `bootstrap`. */
export function kademliaPeerFactory(options: {
  contact: Contact;
  directory: ContactDirectory;
  bootstrap: () => readonly Contact[];
  onResult: (address: string, result: OperationResult) => void;
  settings?: Partial<KademliaSettings>;
  traffic?: TrafficCounts;
}): PeerFactory<KademliaMessage> {
  options.directory.set(addressOf(options.contact), options.contact);
  return (_address: string, rng: Rng) => {
    const node = new KademliaNode({ self: options.contact, rng, verify: verifySimulatedSignature }, options.settings);
    node.bootstrap(options.bootstrap());
    return new SimulatedKademliaPeer(node, options.directory, options.onResult, options.traffic);
  };
}
