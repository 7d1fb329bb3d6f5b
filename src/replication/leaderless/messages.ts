/**
 * What leaderless peers send each other, and the validation every message gets on arrival:
 * messages cross the network, so a field that is missing, of the wrong type or too large is
 * refused with the reason rather than trusted.
 */
import { registerProblem, versionVectorProblem, type RegisterState } from '../versions/index.js';
import { antiEntropyMessageProblem, type AntiEntropyMessage } from './anti-entropy/index.js';
import { keyBytesMax, valueBytesMax } from '../leader/index.js';
import { pushStatesPerMessageMax, requestIdCharactersMax } from './settings.js';
import type { KvReply, KvRequest } from './types.js';

export type LeaderlessMessage =
  /** A replica write: merge `state` and acknowledge once persisted. `hintFor` names the down owner a stand-in keeps it for. */
  | { type: 'write'; requestId: string; key: string; state: RegisterState; hintFor: string | null; ackWanted: boolean }
  /** `stored` is false when a full stand-in refused to keep a hint: the write does not count. */
  | { type: 'write-ack'; requestId: string; key: string; stored: boolean }
  | { type: 'read'; requestId: string; key: string; hintFor: string | null }
  /** The replica's state for the key (null: it has none). */
  | { type: 'read-answer'; requestId: string; key: string; state: RegisterState | null }
  /** A put sent to a peer that is not one of the key's replicas goes to one that is, which coordinates it. */
  | { type: 'forward'; forwardId: string; request: KvRequest }
  | { type: 'forward-reply'; forwardId: string; reply: KvReply }
  /** A hint (hintId set) or a key the sender no longer owns (hintId null), handed to its owner. */
  | { type: 'handoff'; key: string; state: RegisterState; hintId: string | null }
  /** `digest` of the state handed: the sender forgets its copy only if it has not changed since. */
  | { type: 'handoff-ack'; key: string; hintId: string | null; digest: string }
  | { type: 'ae'; message: AntiEntropyMessage }
  /** Full states anti-entropy found different or missing on the receiver: merged like replica writes. */
  | { type: 'ae-push'; states: Array<{ key: string; state: RegisterState }> };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textProblem(value: unknown, name: string, bytesMax: number): string | undefined {
  if (typeof value !== 'string') return `${name} must be a string`;
  if (value.length > bytesMax || Buffer.byteLength(value) > bytesMax) return `${name} is longer than ${bytesMax} bytes`;
  return undefined;
}

export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'the key must be a non-empty string';
  return Buffer.byteLength(key) > keyBytesMax ? `the key is ${Buffer.byteLength(key)} bytes, more than keyBytesMax (${keyBytesMax})` : undefined;
}

function stateProblem(value: unknown): string | undefined {
  const problem = registerProblem(value);
  if (problem !== undefined) return problem;
  for (const sibling of (value as RegisterState).siblings) {
    if (sibling.value !== null && Buffer.byteLength(sibling.value) > valueBytesMax) return `a sibling value is larger than valueBytesMax (${valueBytesMax} bytes)`;
  }
  return undefined;
}

function optionalPeerProblem(value: unknown, name: string): string | undefined {
  if (value === null) return undefined;
  return textProblem(value, name, requestIdCharactersMax);
}

/** Why a client request is malformed, or undefined. Range checks against n happen in the node. */
export function requestProblem(request: unknown): string | undefined {
  if (!isRecord(request)) return 'a request must be an object';
  const idProblem = textProblem(request.requestId, 'requestId', requestIdCharactersMax);
  if (idProblem !== undefined) return idProblem;
  const problem = keyProblem(request.key);
  if (problem !== undefined) return problem;
  if (request.n !== undefined && !Number.isSafeInteger(request.n)) return 'n must be an integer';
  if (request.kind === 'get') {
    if (request.r !== undefined && !Number.isSafeInteger(request.r)) return 'r must be an integer';
    return undefined;
  }
  if (request.kind !== 'put') return `request kind must be get or put, got ${JSON.stringify(request.kind)}`;
  if (request.value !== null) {
    if (typeof request.value !== 'string') return 'a put value must be a string, or null to delete';
    if (Buffer.byteLength(request.value) > valueBytesMax) return `the value is ${Buffer.byteLength(request.value)} bytes, more than valueBytesMax (${valueBytesMax})`;
  }
  if (request.w !== undefined && !Number.isSafeInteger(request.w)) return 'w must be an integer';
  if (request.lastWriterWins !== undefined && typeof request.lastWriterWins !== 'boolean') return 'lastWriterWins must be true or false';
  if (request.context !== undefined) {
    const contextProblem = versionVectorProblem(request.context);
    if (contextProblem !== undefined) return `context: ${contextProblem}`;
  }
  return undefined;
}

function replyProblem(reply: unknown): string | undefined {
  if (!isRecord(reply)) return 'a reply must be an object';
  const idProblem = textProblem(reply.requestId, 'requestId', requestIdCharactersMax);
  if (idProblem !== undefined) return idProblem;
  if (reply.ok === true) {
    if (reply.kind !== 'get' && reply.kind !== 'put') return 'a reply kind must be get or put';
    if (!Array.isArray(reply.replicas) || reply.replicas.some((peer) => typeof peer !== 'string')) return 'a reply needs replicas, an array of peer ids';
    return stateProblem(reply.state);
  }
  if (reply.ok !== false) return 'a reply needs ok, true or false';
  if (!['KV_UNAVAILABLE', 'KV_TIMEOUT', 'KV_COMMAND_INVALID', 'KV_TOO_MANY_SIBLINGS'].includes(reply.code as string)) return 'an error reply has an unknown code';
  if (typeof reply.message !== 'string' || !Number.isSafeInteger(reply.answered) || !Number.isSafeInteger(reply.needed)) return 'an error reply needs message, answered and needed';
  return undefined;
}

/** Why `message` is not a valid leaderless message, or undefined when it is one. */
export function leaderlessMessageProblem(message: unknown): string | undefined {
  if (!isRecord(message)) return 'a leaderless message must be an object';
  const m = message;
  switch (m.type) {
    case 'write':
      if (typeof m.ackWanted !== 'boolean') return 'write: ackWanted must be a boolean';
      return textProblem(m.requestId, 'write: requestId', requestIdCharactersMax) ?? keyProblem(m.key) ?? optionalPeerProblem(m.hintFor, 'write: hintFor') ?? stateProblem(m.state);
    case 'write-ack':
      if (typeof m.stored !== 'boolean') return 'write-ack: stored must be a boolean';
      return textProblem(m.requestId, 'write-ack: requestId', requestIdCharactersMax) ?? keyProblem(m.key);
    case 'read':
      return textProblem(m.requestId, 'read: requestId', requestIdCharactersMax) ?? keyProblem(m.key) ?? optionalPeerProblem(m.hintFor, 'read: hintFor');
    case 'read-answer':
      return textProblem(m.requestId, 'read-answer: requestId', requestIdCharactersMax) ?? keyProblem(m.key) ?? (m.state === null ? undefined : stateProblem(m.state));
    case 'forward':
      return textProblem(m.forwardId, 'forward: forwardId', requestIdCharactersMax) ?? requestProblem(m.request);
    case 'forward-reply':
      return textProblem(m.forwardId, 'forward-reply: forwardId', requestIdCharactersMax) ?? replyProblem(m.reply);
    case 'handoff':
      return keyProblem(m.key) ?? optionalPeerProblem(m.hintId, 'handoff: hintId') ?? stateProblem(m.state);
    case 'handoff-ack':
      return keyProblem(m.key) ?? optionalPeerProblem(m.hintId, 'handoff-ack: hintId') ?? textProblem(m.digest, 'handoff-ack: digest', 128);
    case 'ae': {
      const problem = antiEntropyMessageProblem(m.message);
      return problem === undefined ? undefined : `ae: ${problem}`;
    }
    case 'ae-push': {
      if (!Array.isArray(m.states) || m.states.length === 0 || m.states.length > pushStatesPerMessageMax) return `ae-push: states must be an array of 1 to ${pushStatesPerMessageMax} items`;
      for (const item of m.states as unknown[]) {
        if (!isRecord(item)) return 'ae-push: each item must be {key, state}';
        const problem = keyProblem(item.key) ?? stateProblem(item.state);
        if (problem !== undefined) return `ae-push: ${problem}`;
      }
      return undefined;
    }
    default:
      return `unknown leaderless message type ${JSON.stringify(m.type)}`;
  }
}

/** A short description for simulator traces. */
export function describeLeaderlessMessage(message: LeaderlessMessage): string {
  switch (message.type) {
    case 'write':
    case 'read':
      return `${message.type} ${message.key}${message.hintFor === null ? '' : ` (hint for ${message.hintFor})`}`;
    case 'ae':
      return 'ae';
    case 'ae-push':
      return `ae-push ${message.states.length} states`;
    case 'forward':
    case 'forward-reply':
      return `${message.type} ${message.forwardId}`;
    default:
      return `${message.type} ${message.key}`;
  }
}
