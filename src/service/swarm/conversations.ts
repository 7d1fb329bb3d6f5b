/**
 * Conversations in the replicated store: each is one key (`conversation/<id>`) holding its
 * messages as JSON. A turn reads the conversation with the client's session token — so it
 * sees the last turn, whichever peer it reaches — and appends the new messages.
 *
 * - single-leader: the append is a compare-and-set on the JSON that was read, retried when
 *   another turn got there first, so concurrent turns are serialised and none is lost;
 * - multi-leader and leaderless: concurrent appends become siblings; a read merges them as a
 *   set of messages (by message id, ordered by time) and the next write, made with the read's
 *   context, replaces them with the union. No message is ever lost to a conflict.
 */
import { randomBytes } from 'node:crypto';
import type { ChatMessage, ChatRole } from '../../model/chat-template.js';
import { chatRoles } from '../../model/chat-template.js';
import { valueBytesMax } from '../../replication/leader/index.js';
import { decodeVector, encodeVector, type VersionVector } from '../../replication/versions/index.js';
import type { KvBackend } from '../../api/kv-routes.js';
import type { ReplicaKvBackend } from '../../api/replica-kv-routes.js';
import { CompletionError } from '../completion-backend.js';

export interface ConversationMessage extends ChatMessage {
  id: string;
  /** Milliseconds since the epoch, when the gateway recorded it: the order of a merged conversation. */
  atMs: number;
}

export interface ConversationStore {
  load(conversationId: string, sessionToken: string | undefined): Promise<ConversationMessage[]>;
  append(conversationId: string, messages: ConversationMessage[]): Promise<{ sessionToken: string }>;
}

/**
 * How long one store operation of a turn waits out an election, a lost leader or a replica that
 * does not answer, retrying, before the turn fails with server_busy (503, Retry-After). The
 * retries are safe: reads change nothing, and appends merge messages by id, so an append
 * whose first try did land is not stored twice.
 */
export const storeRetryDeadlineMs = 10_000;
const retryPauseMsFirst = 50;
const retryPauseMsMax = 500;
const retriedStoreCodes = new Set(['KV_UNAVAILABLE', 'KV_TIMEOUT', 'KV_OUTCOME_UNKNOWN']);

/** Runs a store operation, again and again while the store is only briefly unavailable. */
export async function untilStored<T>(operation: () => Promise<T>, what: string, deadlineMs = storeRetryDeadlineMs): Promise<T> {
  if (deadlineMs === 0) return operation();
  const giveUpAt = Date.now() + deadlineMs;
  let pauseMs = retryPauseMsFirst;
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !retriedStoreCodes.has(code)) throw error;
      if (Date.now() + pauseMs >= giveUpAt) {
        throw new CompletionError('server_busy', `the replicated store could not ${what} within ${deadlineMs / 1000} s (${(error as Error).message}); retry shortly`);
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(retryPauseMsMax, pauseMs * 2);
    }
  }
}

/** Compare-and-set rounds an append tries before it reports contention. */
export const appendAttemptsMax = 8;
/** The same alphabet the API accepts (schemas.ts): letters, digits, '.', '_', ':' and '-'. */
export const conversationIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

export function conversationKey(conversationId: string): string {
  if (!conversationIdPattern.test(conversationId)) {
    throw new CompletionError('invalid_request_error', 'conversation_id must be 1 to 128 letters, digits, ".", "_", ":" or "-"', 'conversation_id');
  }
  return `conversation/${conversationId}`;
}

export function newMessage(role: ChatRole, content: string, atMs: number): ConversationMessage {
  return { id: randomBytes(8).toString('hex'), role, content, atMs };
}

function parseMessages(text: string, key: string): ConversationMessage[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${key} in the store is not JSON; it was not written by a nines gateway`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${key} in the store is not a list of messages`);
  for (const message of parsed as Partial<ConversationMessage>[]) {
    if (typeof message?.id !== 'string' || !chatRoles.includes(message.role as ChatRole) || typeof message.content !== 'string' || typeof message.atMs !== 'number') {
      throw new Error(`${key} in the store holds a malformed message`);
    }
  }
  return parsed as ConversationMessage[];
}

/** The union of message lists, by id, in time order (ties by id, so every replica orders alike). */
export function mergeConversations(lists: readonly ConversationMessage[][]): ConversationMessage[] {
  const byId = new Map<string, ConversationMessage>();
  for (const list of lists) for (const message of list) byId.set(message.id, message);
  return [...byId.values()].sort((left, right) => left.atMs - right.atMs || (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
}

function encodeMessages(messages: ConversationMessage[], conversationId: string): string {
  const text = JSON.stringify(messages);
  if (Buffer.byteLength(text) > valueBytesMax) {
    throw new CompletionError('context_length_exceeded', `conversation ${conversationId} would exceed ${valueBytesMax} bytes in the store; start a new conversation`, 'conversation_id');
  }
  return text;
}

export interface ConversationStoreOptions {
  /**
   * How long to wait out an unavailable store (default storeRetryDeadlineMs). 0 answers at
   * once with the store's own error: what a storage peer serving remote gateways wants, since
   * the gateway itself moves on to another storage peer.
   */
  retryDeadlineMs?: number;
}

/** Conversations on a single-leader (Raft) store. */
export class RaftConversations implements ConversationStore {
  private readonly retryDeadlineMs: number;

  constructor(
    private readonly store: KvBackend,
    options: ConversationStoreOptions = {},
  ) {
    this.retryDeadlineMs = options.retryDeadlineMs ?? storeRetryDeadlineMs;
  }

  async load(conversationId: string, sessionToken: string | undefined): Promise<ConversationMessage[]> {
    const key = conversationKey(conversationId);
    const session = sessionToken === undefined ? undefined : Number(sessionToken);
    if (session !== undefined && !(Number.isSafeInteger(session) && session >= 0)) {
      throw new CompletionError('invalid_request_error', 'the session token must be the x-nines-session value a previous turn returned', 'x-nines-session');
    }
    const { value } = await untilStored(() => this.store.read(key, session === undefined ? 'linearizable' : 'session', session), `read ${key}`, this.retryDeadlineMs);
    return value === null ? [] : parseMessages(value, key);
  }

  async append(conversationId: string, messages: ConversationMessage[]): Promise<{ sessionToken: string }> {
    const key = conversationKey(conversationId);
    for (let attempt = 0; attempt < appendAttemptsMax; attempt++) {
      const { value } = await untilStored(() => this.store.read(key, 'linearizable'), `read ${key}`, this.retryDeadlineMs);
      const current = value === null ? [] : parseMessages(value, key);
      const next = encodeMessages(mergeConversations([current, messages]), conversationId);
      // A compare-and-set whose outcome was unknown and did land makes its retry fail: the next round reads it and finds the messages there.
      const outcome = await untilStored(() => this.store.write({ op: 'cas', key, expected: value, value: next }), `write ${key}`, this.retryDeadlineMs);
      if (outcome.result?.op === 'cas' && outcome.result.succeeded) return { sessionToken: String(outcome.index) };
    }
    throw new CompletionError('server_busy', `conversation ${conversationId} is being written by other turns at the same time; retry`);
  }
}

/** Conversations on a multi-leader or leaderless store: siblings merged as a set of messages. */
export class ReplicaConversations implements ConversationStore {
  private readonly retryDeadlineMs: number;

  constructor(
    private readonly store: ReplicaKvBackend,
    options: ConversationStoreOptions = {},
  ) {
    this.retryDeadlineMs = options.retryDeadlineMs ?? storeRetryDeadlineMs;
  }

  async load(conversationId: string, sessionToken: string | undefined): Promise<ConversationMessage[]> {
    return (await this.read(conversationKey(conversationId), sessionToken)).messages;
  }

  async append(conversationId: string, messages: ConversationMessage[]): Promise<{ sessionToken: string }> {
    const key = conversationKey(conversationId);
    const { messages: current, context } = await this.read(key, undefined);
    const next = encodeMessages(mergeConversations([current, messages]), conversationId);
    const written = await untilStored(() => this.store.put(key, next, { ...(context !== undefined && { context }), lastWriterWins: false }), `write ${key}`, this.retryDeadlineMs);
    return { sessionToken: written.session === undefined ? '' : encodeVector(written.session) };
  }

  private async read(key: string, sessionToken: string | undefined): Promise<{ messages: ConversationMessage[]; context?: VersionVector }> {
    let session: VersionVector | undefined;
    if (sessionToken !== undefined && sessionToken !== '') {
      const decoded = decodeVector(sessionToken);
      if ('problem' in decoded && typeof decoded.problem === 'string') throw new CompletionError('invalid_request_error', `the session token is not one a previous turn returned (${decoded.problem})`, 'x-nines-session');
      session = decoded as VersionVector;
    }
    const read = await untilStored(() => this.store.get(key, { local: false, ...(session !== undefined && { session }) }), `read ${key}`, this.retryDeadlineMs);
    if (read.kind !== 'register') return { messages: [] };
    return { messages: mergeConversations(read.values.map((value) => parseMessages(value, key))), context: read.context };
  }
}
