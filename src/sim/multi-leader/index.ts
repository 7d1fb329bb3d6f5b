/**
 * The multi-leader simulation: production `MultiLeaderNode`s on simulated disks and a
 * simulated network, under crashes, partitions and a lossy network, held to no lost
 * acknowledged write, convergence after healing and read-your-writes (checkers.ts).
 */
export { runMultiLeaderWorkload } from './workload.js';
export type { MultiLeaderRunHooks, MultiLeaderRunReport } from './workload.js';
export { multiLeaderTickMs, randomMultiLeaderRunSettings } from './settings.js';
export type { MultiLeaderRunSettings } from './settings.js';
export { SimulatedMultiLeaderDisk } from './disk.js';
export { probeIntervalTicks, sessionReadsMax, SimulatedMultiLeaderPeer } from './peer.js';
export type { MultiLeaderMutation, MultiLeaderPeerOptions, SimulatedMultiLeaderMessage } from './peer.js';
export { divergence, holdsAppend, holdsPut, lostAcknowledgedWrites, missedOwnWrites, supersedes } from './checkers.js';
export type { AcknowledgedAppend, AcknowledgedPut, DurablePut } from './checkers.js';
export { sessionReadTimeoutMs, WorkloadClient, writeTimeoutMs } from './clients.js';
