/**
 * The messages Raft peers exchange. Every message carries the sender's term; the names follow
 * the Raft paper (RequestVote, AppendEntries, InstallSnapshot) and etcd-io/raft's additions
 * (pre-vote, TimeoutNow, ReadIndex forwarding).
 */
import type { Entry, PeerId, Snapshot } from './types.js';

interface Envelope {
  readonly from: PeerId;
  readonly to: PeerId;
  readonly term: number;
}

/** Raft §5.2 RequestVote; with `type: 'preVote'` the dissertation's §9.6 pre-vote, sent for term + 1 without bumping the term. */
export interface VoteRequest extends Envelope {
  readonly type: 'preVote' | 'vote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Set when the election follows a TimeoutNow: voters then ignore their leader lease (dissertation §3.10). */
  readonly transfer: boolean;
}

export interface VoteResponse extends Envelope {
  readonly type: 'preVoteResponse' | 'voteResponse';
  readonly reject: boolean;
}

/** Raft §5.3 AppendEntries. */
export interface AppendRequest extends Envelope {
  readonly type: 'append';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendResponse extends Envelope {
  readonly type: 'appendResponse';
  /** On success the index the follower now matches; on rejection the `prevIndex` it rejected. */
  readonly index: number;
  readonly reject: boolean;
  /** On rejection, where the leader should try next: the follower's last index + 1, or the first index of its conflicting term. */
  readonly rejectHint: number;
}

/** An empty AppendEntries (Raft §5.2); `readContext` ties it to pending ReadIndex requests. */
export interface Heartbeat extends Envelope {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly readContext: number;
}

export interface HeartbeatResponse extends Envelope {
  readonly type: 'heartbeatResponse';
  readonly readContext: number;
}

/** Raft §7 InstallSnapshot, sent whole (the state machines this core serves are small). */
export interface SnapshotRequest extends Envelope {
  readonly type: 'snapshot';
  readonly snapshot: Snapshot;
}

/** Leadership transfer (dissertation §3.10): the target starts an election at once. */
export interface TimeoutNow extends Envelope {
  readonly type: 'timeoutNow';
}

/** A follower forwards a linearizable read to the leader (dissertation §6.4). */
export interface ReadIndexRequest extends Envelope {
  readonly type: 'readIndex';
  readonly requestId: string;
}

export interface ReadIndexResponse extends Envelope {
  readonly type: 'readIndexResponse';
  readonly requestId: string;
  /** The read index, or -1 when the receiver was not (or no longer) a leader able to serve reads. */
  readonly index: number;
}

export type RaftMessage =
  | VoteRequest | VoteResponse | AppendRequest | AppendResponse | Heartbeat | HeartbeatResponse
  | SnapshotRequest | TimeoutNow | ReadIndexRequest | ReadIndexResponse;

export type RaftMessageType = RaftMessage['type'];

/** A one-line description of a message, for traces and the scripted tests. */
export function describeMessage(message: RaftMessage): string {
  const head = `${message.from}->${message.to} ${message.type} term=${message.term}`;
  switch (message.type) {
    case 'preVote':
    case 'vote':
      return `${head} last=${message.lastLogIndex}@${message.lastLogTerm}${message.transfer ? ' transfer' : ''}`;
    case 'preVoteResponse':
    case 'voteResponse':
      return `${head}${message.reject ? ' reject' : ''}`;
    case 'append':
      return `${head} prev=${message.prevIndex}@${message.prevTerm} commit=${message.commit} entries=[${message.entries.map((entry) => `${entry.index}@${entry.term}${entry.type === 'normal' ? '' : ':' + entry.type}`).join(' ')}]`;
    case 'appendResponse':
      return `${head} index=${message.index}${message.reject ? ` reject hint=${message.rejectHint}` : ''}`;
    case 'heartbeat':
      return `${head} commit=${message.commit}${message.readContext > 0 ? ` read=${message.readContext}` : ''}`;
    case 'heartbeatResponse':
      return `${head}${message.readContext > 0 ? ` read=${message.readContext}` : ''}`;
    case 'snapshot':
      return `${head} snapshot=${message.snapshot.meta.index}@${message.snapshot.meta.term} voters=${message.snapshot.meta.membership.voters.join(',')}`;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} request=${message.requestId}`;
    case 'readIndexResponse':
      return `${head} request=${message.requestId} index=${message.index}`;
  }
}
