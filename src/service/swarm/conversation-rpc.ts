/**
 * Conversations over the network: the protocol between a gateway that has no replica of its
 * own (a gateway-only peer, see remote-conversations.ts) and the storage peers, and the storage
 * peers' side of it.
 *
 *   conversations.load   { conversationId, sessionToken? }  -> { messages, leaderId? }
 *   conversations.append { conversationId, messages }       -> { sessionToken, leaderId? }
 *
 * A storage peer runs each call with its local ConversationStore — the very classes a gateway
 * on a storage peer uses — so the consistency rules (session tokens, compare-and-set or merged
 * siblings) are the same whichever way a turn reaches the store. Every field is checked before
 * the store sees it, and every refusal crosses the wire as one of `conversationErrorCodes`, which
 * the gateway maps back to the CompletionError a local store would have thrown.
 *
 * Storage peers announce themselves in the DHT under `storageProviderKey()` (republished like
 * the compute peers' model records), so gateway-only peers find them without a list.
 */
import { createHash } from 'node:crypto';
import { chatRoles, chatMessagesMax, type ChatRole } from '../../model/chat-template.js';
import { valueBytesMax } from '../../replication/leader/index.js';
import { RpcHandlerError, type Logger, type Transport } from '../../net/index.js';
import type { DhtShell } from '../../p2p/dht/index.js';
import { sessionTokenCharactersMax } from '../../api/openai/constants.js';
import { CompletionError } from '../completion-backend.js';
import { conversationIdPattern, type ConversationMessage, type ConversationStore } from './conversations.js';

export const conversationLoadMethod = 'conversations.load';
export const conversationAppendMethod = 'conversations.append';

/** Messages one append may carry: a whole turn's messages (the API's limit) and the answer. */
export const messagesPerAppendMax = chatMessagesMax + 1;
/** A message id's pattern: gateways make 16 hex digits (newMessage); a little room for other writers. */
export const messageIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
/** How often a storage peer publishes its provider record again (records live an hour). */
export const storageRepublishMsDefault = 60_000;
/**
 * When no peer stored the record (the first storage peer of a swarm announces before anyone
 * joined), the next try comes after this long, doubling up to the republish interval: gateway-only
 * peers should not wait a whole interval to find the store.
 */
export const storageAnnounceRetryMsFirst = 1_000;

/**
 * What a storage peer answers a refused call with, and what each means to the gateway:
 * the first five are final (the same on every peer: the gateway reports them to the client),
 * UNAVAILABLE sends the gateway on to the next storage peer.
 */
export const conversationErrorCodes = {
  /** The conversation id is not one the store accepts (400, param conversation_id). */
  idInvalid: 'CONVERSATION_ID_INVALID',
  /** The session token is not one a previous turn returned (400, param x-nines-session). */
  sessionInvalid: 'CONVERSATION_SESSION_INVALID',
  /** The request is malformed (a gateway of another version?) (400). */
  requestInvalid: 'CONVERSATION_REQUEST_INVALID',
  /** The conversation would outgrow one value of the store (400, context_length_exceeded). */
  tooLong: 'CONVERSATION_TOO_LONG',
  /** Other turns keep writing the same conversation (503, retry). */
  busy: 'CONVERSATION_BUSY',
  /** The store cannot serve right now from this peer: no leader, a timeout, an unknown outcome. */
  unavailable: 'CONVERSATION_UNAVAILABLE',
  /** The stored conversation is unreadable (not written by a nines gateway); the same everywhere. */
  storeFailed: 'CONVERSATION_STORE_FAILED',
} as const;

/** The DHT key under which storage peers are recorded: 160 bits of SHA-256, like the model keys. */
export function storageProviderKey(): string {
  return createHash('sha256').update('nines-storage:conversations').digest('hex').slice(0, 40);
}

export interface LoadRequest {
  conversationId: string;
  sessionToken?: string;
}

export interface AppendRequest {
  conversationId: string;
  messages: ConversationMessage[];
}

export interface LoadResponse {
  messages: ConversationMessage[];
  /** The single-leader store's leader as this peer knows it: the best peer for the next append. */
  leaderId?: string;
}

export interface AppendResponse {
  sessionToken: string;
  leaderId?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why `value` is not a list of well-formed messages, or the list rebuilt with only its known fields. */
export function parseMessageList(value: unknown, countMax: number): ConversationMessage[] | { problem: string } {
  if (!Array.isArray(value)) return { problem: 'messages must be an array' };
  if (value.length > countMax) return { problem: `messages holds ${value.length} messages, over the limit of ${countMax}` };
  const messages: ConversationMessage[] = [];
  let contentBytes = 0;
  for (const [index, message] of value.entries()) {
    if (!isRecord(message)) return { problem: `messages[${index}] must be an object` };
    const { id, role, content, atMs } = message;
    if (typeof id !== 'string' || !messageIdPattern.test(id)) return { problem: `messages[${index}].id must be 1 to 64 letters, digits, "-" or "_"` };
    if (!(chatRoles as readonly unknown[]).includes(role)) return { problem: `messages[${index}].role must be one of ${chatRoles.join(', ')}` };
    if (typeof content !== 'string') return { problem: `messages[${index}].content must be a string` };
    if (typeof atMs !== 'number' || !Number.isSafeInteger(atMs) || atMs < 0) return { problem: `messages[${index}].atMs must be milliseconds since the epoch` };
    // Content only grows once stored as JSON: more than one value's worth can never be stored.
    contentBytes += Buffer.byteLength(content);
    if (contentBytes > valueBytesMax) return { problem: `the messages hold more than ${valueBytesMax} bytes of content, more than one conversation may keep` };
    messages.push({ id, role: role as ChatRole, content, atMs });
  }
  return messages;
}

/** Why a load request is malformed, or the request itself. */
export function parseLoadRequest(body: unknown): LoadRequest | { code: string; problem: string } {
  if (!isRecord(body)) return { code: conversationErrorCodes.requestInvalid, problem: 'the request must be an object { conversationId, sessionToken? }' };
  const { conversationId, sessionToken } = body;
  if (typeof conversationId !== 'string' || !conversationIdPattern.test(conversationId)) {
    return { code: conversationErrorCodes.idInvalid, problem: 'conversation_id must be 1 to 128 letters, digits, ".", "_", ":" or "-"' };
  }
  if (sessionToken === undefined || sessionToken === null) return { conversationId };
  if (typeof sessionToken !== 'string' || sessionToken.length > sessionTokenCharactersMax || !/^[\x21-\x7e]*$/.test(sessionToken)) {
    return { code: conversationErrorCodes.sessionInvalid, problem: `the session token must be the x-nines-session value a previous turn returned: at most ${sessionTokenCharactersMax} printable ASCII characters` };
  }
  return { conversationId, sessionToken };
}

/** Why an append request is malformed, or the request with its messages rebuilt. */
export function parseAppendRequest(body: unknown): AppendRequest | { code: string; problem: string } {
  if (!isRecord(body)) return { code: conversationErrorCodes.requestInvalid, problem: 'the request must be an object { conversationId, messages }' };
  const { conversationId } = body;
  if (typeof conversationId !== 'string' || !conversationIdPattern.test(conversationId)) {
    return { code: conversationErrorCodes.idInvalid, problem: 'conversation_id must be 1 to 128 letters, digits, ".", "_", ":" or "-"' };
  }
  const messages = parseMessageList(body.messages, messagesPerAppendMax);
  if ('problem' in messages) return { code: conversationErrorCodes.requestInvalid, problem: messages.problem };
  if (messages.length === 0) return { code: conversationErrorCodes.requestInvalid, problem: 'an append must carry at least one message' };
  return { conversationId, messages };
}

/** The wire code of an error thrown by a ConversationStore on a storage peer. */
export function wireCodeOf(error: unknown): string {
  if (error instanceof CompletionError) {
    if (error.code === 'context_length_exceeded') return conversationErrorCodes.tooLong;
    if (error.code === 'server_busy') return conversationErrorCodes.busy;
    if (error.param === 'x-nines-session') return conversationErrorCodes.sessionInvalid;
    if (error.param === 'conversation_id') return conversationErrorCodes.idInvalid;
    return conversationErrorCodes.requestInvalid;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'KV_COMMAND_INVALID') return conversationErrorCodes.requestInvalid;
  if (code === 'KV_TOO_MANY_SIBLINGS') return conversationErrorCodes.busy;
  // Every other typed error (no leader, a timeout, an unknown outcome, a network failure
  // between replicas) is about this peer's view right now: another peer may do better.
  if (typeof code === 'string') return conversationErrorCodes.unavailable;
  // An untyped error is the store's parse of a value it cannot read, the same on every replica.
  return conversationErrorCodes.storeFailed;
}

export interface ConversationRpcServerParts {
  transport: Pick<Transport, 'handle'>;
  store: ConversationStore;
  /** The single-leader store's current leader, when there is one to name. */
  leaderId?: () => string | undefined;
  dht?: Pick<DhtShell, 'provide'>;
  logger: Logger;
  republishMs?: number;
}

/** A storage peer's side: answers conversations.load and conversations.append with its local store. */
export class ConversationRpcServer {
  private readonly timer: ReturnType<typeof setInterval> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryMs = storageAnnounceRetryMsFirst;
  private stopped = false;

  constructor(private readonly parts: ConversationRpcServerParts) {
    parts.transport.handle(conversationLoadMethod, (body) => this.load(body));
    parts.transport.handle(conversationAppendMethod, (body) => this.append(body));
    if (parts.dht !== undefined) {
      this.timer = setInterval(() => void this.announce(), parts.republishMs ?? storageRepublishMsDefault);
      this.timer.unref();
    }
  }

  /** Publishes the storage provider record now (also done periodically); resolves with whether any peer stored it. */
  async announce(): Promise<boolean> {
    if (this.parts.dht === undefined || this.stopped) return false;
    let stored = false;
    try {
      stored = (await this.parts.dht.provide(storageProviderKey())).ok;
    } catch (error) {
      this.parts.logger.warn({ error: (error as Error).message }, 'could not publish the storage provider record');
    }
    if (stored) {
      this.retryMs = storageAnnounceRetryMsFirst;
    } else if (this.retryTimer === undefined && !this.stopped) {
      this.parts.logger.info({ retryMs: this.retryMs }, 'no peer stored the storage provider record yet; trying again');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.announce();
      }, this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(this.retryMs * 2, this.parts.republishMs ?? storageRepublishMsDefault);
    }
    return stored;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
  }

  private async load(body: unknown): Promise<LoadResponse> {
    const request = parseLoadRequest(body);
    if ('problem' in request) throw new RpcHandlerError(request.code, request.problem);
    const messages = await this.run(() => this.parts.store.load(request.conversationId, request.sessionToken), 'load', request.conversationId);
    return { messages, ...this.leader() };
  }

  private async append(body: unknown): Promise<AppendResponse> {
    const request = parseAppendRequest(body);
    if ('problem' in request) throw new RpcHandlerError(request.code, request.problem);
    const { sessionToken } = await this.run(() => this.parts.store.append(request.conversationId, request.messages), 'append', request.conversationId);
    return { sessionToken, ...this.leader() };
  }

  private async run<T>(operation: () => Promise<T>, what: string, conversationId: string): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      const code = wireCodeOf(error);
      const message = error instanceof Error ? error.message : String(error);
      if (code === conversationErrorCodes.storeFailed) this.parts.logger.warn({ conversationId, error: message }, `a remote gateway's conversation ${what} failed`);
      throw new RpcHandlerError(code, message);
    }
  }

  private leader(): { leaderId?: string } {
    const leaderId = this.parts.leaderId?.();
    return leaderId === undefined ? {} : { leaderId };
  }
}
