/**
 * Durable state on SQLite (better-sqlite3, WAL, synchronous=FULL): the Raft log, hard state
 * and snapshots of a peer, one transaction per Ready, checked from end to end when loaded.
 */
export * from './errors.js';
export { RaftStore, raftDatabaseFileName, raftDatabasePath, raftSchemaVersion, type RaftStoreOptions, type RaftWrite } from './raft-store.js';
export { LeaderlessStore, leaderlessDatabaseFileName, type LeaderlessWrite } from './leaderless-store.js';
export { MultiLeaderStore, multiLeaderDatabaseFileName, type MultiLeaderWrite, type MultiLeaderStored } from './multi-leader-store.js';
