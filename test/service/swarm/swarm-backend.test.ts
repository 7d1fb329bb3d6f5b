import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../../src/model/load-file.js';
import type { KvBackend } from '../../../src/api/kv-routes.js';
import type { KvWrite } from '../../../src/node/raft/raft-peer.js';
import type { RaftStatus } from '../../../src/replication/leader/index.js';
import { ComputeEngine } from '../../../src/service/compute/compute-engine.js';
import type { ComputeDirectory } from '../../../src/service/compute/failover-runner.js';
import type { CompletionEvent, CompletionJob } from '../../../src/service/completion-backend.js';
import { mergeConversations, RaftConversations, type ConversationMessage } from '../../../src/service/swarm/conversations.js';
import { SwarmCompletionBackend } from '../../../src/service/swarm/swarm-backend.js';

let model: LoadedModel;
beforeAll(() => {
  model = loadModel(undefined, { threads: 1 });
});
afterAll(async () => {
  await model.close();
});

/** A single-leader store over a map: every write is one log index; session reads check the index was reached. */
function mapStore(): KvBackend & { values: Map<string, string>; index: number } {
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

function swarmModel() {
  return { name: model.name, tokenizer: model.tokenizer, chatTemplate: model.chatTemplate, contextLength: model.config.contextLength };
}

function directoryOf(engines: Map<string, ComputeEngine>, dieAfterChunks = new Map<string, number>()): ComputeDirectory {
  const served = new Map<string, number>();
  return {
    candidates: async (_model, exclude) => [...engines.keys()].filter((peer) => !exclude.has(peer)),
    async call(peer, request) {
      const count = (served.get(peer) ?? 0) + 1;
      served.set(peer, count);
      if (count > (dieAfterChunks.get(peer) ?? Number.POSITIVE_INFINITY)) throw new Error(`${peer} was killed`);
      return engines.get(peer)!.chunk(request);
    },
    report: () => undefined,
  };
}

function chat(content: string, extra: Partial<CompletionJob> = {}): CompletionJob {
  return {
    model: model.name, input: { kind: 'chat', messages: [{ role: 'user', content }] }, maxTokens: 12,
    sampler: { temperature: 0.8, topP: 0.95, topK: 40, seed: 5 }, stop: [], trace: false, traceTopK: 0, apiKeyName: 'anonymous', apiKeyPriority: 'normal', ...extra,
  };
}

async function answer(backend: SwarmCompletionBackend, job: CompletionJob): Promise<{ text: string; end: Extract<CompletionEvent, { type: 'end' }>; peers: Set<string | undefined> }> {
  let text = '';
  const peers = new Set<string | undefined>();
  for await (const event of backend.run(job, new AbortController().signal)) {
    if (event.type === 'token') {
      text += event.text;
      peers.add(event.peer);
    }
    if (event.type === 'end') return { text: text + event.text, end: event, peers };
  }
  throw new Error('no end event');
}

describe('the swarm completion backend', () => {
  it('answers the same text as one compute peer alone when its peer dies mid-answer', async () => {
    const alone = new SwarmCompletionBackend({ model: swarmModel(), directory: directoryOf(new Map([['a', new ComputeEngine(model)]])) });
    const failing = new SwarmCompletionBackend({ model: swarmModel(), directory: directoryOf(new Map([['a', new ComputeEngine(model)], ['b', new ComputeEngine(model)]]), new Map([['a', 2]])) });
    const job = chat('And God said', { maxTokens: 30 });
    const expected = await answer(alone, job);
    const got = await answer(failing, job);
    expect(got.text).toBe(expected.text);
    expect(got.peers).toEqual(new Set(['a', 'b']));
    expect(got.end.completionTokens).toBe(expected.end.completionTokens);
  });

  it('keeps a conversation in the store: the next turn sees the last one through its session token', async () => {
    const store = mapStore();
    const backend = new SwarmCompletionBackend({ model: swarmModel(), directory: directoryOf(new Map([['a', new ComputeEngine(model)]])), conversations: new RaftConversations(store) });
    const first = await answer(backend, chat('In the beginning', { conversationId: 'c1' }));
    expect(first.end.sessionToken).toBe('1');
    const stored = JSON.parse(store.values.get('conversation/c1')!) as ConversationMessage[];
    expect(stored.map((message) => [message.role, message.content])).toEqual([['user', 'In the beginning'], ['assistant', first.text]]);
    // The second turn's prompt holds the first turn: more prompt tokens than the turn alone.
    const turnAlone = backend.promptTokens(chat('And the earth'));
    const second = await answer(backend, chat('And the earth', { conversationId: 'c1', sessionToken: first.end.sessionToken }));
    expect(second.end.promptTokens).toBeGreaterThan(turnAlone);
    expect((JSON.parse(store.values.get('conversation/c1')!) as ConversationMessage[]).length).toBe(4);
    await expect(answer(backend, chat('x', { conversationId: 'c1', sessionToken: '99' }))).rejects.toThrow(/not reached/);
    await expect(answer(backend, chat('x', { conversationId: 'bad id!' }))).rejects.toThrow(/conversation_id must be/);
  });

  it('refuses conversations without a store, unknown models, and prompts beyond the context window', async () => {
    const backend = new SwarmCompletionBackend({ model: swarmModel(), directory: directoryOf(new Map([['a', new ComputeEngine(model)]])) });
    await expect(answer(backend, chat('x', { conversationId: 'c' }))).rejects.toThrow(/no replicated store/);
    await expect(answer(backend, chat('x', { model: 'gpt-4' }))).rejects.toMatchObject({ code: 'model_not_found' });
    await expect(answer(backend, chat('word '.repeat(model.config.contextLength)))).rejects.toMatchObject({ code: 'context_length_exceeded' });
  });

  it('merges concurrent conversation versions as a set of messages, in time order', () => {
    const message = (id: string, atMs: number): ConversationMessage => ({ id, role: 'user', content: id, atMs });
    expect(mergeConversations([[message('a', 1), message('c', 3)], [message('a', 1), message('b', 2)]]).map((item) => item.id)).toEqual(['a', 'b', 'c']);
  });
});
