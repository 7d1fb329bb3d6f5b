/**
 * Single-leader replication: Raft in the style of etcd-io/raft (DESIGN.md section 5). A pure
 * core: `RaftNode` takes messages, ticks and proposals and hands back a `Ready` of plain data
 * that the shell persists, sends and applies.
 */
export { RaftNode } from './node.js';
export type { ProposeOptions, RaftNodeOptions, RaftStatus, Ready } from './node.js';
export type { AppendRequest, AppendResponse, Heartbeat, HeartbeatResponse, RaftMessage, RaftMessageType, ReadIndexRequest, ReadIndexResponse, SnapshotRequest, TimeoutNow, VoteRequest, VoteResponse } from './messages.js';
export { describeMessage } from './messages.js';
export type { Abandoned, Acknowledgement, AckLevel, Entry, EntryType, HardState, Membership, MembershipChange, PeerId, ProposalId, ReadRefusal, ReadState, Role, Snapshot, SnapshotMeta, SoftState } from './types.js';
export { defaultRaftSettings, raftSettings } from './settings.js';
export type { RaftSettings } from './settings.js';
export { CorruptStateError, LeadershipTransferRefusedError, MembershipChangeRefusedError, NotLeaderError, ProposalDroppedError, ProposalTooLargeError, RaftError, RaftSettingsError, ReadRefusedError } from './errors.js';
export { bootstrapStoredState, emptyStoredState } from './storage.js';
export type { StoredState } from './storage.js';
export { entryHash, genesisHash, makeEntry } from './hash.js';
export { verifyLog } from './verify.js';
export type { LogVerification } from './verify.js';
export { committedIndex, hasMajority, majority, voteOutcome } from './quorum.js';
export { decodeMembershipEntry, describeMembership, encodeMembershipEntry } from './membership.js';
export { decodeKvCommand, encodeKvCommand, KvCommandError, KvStateMachine, keyBytesMax, valueBytesMax } from './kv.js';
export type { AppliedCommand, KvCommand, KvResult } from './kv.js';
