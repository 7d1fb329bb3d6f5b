/**
 * Conversations for a gateway-only peer: the ConversationStore of a gateway with no replica of
 * its own, which reads and appends through the storage peers' conversations.load / .append RPCs
 * (conversation-rpc.ts).
 *
 * Which storage peers: both sources, joined. The `--storage-peers` contacts given at start are
 * used at once (no lookup before the first turn) and stay usable when the DHT is not; the
 * storage peers' DHT provider records (`storageProviderKey()`) add those that joined later, and
 * are looked up again in the background once the list is older than `refreshMs`. With neither,
 * the first turn waits for the lookup.
 *
 * Which one first: the peer that answered last (its connection is open and it was healthy),
 * except that an append goes first to the single-leader store's leader as the last answer named
 * it — a follower would only forward it there. Peers that failed moments ago, or whose circuit
 * breaker is open, come last. On a refusal that another peer may not share (no leader, a
 * timeout) or a network failure the call moves to the next peer, round after round with a short
 * pause, until `deadlineMs` has passed; a refusal that every peer would repeat (a bad id, a
 * conversation too long) is reported at once.
 *
 * Session tokens pass through untouched: they are the store's own (a Raft log index, or a
 * version vector), valid on every storage peer, so read-after-write holds across peers.
 */
import type { Logger, Transport } from '../../net/index.js';
import type { DhtShell } from '../../p2p/dht/index.js';
import type { Contact } from '../../p2p/identity/index.js';
import { CircuitBreakers } from '../../resilience/index.js';
import { CompletionError } from '../completion-backend.js';
import type { ConversationMessage, ConversationStore } from './conversations.js';
import {
  conversationAppendMethod,
  conversationErrorCodes,
  conversationLoadMethod,
  parseMessageList,
  storageProviderKey,
  type AppendResponse,
} from './conversation-rpc.js';

/** How long one load or append may take across every peer it tries. */
export const conversationDeadlineMsDefault = 12_000;
/**
 * How long one peer may take to answer. Above the storage peers' own operation timeout
 * (kvOperationTimeoutMs, 5 s), so that a slow store answers "unavailable" before we give up.
 */
export const attemptTimeoutMsDefault = 6_000;
/** Calls one operation makes at most, across all peers and rounds (the deadline usually ends it first). */
export const attemptsPerOperationMax = 32;
/** The pause after a round in which every peer failed: doubling from the first to the last. */
export const roundPauseMsFirst = 50;
export const roundPauseMsMax = 800;
/** How long the DHT's list of storage peers is used before it is looked up again. */
export const storagePeersRefreshMsDefault = 5_000;
/** How long a peer that failed at the network level goes to the back of the list. */
export const storageSuspectMsDefault = 2_000;
/** Storage peers asked for per lookup, and known at most. */
export const storagePeersMax = 64;

type Method = typeof conversationLoadMethod | typeof conversationAppendMethod;

export interface RemoteConversationsParts {
  transport: Pick<Transport, 'request'>;
  /** Where storage peers announce themselves; without it only `contacts` are used. */
  dht?: Pick<DhtShell, 'findProviders'>;
  /** Storage peers given at start (`nines node --storage-peers`). */
  contacts?: readonly Contact[];
  /** The gateway's breakers (shared with its compute directory, so status shows them together). */
  breakers?: CircuitBreakers;
  logger: Logger;
  deadlineMs?: number;
  attemptTimeoutMs?: number;
  refreshMs?: number;
  suspectMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** A storage peer's refusal: it answered, so it is alive; `final` when every peer would say the same. */
class Refusal {
  constructor(
    readonly code: string,
    readonly message: string,
  ) {}

  get final(): boolean {
    return this.code !== conversationErrorCodes.unavailable;
  }
}

export class RemoteConversations implements ConversationStore {
  /** The `--storage-peers` contacts, kept for good. */
  private readonly given = new Map<string, Contact>();
  /** The storage peers the last DHT lookup found, replaced by the next one. */
  private discovered = new Map<string, Contact>();
  private discoveredAtMs: number | undefined;
  private readonly suspectedUntilMs = new Map<string, number>();
  private refreshing: Promise<void> | undefined;
  private lastAnswered: string | undefined;
  private leaderHint: string | undefined;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly ownBreakers: boolean;
  readonly breakers: CircuitBreakers;

  constructor(private readonly parts: RemoteConversationsParts) {
    for (const contact of (parts.contacts ?? []).slice(0, storagePeersMax)) this.given.set(contact.nodeId, contact);
    this.now = parts.now ?? Date.now;
    this.sleep = parts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.ownBreakers = parts.breakers === undefined;
    this.breakers = parts.breakers ?? new CircuitBreakers();
  }

  async load(conversationId: string, sessionToken: string | undefined): Promise<ConversationMessage[]> {
    const body = { conversationId, ...(sessionToken !== undefined && { sessionToken }) };
    const response = await this.call(conversationLoadMethod, body, conversationId);
    const messages = parseMessageList((response as { messages?: unknown }).messages, Number.MAX_SAFE_INTEGER);
    if ('problem' in messages) throw new Error(`a storage peer answered conversations.load with a malformed conversation: ${messages.problem}`);
    return messages;
  }

  /**
   * Appends the turn's messages. A call whose outcome is unknown (the peer died or timed out
   * after the request left) is simply sent again, to the next peer: every message carries its
   * id and the store merges by id (mergeConversations), so messages already stored are not
   * added twice and a repeated append is idempotent.
   */
  async append(conversationId: string, messages: ConversationMessage[]): Promise<{ sessionToken: string }> {
    const response = (await this.call(conversationAppendMethod, { conversationId, messages }, conversationId)) as Partial<AppendResponse>;
    if (typeof response.sessionToken !== 'string') throw new Error('a storage peer answered conversations.append without a session token');
    return { sessionToken: response.sessionToken };
  }

  /** Storage peers known now, and what this gateway believes of each, for status pages. */
  view(): Array<{ id: string; suspected: boolean; breakerOpen: boolean; leader: boolean; lastAnswered: boolean }> {
    const now = this.now();
    return this.knownIds().map((id) => ({
      id,
      suspected: (this.suspectedUntilMs.get(id) ?? 0) > now,
      breakerOpen: this.breakers.isOpen(id, conversationLoadMethod) || this.breakers.isOpen(id, conversationAppendMethod),
      leader: id === this.leaderHint,
      lastAnswered: id === this.lastAnswered,
    }));
  }

  close(): void {
    if (this.ownBreakers) this.breakers.close();
  }

  /** Tries peer after peer, round after round, until one answers or the deadline passes. */
  private async call(method: Method, body: unknown, conversationId: string): Promise<unknown> {
    const deadlineMs = this.now() + (this.parts.deadlineMs ?? conversationDeadlineMsDefault);
    const failures: string[] = [];
    let attempts = 0;
    for (let round = 0; round < attemptsPerOperationMax && attempts < attemptsPerOperationMax; round++) {
      const candidates = await this.candidates(method);
      if (candidates.length === 0) failures.push('no storage peer is known (none given with --storage-peers, none found in the DHT)');
      for (const peer of candidates) {
        const remainingMs = deadlineMs - this.now();
        if (remainingMs <= 0 || attempts >= attemptsPerOperationMax) break;
        attempts++;
        const outcome = await this.attempt(peer, method, body, Math.min(remainingMs, this.parts.attemptTimeoutMs ?? attemptTimeoutMsDefault));
        if (outcome instanceof Refusal) {
          if (outcome.final) throw completionErrorOf(outcome);
          this.parts.logger.debug({ peer, method, refusal: outcome.message }, 'storage peer cannot serve the conversation right now; trying the next');
          failures.push(`${peer.slice(0, 8)}: ${outcome.message}`);
          continue;
        }
        if (outcome instanceof Error) {
          failures.push(`${peer.slice(0, 8)}: ${outcome.message}`);
          continue;
        }
        this.lastAnswered = peer;
        const leaderId = (outcome as { leaderId?: unknown }).leaderId;
        if (typeof leaderId === 'string') this.leaderHint = leaderId;
        return outcome;
      }
      const remainingMs = deadlineMs - this.now();
      if (remainingMs <= 0) break;
      // Everyone failed this round: the peers may have changed (look again) or an election may be under way (wait a little).
      this.startRefresh();
      await this.sleep(Math.min(remainingMs, Math.min(roundPauseMsMax, roundPauseMsFirst * 2 ** round)));
    }
    const verb = method === conversationLoadMethod ? 'read' : 'append to';
    throw new CompletionError('server_busy', `no storage peer could ${verb} conversation ${conversationId} in time (${attempts} attempts; the last: ${failures.at(-1) ?? 'none'}); retry shortly`);
  }

  /**
   * One call to one peer, through its breaker. A peer's refusal is returned from inside the
   * breaker, not thrown: the peer answered, so it is healthy — "no leader right now" must not
   * open every storage peer's breaker during an election. Network failures are thrown there,
   * and count.
   */
  private async attempt(peer: string, method: Method, body: unknown, timeoutMs: number): Promise<unknown> {
    const contact = this.given.get(peer) ?? this.discovered.get(peer);
    if (contact === undefined) return new Error('no address known');
    try {
      return await this.breakers.call(peer, method, async () => {
        try {
          return await this.parts.transport.request({ host: contact.host, port: contact.port, nodeId: peer }, method, body, { timeoutMs });
        } catch (error) {
          const remoteCode = (error as { remoteCode?: unknown }).remoteCode;
          if (typeof remoteCode === 'string' && Object.values<string>(conversationErrorCodes).includes(remoteCode)) {
            return new Refusal(remoteCode, (error as { remoteMessage?: string }).remoteMessage ?? (error as Error).message);
          }
          throw error;
        }
      });
    } catch (error) {
      this.suspectedUntilMs.set(peer, this.now() + (this.parts.suspectMs ?? storageSuspectMsDefault));
      if (this.lastAnswered === peer) this.lastAnswered = undefined;
      if (this.leaderHint === peer) this.leaderHint = undefined;
      this.parts.logger.info({ peer, method, error: (error as Error).message }, 'storage peer failed a conversation call; trying the next');
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  /** The peers to try, best first (see the file's comment). */
  private async candidates(method: Method): Promise<string[]> {
    await this.ensureDiscovered();
    const known = this.knownIds();
    const preferred = method === conversationAppendMethod ? [this.leaderHint, this.lastAnswered] : [this.lastAnswered, this.leaderHint];
    const ordered = [...new Set([...preferred.filter((id): id is string => id !== undefined && known.includes(id)), ...known])];
    const now = this.now();
    const healthy = (id: string) => (this.suspectedUntilMs.get(id) ?? 0) <= now && !this.breakers.isOpen(id, method);
    return [...ordered.filter(healthy), ...ordered.filter((id) => !healthy(id))];
  }

  private knownIds(): string[] {
    return [...new Set([...this.given.keys(), ...this.discovered.keys()])];
  }

  /** Waits for a lookup only when no peer is known yet; otherwise refreshes in the background when stale. */
  private async ensureDiscovered(): Promise<void> {
    if (this.parts.dht === undefined) return;
    if (this.given.size === 0 && this.discovered.size === 0) {
      this.startRefresh();
      await this.refreshing;
      return;
    }
    const stale = this.discoveredAtMs === undefined || this.now() - this.discoveredAtMs >= (this.parts.refreshMs ?? storagePeersRefreshMsDefault);
    if (stale) this.startRefresh();
  }

  private startRefresh(): void {
    const dht = this.parts.dht;
    if (dht === undefined || this.refreshing !== undefined) return;
    this.refreshing = (async () => {
      try {
        const result = await dht.findProviders(storageProviderKey(), storagePeersMax);
        this.discovered = new Map(result.providers.slice(0, storagePeersMax).map((contact) => [contact.nodeId, contact]));
      } catch (error) {
        // The peers found before stay usable: a failed lookup says nothing about them.
        this.parts.logger.warn({ error: (error as Error).message }, 'storage provider lookup failed');
      }
      this.discoveredAtMs = this.now();
    })().finally(() => (this.refreshing = undefined));
  }
}

/** A final refusal as the CompletionError a gateway on a storage peer would have thrown. */
function completionErrorOf(refusal: Refusal): Error {
  switch (refusal.code) {
    case conversationErrorCodes.idInvalid:
      return new CompletionError('invalid_request_error', refusal.message, 'conversation_id');
    case conversationErrorCodes.sessionInvalid:
      return new CompletionError('invalid_request_error', refusal.message, 'x-nines-session');
    case conversationErrorCodes.requestInvalid:
      return new CompletionError('invalid_request_error', refusal.message, 'messages');
    case conversationErrorCodes.tooLong:
      return new CompletionError('context_length_exceeded', refusal.message, 'conversation_id');
    case conversationErrorCodes.busy:
      return new CompletionError('server_busy', refusal.message);
    default:
      // The stored conversation cannot be read: a server error (500), not the client's fault.
      return new Error(`the storage peers cannot read this conversation: ${refusal.message}`);
  }
}
