/**
 * Raft messages arrive from the network: every one is checked here, field by field, before
 * the core sees it. The core asserts on impossible input (a programmer error); a peer's bad
 * bytes must never reach an assertion, so they are refused with the problem named.
 */
import type { RaftMessage } from '../../replication/leader/index.js';

/** Peer ids are node IDs (40 hex characters); anything much longer is not one. */
const peerIdCharactersMax = 128;
/** Entries in one append; the core sends at most its `appendEntriesMax` (64 by default). */
export const wireEntriesMax = 1024;

const messageTypes = new Set([
  'preVote', 'vote', 'preVoteResponse', 'voteResponse', 'append', 'appendResponse',
  'heartbeat', 'heartbeatResponse', 'snapshot', 'timeoutNow', 'readIndex', 'readIndexResponse',
]);
const entryTypes = new Set(['normal', 'configuration', 'empty']);
const hashPattern = /^[0-9a-f]{64}$/;

type Fields = Record<string, unknown>;

function isIndex(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPeerId(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= peerIdCharactersMax;
}

function entryProblem(value: unknown, position: number): string | undefined {
  if (typeof value !== 'object' || value === null) return `entry ${position} is not a map`;
  const entry = value as Fields;
  if (!isIndex(entry.index) || !isIndex(entry.term)) return `entry ${position} has a bad index or term`;
  if (!entryTypes.has(entry.type as string)) return `entry ${position} has an unknown type`;
  if (!(entry.data instanceof Uint8Array)) return `entry ${position} data is not bytes`;
  if (typeof entry.hash !== 'string' || !hashPattern.test(entry.hash)) return `entry ${position} hash is not 64 hex characters`;
  return undefined;
}

function snapshotProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'snapshot is not a map';
  const snapshot = value as Fields;
  const meta = snapshot.meta as Fields | undefined;
  if (typeof meta !== 'object' || meta === null) return 'snapshot meta is missing';
  if (!isIndex(meta.index) || !isIndex(meta.term) || typeof meta.hash !== 'string' || !hashPattern.test(meta.hash)) return 'snapshot meta has a bad index, term or hash';
  const membership = meta.membership as Fields | undefined;
  const peerList = (list: unknown) => Array.isArray(list) && list.every(isPeerId);
  if (typeof membership !== 'object' || membership === null || !peerList(membership.voters) || !peerList(membership.learners)) return 'snapshot membership is malformed';
  if (!(snapshot.data instanceof Uint8Array)) return 'snapshot data is not bytes';
  return undefined;
}

/** Why `value` is not a Raft message for `self` from `sender`, or undefined when it is one. */
export function raftMessageProblem(value: unknown, self: string, sender: string): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a Raft message must be a map';
  const message = value as Fields;
  if (!messageTypes.has(message.type as string)) return `unknown Raft message type ${JSON.stringify(message.type)}`;
  if (message.to !== self) return `message addressed to ${String(message.to)}, not to this peer`;
  // The sender is the node the TLS handshake proved; a message may not claim to be from another.
  if (message.from !== sender) return `message claims to be from ${String(message.from)} but came from ${sender}`;
  if (!isIndex(message.term)) return 'term is not a non-negative integer';
  switch (message.type) {
    case 'preVote':
    case 'vote':
      return isIndex(message.lastLogIndex) && isIndex(message.lastLogTerm) && typeof message.transfer === 'boolean' ? undefined : 'vote request fields are malformed';
    case 'preVoteResponse':
    case 'voteResponse':
      return typeof message.reject === 'boolean' ? undefined : 'vote response fields are malformed';
    case 'append': {
      if (!isIndex(message.prevIndex) || !isIndex(message.prevTerm) || !isIndex(message.commit)) return 'append fields are malformed';
      if (!Array.isArray(message.entries)) return 'append entries is not a list';
      if (message.entries.length > wireEntriesMax) return `append carries ${message.entries.length} entries, over ${wireEntriesMax}`;
      for (let position = 0; position < message.entries.length; position++) {
        const problem = entryProblem(message.entries[position], position);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    case 'appendResponse':
      return isIndex(message.index) && typeof message.reject === 'boolean' && isIndex(message.rejectHint) ? undefined : 'append response fields are malformed';
    case 'heartbeat':
      return isIndex(message.commit) && isIndex(message.readContext) ? undefined : 'heartbeat fields are malformed';
    case 'heartbeatResponse':
      return isIndex(message.readContext) ? undefined : 'heartbeat response fields are malformed';
    case 'snapshot':
      return snapshotProblem(message.snapshot);
    case 'timeoutNow':
      return undefined;
    case 'readIndex':
      return typeof message.requestId === 'string' && message.requestId.length <= 128 ? undefined : 'read index request id is malformed';
    case 'readIndexResponse':
      return typeof message.requestId === 'string' && message.requestId.length <= 128 && typeof message.index === 'number' && Number.isSafeInteger(message.index) && message.index >= -1
        ? undefined
        : 'read index response fields are malformed';
  }
  return 'unreachable';
}

/** The message, typed, once raftMessageProblem found nothing wrong. */
export function asRaftMessage(value: unknown): RaftMessage {
  return value as RaftMessage;
}

const ackLevels = new Set(['leader', 'quorum', 'all']);

/**
 * Why a write forwarded by another peer (`raft.client`) is malformed, or undefined. Every
 * field is checked here: a command that reached the log with, say, a number for a value
 * would fail on every replica that applies it.
 */
export function forwardedWriteProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'a forwarded write must be a map with a command';
  const { command, acks } = value as Fields;
  if (acks !== undefined && !ackLevels.has(acks as string)) return 'acks must be leader, quorum or all';
  if (typeof command !== 'object' || command === null) return 'the forwarded write carries no command';
  const fields = command as Fields;
  if (typeof fields.key !== 'string') return 'the command\'s key must be a string';
  const textOrNull = (item: unknown) => item === null || typeof item === 'string';
  switch (fields.op) {
    case 'put':
      return typeof fields.value === 'string' ? undefined : 'a put\'s value must be a string';
    case 'delete':
      return undefined;
    case 'cas':
      return textOrNull(fields.expected) && textOrNull(fields.value) ? undefined : 'a compare-and-set\'s expected value and value must be strings or null';
    default:
      return 'the command must be a put, delete or cas';
  }
}
