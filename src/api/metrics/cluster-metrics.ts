/**
 * The swarm as this peer sees it: the DHT's routing table and traffic, the circuit
 * breakers in front of other peers, and the failure detector's and availability tracker's
 * view of who is up.
 */
import type { Registry } from 'prom-client';
import type { BreakerState, BreakerStatus } from '../../resilience/index.js';
import { metricPeersMax } from './constants.js';
import { peerLabeller, truncatedLabel } from './labels.js';
import { snapshotCounter, snapshotGauge } from './snapshot-metrics.js';
import { peerHealthStates, type AvailabilitySnapshot, type DhtSnapshot, type SourceReader } from './sources.js';

const breakerStates: readonly BreakerState[] = ['closed', 'open', 'half-open'];
const otherPeersNote = `peers past the first ${metricPeersMax} are summed under peer="other"`;

export function registerDhtMetrics(registry: Registry, reader: SourceReader<DhtSnapshot>): void {
  snapshotGauge(registry, reader, { name: 'dht_routing_table_peers', help: 'Contacts in this peer\'s Kademlia routing table.' }, (dht, add) => add(dht.routingTableSize));
  snapshotGauge(registry, reader, { name: 'dht_stored_records', help: 'DHT records (provider records and values) this peer stores for the network.' }, (dht, add) => add(dht.storedRecords));
  const counter = (name: string, help: string, value: (dht: DhtSnapshot) => number) => snapshotCounter(registry, reader, { name, help }, (dht, add) => add(value(dht)));
  counter('dht_requests_sent_total', 'Kademlia requests this peer sent.', (dht) => dht.stats.requestsSent);
  counter('dht_requests_timed_out_total', 'Kademlia requests this peer sent that got no answer in time.', (dht) => dht.stats.requestsTimedOut);
  counter('dht_requests_served_total', 'Kademlia requests from other peers that this peer answered.', (dht) => dht.stats.requestsServed);
  counter('dht_verifications_skipped_total', 'Pings to verify a new contact that were skipped because enough were out already.', (dht) => dht.stats.verificationsSkipped);
  counter('dht_invalid_signatures_total', 'DHT values whose signature did not verify, in stores and in answers.', (dht) => dht.stats.invalidSignatures);
  snapshotCounter(registry, reader, { name: 'dht_pings_sent_total', help: 'Pings this peer sent to verify a stranger before it enters the routing table, or to decide an eviction.', labelNames: ['purpose'] }, (dht, add) => {
    add(dht.stats.verificationPingsSent, { purpose: 'verification' });
    add(dht.stats.evictionPingsSent, { purpose: 'eviction' });
  });
  snapshotCounter(
    registry,
    reader,
    { name: 'dht_messages_dropped_total', help: 'Kademlia messages dropped: malformed, answering nothing asked (late, duplicated or forged), or for want of room in the outbox.', labelNames: ['reason'] },
    (dht, add) => {
      add(dht.stats.malformedDropped, { reason: 'malformed' });
      add(dht.stats.unexpectedDropped, { reason: 'unexpected' });
      add(dht.stats.outboxOverflowDropped, { reason: 'outbox_overflow' });
    },
  );
}

export function registerBreakerMetrics(registry: Registry, reader: SourceReader<readonly BreakerStatus[]>): void {
  const labelled = (name: string, help: string, labelNames: string[], fill: (breaker: BreakerStatus, add: (value: number, extra?: Record<string, string>) => void) => void) =>
    snapshotGauge(registry, reader, { name, help: `${help} (${otherPeersNote}).`, labelNames }, (breakers, add) => {
      const label = peerLabeller(breakers.map((breaker) => breaker.peerId), metricPeersMax);
      for (const breaker of breakers) {
        const labels = { peer: label(breaker.peerId), path: truncatedLabel(breaker.path) };
        fill(breaker, (value, extra) => add(value, { ...labels, ...extra }));
      }
    });
  labelled('breaker_state', 'Circuit breakers in front of other peers, by peer and RPC path: 1 for the current state, 0 for the others', ['peer', 'path', 'state'], (breaker, add) => {
    if (!breakerStates.includes(breaker.state)) throw new TypeError(`the breaker of ${breaker.peerId} ${breaker.path} is ${JSON.stringify(breaker.state)}, not closed, open or half-open`);
    for (const state of breakerStates) add(breaker.state === state ? 1 : 0, { state });
  });
  labelled('breaker_window_calls', 'Calls through each circuit breaker in its rolling window', ['peer', 'path'], (breaker, add) => add(breaker.calls));
  labelled('breaker_window_failures', 'Failed calls through each circuit breaker in its rolling window', ['peer', 'path'], (breaker, add) => add(breaker.failures));
  labelled('breaker_window_rejected', 'Calls each circuit breaker refused (open) in its rolling window', ['peer', 'path'], (breaker, add) => add(breaker.rejected));
  snapshotGauge(registry, reader, { name: 'breakers', help: 'Circuit breakers of this peer in each state, over all peers and paths.', labelNames: ['state'] }, (breakers, add) => {
    for (const state of breakerStates) add(breakers.filter((breaker) => breaker.state === state).length, { state });
  });
}

export function registerAvailabilityMetrics(registry: Registry, reader: SourceReader<AvailabilitySnapshot>): void {
  snapshotGauge(
    registry,
    reader,
    { name: 'peer_state', help: `Each peer's state as this peer's failure detector sees it: 1 for the current one, 0 for the others (${otherPeersNote}).`, labelNames: ['peer', 'state'] },
    (snapshot, add) => {
      const label = peerLabeller(snapshot.peers.map((entry) => entry.peer), metricPeersMax);
      for (const entry of snapshot.peers) {
        if (!peerHealthStates.includes(entry.state)) throw new TypeError(`peer ${entry.peer} has state ${JSON.stringify(entry.state)}, not up, suspect or down`);
        for (const state of peerHealthStates) add(entry.state === state ? 1 : 0, { peer: label(entry.peer), state });
      }
    },
  );
  snapshotGauge(registry, reader, { name: 'peers', help: 'Peers in each state as this peer\'s failure detector sees them.', labelNames: ['state'] }, (snapshot, add) => {
    for (const state of peerHealthStates) add(snapshot.peers.filter((entry) => entry.state === state).length, { state });
  });
  snapshotGauge(registry, reader, { name: 'availability_ratio', help: 'Measured availability, from 0 to 1: MTBF / (MTBF + MTTR), or successful requests over all requests.' }, (snapshot, add) => {
    if (snapshot.availability !== undefined) add(snapshot.availability);
  });
  snapshotGauge(registry, reader, { name: 'availability_nines', help: 'Measured availability as a number of nines (0.999 is 3); absent while there is nothing to count or no downtime yet.' }, (snapshot, add) => {
    // No downtime at all is infinitely many nines: left out rather than drawn as +Inf, which no plot can show.
    if (snapshot.nines !== undefined && snapshot.nines !== null && snapshot.nines !== Number.POSITIVE_INFINITY) add(snapshot.nines);
  });
}
