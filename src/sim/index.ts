/**
 * The deterministic simulator: one seed drives the clock, the network, the faults and the
 * workloads, and the production cores run inside it unchanged (DESIGN.md section 3).
 */
export { EventQueue } from './event-queue.js';
export type { FaultLog, FaultPlan } from './faults.js';
export { scheduleFaults } from './faults.js';
export type { ContactDirectory, TrafficCounts } from './kademlia-peer.js';
export { addressOf, emptyTrafficCounts, kademliaPeerFactory, SimulatedKademliaPeer, simulatedSignature, verifySimulatedSignature } from './kademlia-peer.js';
export type { NetworkSettings } from './network.js';
export { defaultNetworkSettings, NetworkModel, networkSettings } from './network.js';
export type { AddressedMessage, PeerFactory, SimulatedPeer } from './peer.js';
export type { SimulationOptions, SimulationStats } from './simulation.js';
export { Simulation } from './simulation.js';
export type { Distribution } from './statistics.js';
export { distribution, histogram, percentile } from './statistics.js';
export type { DhtReport, DhtWorkloadOptions } from './workloads/dht.js';
export { fullSizeDhtOptions, runDhtWorkload } from './workloads/dht.js';
