/**
 * A local swarm of peer processes on loopback, as a library (`nines start`, `nines chaos`).
 *
 * - local-swarm.ts     LocalSwarm: start, peers(), kill(index), restart(index), stop()
 * - peer-process.ts    one peer: its process, its readiness, its log
 * - control-server.ts  the loopback HTTP door through which a swarm's peers may kill and restart
 * - cluster-setup.ts   the cluster CA, API key and identities the peers need on disk
 */
export * from './constants.js';
export * from './errors.js';
export { LocalSwarm, type LocalSwarmOptions } from './local-swarm.js';
export type { LocalPeerState, LocalPeerView, PeerExit } from './peer-process.js';
export { peerIndexOf } from './control-server.js';
export { localKeyName } from './cluster-setup.js';
