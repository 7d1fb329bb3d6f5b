/**
 * Conversations over the network with fakes: storage peers are real ConversationRpcServers over
 * one shared single-leader store (a map with a log index), reached through a fake transport
 * that can make a peer dead, leaderless, or die right after it applied a write.
 */
import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { ConnectFailedError, ConnectionClosedError, RpcHandlerError, RpcRemoteError, silentLogger, type RpcHandler, type Transport } from '../../../src/net/index.js';
import type { KvBackend } from '../../../src/api/kv-routes.js';
import type { KvWrite } from '../../../src/node/raft/raft-peer.js';
import { KvOutcomeUnknownError, KvUnavailableError } from '../../../src/node/raft/errors.js';
import { ReplicaError } from '../../../src/node/replica/errors.js';
import type { RaftStatus } from '../../../src/replication/leader/index.js';
import type { DhtShell } from '../../../src/p2p/dht/index.js';
import { CompletionError } from '../../../src/service/completion-backend.js';
import { CircuitBreakers } from '../../../src/resilience/index.js';
import { newMessage, RaftConversations, type ConversationMessage } from '../../../src/service/swarm/conversations.js';
import {
  ConversationRpcServer,
  conversationAppendMethod,
  conversationErrorCodes,
  conversationLoadMethod,
  parseAppendRequest,
  parseLoadRequest,
  storageProviderKey,
  wireCodeOf,
} from '../../../src/service/swarm/conversation-rpc.js';
import { RemoteConversations, type RemoteConversationsParts } from '../../../src/service/swarm/remote-conversations.js';

const idOf = (letter: string) => letter.repeat(40);
const contactOf = (letter: string, port: number) => ({ nodeId: idOf(letter), host: '127.0.0.1', port });

/** The replicated store as every peer sees it: one map, one log index; a session read past the index fails. */
function sharedStore(): KvBackend & { values: Map<string, string>; index: number } {
  const store = {
    values: new Map<string, string>(),
    index: 0,
    async write(command: KvWrite) {
      store.index++;
      const previous = store.values.get(command.key) ?? null;
      if (command.op === 'cas') {
        const succeeded = previous === command.expected;
        if (succeeded && command.value !== null) store.values.set(command.key, command.value);
        return { index: store.index, result: { op: 'cas' as const, succeeded, current: succeeded ? command.value : previous } };
      }
      if (command.op === 'put') store.values.set(command.key, command.value);
      return { index: store.index, result: { op: command.op, previous } };
    },
    async read(key: string, _consistency: string, session?: number) {
      if (session !== undefined && session > store.index) throw new Error(`session ${session} not reached`);
      return { value: store.values.get(key) ?? null, index: store.index };
    },
    status: () => ({}) as RaftStatus,
  };
  return store;
}

type Behaviour = 'healthy' | 'dead' | 'leaderless' | 'dies-after-write';

/** Storage peers a, b, c on one store, and the client's transport to them. */
function swarm(leader = idOf('a')) {
  const store = sharedStore();
  const behaviour = new Map<string, Behaviour>();
  const handlers = new Map<string, Map<string, RpcHandler>>();
  for (const letter of ['a', 'b', 'c']) {
    const peer = idOf(letter);
    behaviour.set(peer, 'healthy');
    const methods = new Map<string, RpcHandler>();
    handlers.set(peer, methods);
    // A leaderless peer's store refuses as RaftPeer does when no leader is known.
    const local: KvBackend = {
      read: (...args) => (behaviour.get(peer) === 'leaderless' ? Promise.reject(new KvUnavailableError('no leader is known right now', undefined)) : store.read(...args)),
      write: (...args) => (behaviour.get(peer) === 'leaderless' ? Promise.reject(new KvUnavailableError('no leader is known right now', undefined)) : store.write(...args)),
      status: store.status,
    };
    new ConversationRpcServer({ transport: { handle: (method, handler) => methods.set(method, handler) }, store: new RaftConversations(local, { retryDeadlineMs: 0 }), leaderId: () => leader, logger: silentLogger });
  }
  const calls: Array<{ peer: string; method: string }> = [];
  const transport = {
    async request(to: { nodeId?: string }, method: string, body: unknown) {
      const peer = to.nodeId!;
      calls.push({ peer, method });
      if (behaviour.get(peer) === 'dead') throw new ConnectFailedError(`cannot connect to ${peer.slice(0, 4)}: connection refused`);
      let answer: unknown;
      try {
        answer = await handlers.get(peer)!.get(method)!(body, {} as never);
      } catch (error) {
        // As the RPC layer does: a handler's RpcHandlerError reaches the caller as its code.
        if (error instanceof RpcHandlerError) throw new RpcRemoteError(error.remoteCode, error.message, method);
        throw new RpcRemoteError('RPC_HANDLER_FAILED', (error as Error).message, method);
      }
      if (behaviour.get(peer) === 'dies-after-write') {
        behaviour.set(peer, 'dead');
        throw new ConnectionClosedError('the connection closed before the answer arrived');
      }
      return answer;
    },
  } as unknown as Transport;
  let clockMs = 0;
  const client = (parts: Partial<RemoteConversationsParts> = {}) =>
    new RemoteConversations({
      transport, logger: silentLogger, contacts: [contactOf('a', 1), contactOf('b', 2), contactOf('c', 3)],
      now: () => clockMs, sleep: async (ms) => void (clockMs += ms), ...parts,
    });
  return { store, behaviour, calls, client, advance: (ms: number) => (clockMs += ms) };
}

const turn = (text: string, atMs: number): ConversationMessage[] => [newMessage('user', text, atMs), newMessage('assistant', `re: ${text}`, atMs + 1)];
const contents = (messages: ConversationMessage[]) => messages.map((message) => message.content);

describe('RemoteConversations: conversations through storage peers', () => {
  it('appends and loads through a peer, the session token passing through untouched', async () => {
    const { client, store } = swarm();
    const conversations = client();
    const { sessionToken } = await conversations.append('talk', turn('first', 1));
    expect(sessionToken).toBe(String(store.index));
    expect(contents(await conversations.load('talk', sessionToken))).toEqual(['first', 're: first']);
    // A token from the future is the store's to judge (here it refuses it): it reached the store as it was.
    await expect(conversations.load('talk', String(store.index + 5))).rejects.toThrow(/session 6 not reached|cannot read/);
  });

  it('moves on to the next storage peer when one is dead, and puts the dead one last afterwards', async () => {
    const { client, behaviour, calls } = swarm();
    behaviour.set(idOf('a'), 'dead');
    const conversations = client();
    await conversations.append('talk', turn('first', 1));
    expect(calls.map((call) => call.peer)).toEqual([idOf('a'), idOf('b')]);
    calls.length = 0;
    expect(contents(await conversations.load('talk', undefined))).toHaveLength(2);
    expect(calls.map((call) => call.peer), 'the peer that answered last is asked first').toEqual([idOf('b')]);
    expect(conversations.view().find((peer) => peer.id === idOf('a'))?.suspected).toBe(true);
  });

  it('sends appends to the leader the last answer named, loads to the peer that answered last', async () => {
    const { client, calls } = swarm(idOf('c'));
    const conversations = client();
    await conversations.load('talk', undefined);
    calls.length = 0;
    await conversations.append('talk', turn('first', 1));
    await conversations.load('talk', undefined);
    expect(calls).toEqual([{ peer: idOf('c'), method: conversationAppendMethod }, { peer: idOf('c'), method: conversationLoadMethod }]);
  });

  it('a retried append whose first try was applied before the peer died adds no message twice', async () => {
    const { client, behaviour, store } = swarm();
    const conversations = client();
    await conversations.append('talk', turn('first', 1));
    behaviour.set(idOf('a'), 'dies-after-write');
    const second = turn('second', 10);
    await conversations.append('talk', second);
    const stored = JSON.parse(store.values.get('conversation/talk')!) as ConversationMessage[];
    expect(contents(stored)).toEqual(['first', 're: first', 'second', 're: second']);
    expect(new Set(stored.map((message) => message.id)).size).toBe(4);
  });

  it('repeating any append any number of times, on any peers, stores each message once (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 6 }), async (plan) => {
        const { client, store } = swarm();
        const conversations = client();
        const turns = [0, 1, 2, 3].map((index) => turn(`turn ${index}`, 100 * index));
        for (const [index, repeats] of plan) for (let repeat = 0; repeat < repeats; repeat++) await conversations.append('talk', turns[index]);
        const stored = JSON.parse(store.values.get('conversation/talk')!) as ConversationMessage[];
        const expected = [...new Set(plan.map(([index]) => index))].sort().flatMap((index) => contents(turns[index]));
        expect(contents(stored)).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  it('a peer with no leader is passed over without counting against its breaker', async () => {
    const { client, behaviour, calls } = swarm();
    behaviour.set(idOf('a'), 'leaderless');
    behaviour.set(idOf('b'), 'leaderless');
    const breakers = new CircuitBreakers({ volumeThreshold: 1 });
    const conversations = client({ breakers });
    for (let round = 0; round < 5; round++) await conversations.load('talk', undefined);
    expect(calls.filter((call) => call.peer === idOf('c'))).toHaveLength(5);
    expect(breakers.isOpen(idOf('a'))).toBe(false);
    breakers.close();
  });

  it('opens a dead peer\'s breaker after repeated network failures; it is tried last', async () => {
    const { client, behaviour, calls } = swarm();
    behaviour.set(idOf('a'), 'dead');
    // Fresh gateways' stores sharing one set of breakers, so that each asks the first peer first.
    const breakers = new CircuitBreakers({ volumeThreshold: 2 });
    for (let round = 0; round < 2; round++) await client({ breakers }).load('talk', undefined);
    expect(calls.filter((call) => call.peer === idOf('a'))).toHaveLength(2);
    expect(breakers.isOpen(idOf('a'), conversationLoadMethod)).toBe(true);
    calls.length = 0;
    await client({ breakers, suspectMs: 0 }).load('talk', undefined);
    expect(calls.map((call) => call.peer)).toEqual([idOf('b')]);
    breakers.close();
  });

  it('keeps trying round after round until the deadline, then refuses as busy (503)', async () => {
    const { client, behaviour, calls } = swarm();
    for (const letter of ['a', 'b', 'c']) behaviour.set(idOf(letter), 'leaderless');
    const conversations = client({ deadlineMs: 1_000 });
    const refusal = await conversations.append('talk', turn('x', 1)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(CompletionError);
    expect((refusal as CompletionError).code).toBe('server_busy');
    expect((refusal as Error).message).toMatch(/no storage peer could append to conversation talk in time .*no leader/);
    expect(calls.length).toBeGreaterThan(3);
    expect(calls.length).toBeLessThanOrEqual(32);
  });

  it('an election that ends within the deadline is waited out', async () => {
    const { client, behaviour } = swarm();
    for (const letter of ['a', 'b', 'c']) behaviour.set(idOf(letter), 'leaderless');
    let sleeps = 0;
    const conversations = client({
      sleep: async () => {
        if (++sleeps === 3) behaviour.set(idOf('b'), 'healthy');
      },
    });
    await expect(conversations.append('talk', turn('after the election', 1))).resolves.toHaveProperty('sessionToken');
  });

  it('reports a refusal every peer would repeat at once, as the CompletionError a local store throws', async () => {
    const { client, calls } = swarm();
    const conversations = client();
    const badId = await conversations.load('bad id!', undefined).catch((error: unknown) => error);
    expect(badId).toMatchObject({ code: 'invalid_request_error', param: 'conversation_id' });
    const badSession = await conversations.load('talk', 'not-a-number').catch((error: unknown) => error);
    expect(badSession).toMatchObject({ code: 'invalid_request_error', param: 'x-nines-session' });
    const tooLong = await conversations.append('talk', [newMessage('user', 'x'.repeat(200 * 1024), 1), newMessage('user', 'y'.repeat(100 * 1024), 2)]).catch((error: unknown) => error);
    expect(tooLong).toMatchObject({ code: 'invalid_request_error', param: 'messages' });
    expect(calls, 'one peer asked for each, none after it').toHaveLength(3);
  });

  it('finds storage peers in the DHT when none were given', async () => {
    const { client, calls } = swarm();
    const asked: string[] = [];
    const dht = { findProviders: async (key: string) => (asked.push(key), { providers: [contactOf('b', 2)] }) } as unknown as DhtShell;
    const conversations = client({ contacts: [], dht });
    await conversations.load('talk', undefined);
    expect(asked).toEqual([storageProviderKey()]);
    expect(calls.map((call) => call.peer)).toEqual([idOf('b')]);
  });

  it('with no storage peer anywhere, says so', async () => {
    const { client } = swarm();
    const dht = { findProviders: async () => ({ providers: [] }) } as unknown as DhtShell;
    await expect(client({ contacts: [], dht, deadlineMs: 500 }).load('talk', undefined)).rejects.toThrow(/no storage peer is known/);
  });
});

describe('the conversations RPC: what a storage peer accepts', () => {
  const message = { id: 'abc123', role: 'user', content: 'hi', atMs: 5 };

  it('accepts well-formed requests and keeps only the known fields of a message', () => {
    expect(parseLoadRequest({ conversationId: 'talk-1', sessionToken: '17' })).toEqual({ conversationId: 'talk-1', sessionToken: '17' });
    expect(parseLoadRequest({ conversationId: 'talk-1' })).toEqual({ conversationId: 'talk-1' });
    expect(parseAppendRequest({ conversationId: 't', messages: [{ ...message, extra: 'dropped' }] })).toEqual({ conversationId: 't', messages: [message] });
  });

  it.each([
    [null, conversationErrorCodes.requestInvalid, /an object/],
    [{ conversationId: 'has space' }, conversationErrorCodes.idInvalid, /conversation_id/],
    [{ conversationId: 'x'.repeat(129) }, conversationErrorCodes.idInvalid, /conversation_id/],
    [{ conversationId: 't', sessionToken: 5 }, conversationErrorCodes.sessionInvalid, /session token/],
    [{ conversationId: 't', sessionToken: 'x'.repeat(300) }, conversationErrorCodes.sessionInvalid, /at most 256/],
  ])('refuses the load request %j', (body, code, problem) => {
    expect(parseLoadRequest(body)).toMatchObject({ code, problem: expect.stringMatching(problem) });
  });

  it.each([
    [{ conversationId: 't', messages: [] }, /at least one message/],
    [{ conversationId: 't', messages: 'hi' }, /must be an array/],
    [{ conversationId: 't', messages: [{ ...message, id: '' }] }, /messages\[0\]\.id/],
    [{ conversationId: 't', messages: [{ ...message, role: 'tool' }] }, /messages\[0\]\.role/],
    [{ conversationId: 't', messages: [message, { ...message, content: 7 }] }, /messages\[1\]\.content/],
    [{ conversationId: 't', messages: [{ ...message, atMs: -1 }] }, /messages\[0\]\.atMs/],
    [{ conversationId: 't', messages: [{ ...message, atMs: 1.5 }] }, /messages\[0\]\.atMs/],
    [{ conversationId: 't', messages: Array.from({ length: 4098 }, () => message) }, /over the limit of 4097/],
  ])('refuses the append request %#', (body, problem) => {
    expect(parseAppendRequest(body)).toMatchObject({ code: conversationErrorCodes.requestInvalid, problem: expect.stringMatching(problem) });
  });

  it('sends the store\'s errors as codes: final ones, and those another peer may not share', () => {
    expect(wireCodeOf(new CompletionError('server_busy', 'contention'))).toBe(conversationErrorCodes.busy);
    expect(wireCodeOf(new CompletionError('context_length_exceeded', 'too long', 'conversation_id'))).toBe(conversationErrorCodes.tooLong);
    expect(wireCodeOf(new KvUnavailableError('no leader', undefined))).toBe(conversationErrorCodes.unavailable);
    expect(wireCodeOf(new KvOutcomeUnknownError('unknown'))).toBe(conversationErrorCodes.unavailable);
    expect(wireCodeOf(new ReplicaError('KV_TIMEOUT', 'too few replicas answered'))).toBe(conversationErrorCodes.unavailable);
    expect(wireCodeOf(new ReplicaError('KV_TOO_MANY_SIBLINGS', 'siblings'))).toBe(conversationErrorCodes.busy);
    expect(wireCodeOf(new CompletionError('invalid_request_error', 'bad token', 'x-nines-session'))).toBe(conversationErrorCodes.sessionInvalid);
    expect(wireCodeOf(new Error('conversation/x in the store is not JSON'))).toBe(conversationErrorCodes.storeFailed);
  });

  it('a stored conversation nobody can read is a server error, not passed on to other peers', async () => {
    const { client, store, calls } = swarm();
    store.values.set('conversation/broken', 'not json');
    const failure = await client().load('broken', undefined).catch((error: unknown) => error);
    expect(failure).not.toBeInstanceOf(CompletionError);
    expect((failure as Error).message).toMatch(/cannot read this conversation: .*not JSON/);
    expect(calls).toHaveLength(1);
  });

  it('announces the storage peer in the DHT, trying again soon while nobody stores the record, and not after stop', async () => {
    vi.useFakeTimers();
    try {
      const answers = [false, false, true];
      const provided: string[] = [];
      const dht = { provide: async (key: string) => (provided.push(key), { ok: answers.shift() ?? true }) } as unknown as DhtShell;
      const methods: string[] = [];
      const server = new ConversationRpcServer({ transport: { handle: (method) => void methods.push(method) }, store: new RaftConversations(sharedStore()), dht, logger: silentLogger });
      expect(methods).toEqual([conversationLoadMethod, conversationAppendMethod]);
      expect(await server.announce()).toBe(false);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(provided).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(2_000);
      expect(provided).toHaveLength(3);
      expect(provided.every((key) => key === storageProviderKey())).toBe(true);
      // Stored now: no more early tries; the periodic republish goes on until stop.
      await vi.advanceTimersByTimeAsync(30_000);
      expect(provided).toHaveLength(3);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(provided).toHaveLength(4);
      server.stop();
      await vi.advanceTimersByTimeAsync(120_000);
      expect(provided).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
  });
});
