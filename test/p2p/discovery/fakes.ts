/** Fakes of what discovery needs from the node (STYLE.md: dependencies arrive as components). */
import type { DiscoveryDht, PeerDialer } from '../../../src/p2p/discovery/index.js';
import type { Contact, OperationResult } from '../../../src/p2p/kademlia/index.js';

export function operationResult(ok: boolean, closest: readonly Contact[] = []): OperationResult {
  return {
    operationId: 1, kind: 'bootstrap', key: '0'.repeat(40), ok, error: null, closest, hops: 1, requests: 1, failures: ok ? 0 : 1,
    providers: [], values: [], stored: 0, refusals: [], startedTick: 0, finishedTick: 1,
  };
}

/** A DHT that records what it is offered and answers joins as told. */
export class FakeDht implements DiscoveryDht {
  readonly joins: Contact[][] = [];
  readonly offers: Contact[][] = [];
  constructor(private readonly answers: (contacts: readonly Contact[]) => boolean = () => true) {}

  join(contacts: readonly Contact[]): Promise<OperationResult> {
    this.joins.push([...contacts]);
    return Promise.resolve(operationResult(this.answers(contacts), contacts));
  }

  offerContacts(contacts: readonly Contact[]): Promise<OperationResult | undefined> {
    this.offers.push([...contacts]);
    return Promise.resolve(undefined);
  }

  offeredIds(): Set<string> {
    return new Set(this.offers.flat().map((contact) => contact.nodeId));
  }
}

/** A dialer that fails the first `failures` dials of each port, then connects. */
export class FlakyDialer implements PeerDialer {
  readonly dials: { port: number; atMs: number }[] = [];
  private readonly remaining = new Map<number, number>();
  constructor(failuresByPort: Record<number, number>) {
    for (const [port, failures] of Object.entries(failuresByPort)) this.remaining.set(Number(port), failures);
  }

  connect(address: { host: string; port: number }): Promise<unknown> {
    this.dials.push({ port: address.port, atMs: Date.now() });
    const left = this.remaining.get(address.port) ?? 0;
    if (left === 0) return Promise.resolve({});
    this.remaining.set(address.port, left - 1);
    return Promise.reject(new Error(`connection to port ${address.port} refused`));
  }
}
