/**
 * A tiny protocol for testing the simulator itself: every tick a peer says hello to a random
 * other peer, and every hello is acknowledged. Peers remember what they received, in memory
 * only, so a crash visibly wipes it.
 */
import type { Rng } from '../../src/core/rng.js';
import type { AddressedMessage, PeerFactory, SimulatedPeer } from '../../src/sim/peer.js';

export type ToyMessage = { readonly kind: 'hello' | 'ack'; readonly sequence: number };

export interface Receipt {
  readonly from: string;
  readonly kind: ToyMessage['kind'];
  readonly sequence: number;
}

export class ToyPeer implements SimulatedPeer<ToyMessage> {
  readonly received: Receipt[] = [];
  readonly incarnation: number;
  private outbox: AddressedMessage<ToyMessage>[] = [];
  private sequence = 0;

  constructor(
    private readonly address: string,
    private readonly others: () => readonly string[],
    private readonly rng: Rng,
    incarnation: number,
    private readonly talkative: boolean,
  ) {
    this.incarnation = incarnation;
  }

  tick(): void {
    if (!this.talkative) return;
    const others = this.others().filter((other) => other !== this.address);
    if (others.length === 0) return;
    this.outbox.push({ to: others[this.rng.nextInt(others.length)], message: { kind: 'hello', sequence: this.sequence++ } });
  }

  /** A talkative peer has something to say every tick; a quiet one never does. */
  ticksUntilDue(): number {
    return this.talkative ? 1 : Number.POSITIVE_INFINITY;
  }

  /** Sends a hello to one peer now (for tests that need a precise message). */
  sayHello(to: string): void {
    this.outbox.push({ to, message: { kind: 'hello', sequence: this.sequence++ } });
  }

  receive(from: string, message: ToyMessage): void {
    this.received.push({ from, kind: message.kind, sequence: message.sequence });
    if (message.kind === 'hello') this.outbox.push({ to: from, message: { kind: 'ack', sequence: message.sequence } });
  }

  takeMessages(): readonly AddressedMessage<ToyMessage>[] {
    const messages = this.outbox;
    this.outbox = [];
    return messages;
  }
}

/** A factory that counts incarnations per address, so a test can see that a restart made a fresh peer. */
export function toyFactory(others: () => readonly string[], talkative = true): PeerFactory<ToyMessage> {
  const incarnations = new Map<string, number>();
  return (address, rng) => {
    const incarnation = (incarnations.get(address) ?? 0) + 1;
    incarnations.set(address, incarnation);
    return new ToyPeer(address, others, rng, incarnation, talkative);
  };
}
