/**
 * Replication (DESIGN.md section 5). Single-leader replication is Raft, in `leader/`; the
 * multi-leader and leaderless modes will live next to it.
 */
export * as leader from './leader/index.js';
