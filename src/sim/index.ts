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
export type { HistoryOperation, KvOperation, LinearizabilityReport, RegisterValue } from './checkers/linearizability.js';
export { bruteForceLinearizable, checkLinearizability, searchStepsMax, stepRegister } from './checkers/linearizability.js';
export { SimulatedDisk } from './raft/disk.js';
export type { DiskRecovery } from './raft/disk.js';
export type { ClientOperation, ClientOutcome, ClientRequest, ClientResponse, SimulatedRaftMessage } from './raft/messages.js';
export { SimulatedRaftServer } from './raft/server.js';
export type { ServerObserver, ServerOptions } from './raft/server.js';
export { SimulatedClient } from './raft/client.js';
export type { ClientOptions } from './raft/client.js';
export type { RaftRunReport } from './workloads/raft.js';
export { runRaftWorkload } from './workloads/raft.js';
export type { RaftRunSettings } from './workloads/raft-settings.js';
export { randomRaftRunSettings, raftTickMs } from './workloads/raft-settings.js';
export type { WeakRead } from './checkers/session.js';
export { checkWeakReads } from './checkers/session.js';
export type { WeakReadRecord } from './raft/client.js';
export type { ReadConsistency } from './raft/messages.js';
