import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/model/load-file.js';
import { generate } from '../../src/model/generate.js';
import { LocalCompletionBackend } from '../../src/service/local-backend.js';
import { CompletionError, type CompletionEvent, type CompletionJob } from '../../src/service/completion-backend.js';

let loaded: LoadedModel;
let backend: LocalCompletionBackend;
beforeAll(() => {
  loaded = loadModel(undefined, { threads: 1 });
  backend = new LocalCompletionBackend(loaded, { createdSeconds: 1_700_000_000 });
});
afterAll(() => loaded.close());

function chatJob(overrides: Partial<CompletionJob> = {}): CompletionJob {
  return {
    model: loaded.name,
    input: { kind: 'chat', messages: [{ role: 'user', content: 'Who made the heaven and the earth?' }] },
    maxTokens: 12,
    sampler: { temperature: 0, topP: 1, topK: 0, seed: 1 },
    stop: [],
    trace: false,
    traceTopK: 5,
    apiKeyName: 'test',
    apiKeyPriority: 'normal',
    ...overrides,
  };
}

async function collect(events: AsyncIterable<CompletionEvent>): Promise<CompletionEvent[]> {
  const all: CompletionEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

function textOf(events: CompletionEvent[]): string {
  return events.map((event) => (event.type === 'token' || event.type === 'end' ? event.text : '')).join('');
}

async function expectCompletionError(work: () => unknown, code: string): Promise<CompletionError> {
  let caught: unknown;
  try {
    await work();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CompletionError);
  expect((caught as CompletionError).code).toBe(code);
  return caught as CompletionError;
}

describe('LocalCompletionBackend', () => {
  it('lists its one model, named after the file, with its context window', () => {
    expect(backend.models()).toEqual([{ id: 'nines-kjv', created: 1_700_000_000, ownedBy: 'nines', contextTokens: loaded.config.contextLength }]);
  });

  it('renders chat with the model template and gives the same text as generate() with the template stops', async () => {
    const job = chatJob({ sampler: { temperature: 0.9, topP: 0.9, topK: 30, seed: 42 }, maxTokens: 16 });
    const events = await collect(backend.run(job, new AbortController().signal));
    const prompt = loaded.tokenizer.encode(loaded.chatTemplate.render([{ role: 'user', content: 'Who made the heaven and the earth?' }]));
    expect(events[0]).toEqual({ type: 'start', promptTokens: prompt.length });
    expect(backend.promptTokens(job)).toBe(prompt.length);
    let expected = '';
    let expectedTokens = 0;
    const settings = { temperature: 0.9, topP: 0.9, topK: 30, minP: 0, repetitionPenalty: 1, repetitionWindow: 0, seed: 42 };
    for await (const step of generate({ model: loaded.transformer, tokenizer: loaded.tokenizer, prompt, sampler: settings, maxTokens: 16, stop: [...loaded.chatTemplate.stops] })) {
      if (step.kind === 'token' || step.kind === 'end') expected += step.text;
      if (step.kind === 'end') expectedTokens = step.generatedTokens.length;
    }
    expect(textOf(events)).toBe(expected);
    const end = events.at(-1)!;
    expect(end).toMatchObject({ type: 'end', promptTokens: prompt.length, completionTokens: expectedTokens });
    expect(events.filter((event) => event.type === 'token')).toHaveLength(expectedTokens);
  });

  it('gives identical text for the same seed at temperature > 0, and continues a raw prompt', async () => {
    const job = chatJob({ input: { kind: 'prompt', prompt: 'In the beginning God' }, sampler: { temperature: 1.2, topP: 1, topK: 0, seed: 7 }, maxTokens: 20 });
    const first = textOf(await collect(backend.run(job, new AbortController().signal)));
    const second = textOf(await collect(backend.run(job, new AbortController().signal)));
    expect(first.length).toBeGreaterThan(0);
    expect(second).toBe(first);
    const others = await Promise.all([8, 9, 10].map(async (seed) => textOf(await collect(backend.run({ ...job, sampler: { ...job.sampler, seed } }, new AbortController().signal)))));
    expect(others.some((text) => text !== first)).toBe(true);
  });

  it("stops at the job's stop strings and reports the reason", async () => {
    const job = chatJob({ input: { kind: 'prompt', prompt: 'And God said' }, maxTokens: 60 });
    const free = textOf(await collect(backend.run(job, new AbortController().signal)));
    const stopAt = free.trim().split(' ')[1];
    expect(stopAt).toBeTruthy();
    const stopped = await collect(backend.run({ ...job, stop: [stopAt] }, new AbortController().signal));
    expect(textOf(stopped)).toBe(free.slice(0, free.indexOf(stopAt)));
    expect(stopped.at(-1)).toMatchObject({ type: 'end', reason: 'stop' });
  });

  it('traces each token with its top candidates', async () => {
    const events = await collect(backend.run(chatJob({ trace: true, traceTopK: 3, maxTokens: 4 }), new AbortController().signal));
    const tokens = events.filter((event) => event.type === 'token');
    expect(tokens.length).toBeGreaterThan(0);
    for (const token of tokens) {
      expect(token.candidates).toHaveLength(3);
      // Greedy decoding takes the best candidate.
      expect(token.candidates![0].id).toBe(token.tokenId);
      expect(token.probability).toBeGreaterThan(0);
      expect(token.tokenText).toBe(loaded.tokenizer.tokenText(token.tokenId));
    }
  });

  it('refuses an unknown model, a conversation, and a prompt longer than the context window', async () => {
    expect(() => backend.promptTokens(chatJob({ model: 'gpt-4' }))).toThrow(/model 'gpt-4' does not exist.*serves 'nines-kjv'/);
    await expectCompletionError(() => collect(backend.run(chatJob({ model: 'gpt-4' }), new AbortController().signal)), 'model_not_found');
    const refusal = await expectCompletionError(() => collect(backend.run(chatJob({ conversationId: 'c1' }), new AbortController().signal)), 'unsupported_feature');
    expect(refusal.message).toMatch(/conversations need the swarm's replicated store; this backend runs one model in-process/);
    expect(refusal.param).toBe('conversation_id');
    const long = chatJob({ input: { kind: 'prompt', prompt: 'and the earth '.repeat(200) } });
    expect(backend.promptTokens(long)).toBeGreaterThan(loaded.config.contextLength);
    await expectCompletionError(() => collect(backend.run(long, new AbortController().signal)), 'context_length_exceeded');
  });

  it('stops promptly when its signal aborts, and counts the job as aborted', async () => {
    const before = backend.counters;
    const controller = new AbortController();
    const events: CompletionEvent[] = [];
    for await (const event of backend.run(chatJob({ maxTokens: 200, input: { kind: 'prompt', prompt: 'And' } }), controller.signal)) {
      events.push(event);
      if (event.type === 'token') controller.abort();
    }
    expect(events.map((event) => event.type)).toEqual(['start', 'token']);
    const after = backend.counters;
    expect(after.jobsAborted - before.jobsAborted).toBe(1);
    expect(after.tokensGenerated - before.tokensGenerated).toBe(1);
  });

  it('serves one job at a time, first come first served', async () => {
    const log: string[] = [];
    const record = async (name: string, job: CompletionJob) => {
      for await (const event of backend.run(job, new AbortController().signal)) log.push(`${name}:${event.type}`);
    };
    await Promise.all([record('a', chatJob({ maxTokens: 5 })), record('b', chatJob({ maxTokens: 5 })), record('c', chatJob({ maxTokens: 5 }))]);
    const order = log.filter((entry, index) => index === 0 || entry[0] !== log[index - 1][0]).map((entry) => entry[0]);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('refuses a job when the queue is full, and lets an aborted waiter leave the queue', async () => {
    const small = new LocalCompletionBackend(loaded, { queuedJobsMax: 1 });
    const running = small.run(chatJob({ maxTokens: 3 }), new AbortController().signal)[Symbol.asyncIterator]();
    expect((await running.next()).value).toMatchObject({ type: 'start' });
    const waiterAbort = new AbortController();
    const waiting = collect(small.run(chatJob(), waiterAbort.signal));
    await new Promise((resolve) => setImmediate(resolve));
    expect(small.queuedJobs).toBe(1);
    const busy = await expectCompletionError(() => collect(small.run(chatJob(), new AbortController().signal)), 'server_busy');
    expect(busy.message).toMatch(/1 requests are already waiting/);
    waiterAbort.abort();
    expect(await waiting).toEqual([]);
    expect(small.queuedJobs).toBe(0);
    await running.return(undefined);
    const after = await collect(small.run(chatJob({ maxTokens: 2 }), new AbortController().signal));
    expect(after.at(-1)).toMatchObject({ type: 'end' });
  });
});
