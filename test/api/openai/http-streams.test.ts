import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../../src/model/load-file.js';
import { LocalCompletionBackend } from '../../../src/service/local-backend.js';
import type { CompletionBackend } from '../../../src/service/completion-backend.js';
import { expectError, keyedAuth, otherKey, post, sseData, startServer, waitFor, WatchedBackend, type TestServer } from './server-fixture.js';

let loaded: LoadedModel;
let local: LocalCompletionBackend;
let watched: WatchedBackend;
let served: TestServer;
let base: string;
beforeAll(async () => {
  loaded = loadModel(undefined, { threads: 1 });
  local = new LocalCompletionBackend(loaded);
  // A pause before each token keeps a generation running long enough to act on it.
  watched = new WatchedBackend(local, 25);
  served = await startServer(watched, keyedAuth, { streamsPerKeyMax: 1 });
  base = served.base;
});
afterAll(async () => {
  await served.server.close();
  await loaded.close();
});

const chat = (fields: Record<string, unknown>) => ({ model: 'nines-kjv', messages: [{ role: 'user', content: 'Who made the light?' }], max_tokens: 6, temperature: 0, ...fields });

describe('streaming in OpenAI shape', () => {
  it('streams chat chunks: role first, content deltas, finish reason, usage, [DONE]; the same text as without stream', async () => {
    const whole = (await (await post(base, '/v1/chat/completions', chat({ seed: 3 }))).json()) as {
      id: string;
      object: string;
      seed: number;
      choices: { message: { role: string; content: string }; finish_reason: string }[];
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    expect(whole.object).toBe('chat.completion');
    expect(whole.id).toMatch(/^chatcmpl-[A-Za-z0-9]{24}$/);
    expect(whole.seed).toBe(3);
    expect(whole.choices[0].message.role).toBe('assistant');
    expect(whole.usage.total_tokens).toBe(whole.usage.prompt_tokens + whole.usage.completion_tokens);

    const response = await post(base, '/v1/chat/completions', chat({ seed: 3, stream: true, stream_options: { include_usage: true } }));
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const chunks = sseData(await response.text()) as { id: string; object: string; choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[]; usage: unknown }[];
    expect(new Set(chunks.map((chunk) => chunk.object))).toEqual(new Set(['chat.completion.chunk']));
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual(whole.usage);
    const last = chunks.at(-2)!;
    expect(last.choices[0].finish_reason).toBe(whole.choices[0].finish_reason);
    expect(chunks.slice(0, -2).every((chunk) => chunk.choices[0].finish_reason === null && chunk.usage === null)).toBe(true);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(whole.choices[0].message.content);
  });

  it('streams text completions as text_completion objects', async () => {
    const response = await post(base, '/v1/completions', { model: 'nines-kjv', prompt: 'And God said', max_tokens: 5, temperature: 0, stream: true });
    const chunks = sseData(await response.text()) as { object: string; id: string; choices: { text: string; finish_reason: string | null }[] }[];
    expect(chunks.every((chunk) => chunk.object === 'text_completion' && chunk.id.startsWith('cmpl-'))).toBe(true);
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('length');
    const whole = (await (await post(base, '/v1/completions', { model: 'nines-kjv', prompt: 'And God said', max_tokens: 5, temperature: 0 })).json()) as { choices: { text: string }[] };
    expect(chunks.map((chunk) => chunk.choices[0].text).join('')).toBe(whole.choices[0].text);
  });

  it('picks a seed when none is given and reports it, so the answer can be repeated', async () => {
    const first = (await (await post(base, '/v1/chat/completions', chat({ temperature: 1 }))).json()) as { seed: number; choices: { message: { content: string } }[] };
    expect(Number.isInteger(first.seed)).toBe(true);
    const again = (await (await post(base, '/v1/chat/completions', chat({ temperature: 1, seed: first.seed }))).json()) as { seed: number; choices: { message: { content: string } }[] };
    expect(again.choices[0].message.content).toBe(first.choices[0].message.content);
  });

  it('carries a trace per chunk and in the whole answer when asked', async () => {
    const whole = (await (await post(base, '/v1/chat/completions', chat({ trace: true, trace_top_k: 2 }))).json()) as {
      usage: { completion_tokens: number };
      nines_trace: { token: string; id: number; probability: number; candidates: { token: string; id: number; probability: number }[] }[];
    };
    expect(whole.nines_trace).toHaveLength(whole.usage.completion_tokens);
    for (const entry of whole.nines_trace) {
      expect(entry.candidates).toHaveLength(2);
      expect(entry.candidates[0].id).toBe(entry.id);
      expect(entry.token).toBe(loaded.tokenizer.tokenText(entry.id));
    }
    const chunks = sseData(await (await post(base, '/v1/chat/completions', chat({ trace: true, trace_top_k: 2, stream: true }))).text()) as { nines_trace?: { id: number }[] }[];
    expect(chunks.flatMap((chunk) => chunk.nines_trace ?? []).map((entry) => entry.id)).toEqual(whole.nines_trace.map((entry) => entry.id));
  });

  it('echoes the session header it was given when the backend has no newer token', async () => {
    const response = await post(base, '/v1/chat/completions', chat({}), { 'x-nines-session': '17' });
    expect(response.headers.get('x-nines-session')).toBe('17');
    expect(watched.jobs.at(-1)!.sessionToken).toBe('17');
    expect(watched.jobs.at(-1)!.apiKeyName).toBe('tester');
  });
});

describe('streams per key, and a client that goes away', () => {
  it('refuses a second concurrent stream for one key with 429 and Retry-After, serves another key, and frees the slot on cancel', async () => {
    const cancel = new AbortController();
    const first = await post(base, '/v1/chat/completions', chat({ max_tokens: 200, stream: true, messages: [{ role: 'user', content: 'And' }] }), {}, cancel.signal);
    expect(first.status).toBe(200);
    const reader = first.body!.getReader();
    await reader.read();

    const refused = await post(base, '/v1/chat/completions', chat({}));
    expect(refused.headers.get('retry-after')).toBe('1');
    const error = await expectError(refused, 429, 'rate_limit_exceeded');
    expect(error.message).toMatch(/1 is the limit per key/);

    // Another key is not refused: it waits for the model, which the first stream holds.
    const runsBefore = watched.signals.length;
    const other = post(base, '/v1/chat/completions', chat({ max_tokens: 2 }), { authorization: `Bearer ${otherKey}` });

    const aborted = local.counters.jobsAborted;
    cancel.abort();
    await reader.cancel().catch(() => undefined);
    // The backend sees the abort: the run's signal fires and the generation stops far short of its 200 tokens.
    const signal = watched.signals[runsBefore - 1];
    await waitFor(() => signal.aborted && local.counters.jobsAborted === aborted + 1);
    const tokens = watched.handedOut[runsBefore - 1].filter((event) => event.type === 'token').length;
    expect(tokens).toBeLessThan(100);
    expect(watched.handedOut[runsBefore - 1].some((event) => event.type === 'end')).toBe(false);

    expect((await other).status).toBe(200);
    expect(watched.jobs.at(-1)).toMatchObject({ apiKeyName: 'other', apiKeyPriority: 'low' });
    const afterCancel = await post(base, '/v1/chat/completions', chat({ max_tokens: 2 }));
    expect(afterCancel.status).toBe(200);
  });

  it('aborts a non-streamed generation whose client disconnects', async () => {
    const cancel = new AbortController();
    const runsBefore = watched.signals.length;
    const pending = post(base, '/v1/completions', { model: 'nines-kjv', prompt: 'And', max_tokens: 200 }, {}, cancel.signal).catch((error: unknown) => error);
    await waitFor(() => watched.signals.length === runsBefore + 1 && watched.handedOut[runsBefore].length >= 2);
    cancel.abort();
    expect(await pending).toBeInstanceOf(Error);
    await waitFor(() => watched.signals[runsBefore].aborted);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const events = watched.handedOut[runsBefore];
    expect(events.filter((event) => event.type === 'token').length).toBeLessThan(100);
    expect(events.some((event) => event.type === 'end')).toBe(false);
    const next = await post(base, '/v1/completions', { model: 'nines-kjv', prompt: 'And', max_tokens: 2 });
    expect(next.status).toBe(200);
  });
});

describe('refusals from the backend', () => {
  it('answers 503 server_busy with Retry-After when the model queue is full, before any stream starts', async () => {
    const busy = await startServer(new WatchedBackend(new LocalCompletionBackend(loaded, { queuedJobsMax: 0 }), 15), keyedAuth);
    try {
      const cancel = new AbortController();
      const first = await post(busy.base, '/v1/chat/completions', chat({ max_tokens: 200, stream: true }), {}, cancel.signal);
      const reader = first.body!.getReader();
      await reader.read();
      const refused = await post(busy.base, '/v1/chat/completions', chat({ stream: true }), { authorization: `Bearer ${otherKey}` });
      expect(refused.headers.get('retry-after')).toBe('1');
      expect((await expectError(refused, 503, 'server_busy')).message).toMatch(/busy/);
      cancel.abort();
    } finally {
      await busy.server.close();
    }
  });

  it('ends a stream that fails part-way with an error frame in OpenAI shape, without [DONE]', async () => {
    const failing: CompletionBackend = {
      models: () => local.models(),
      promptTokens: (job) => local.promptTokens(job),
      async *run() {
        yield { type: 'start', promptTokens: 3 };
        yield { type: 'token', tokenId: 5, text: 'In', tokenText: 'In' };
        throw new Error('the compute peer vanished');
      },
    };
    const broken = await startServer(failing, keyedAuth);
    try {
      const text = await (await post(broken.base, '/v1/chat/completions', chat({ stream: true }))).text();
      const frames = text.split('\n\n').filter((frame) => frame !== '');
      expect(frames).toHaveLength(3);
      expect(JSON.parse(frames[1].slice('data: '.length)).choices[0].delta).toEqual({ content: 'In' });
      const error = JSON.parse(frames[2].slice('data: '.length)) as { error: { code: string; message: string; type: string } };
      expect(error.error).toMatchObject({ code: 'internal_error', type: 'server_error' });
      expect(error.error.message).toMatch(/the compute peer vanished/);
    } finally {
      await broken.server.close();
    }
  });
});
