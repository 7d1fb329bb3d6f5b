/**
 * Shared by the OpenAI API tests: a real ApiServer on loopback with a completion backend,
 * a key-value backend that keeps values in a map, and small helpers for fetch.
 */
import { expect } from 'vitest';
import { ApiServer } from '../../../src/api/server.js';
import type { KvBackend } from '../../../src/api/kv-routes.js';
import { ApiKeyRing, type ApiAuth, type OpenAiLimits } from '../../../src/api/openai/index.js';
import type { RaftStatus } from '../../../src/replication/leader/index.js';
import type { CompletionBackend, CompletionEvent, CompletionJob } from '../../../src/service/completion-backend.js';

export function memoryKv(): KvBackend {
  const values = new Map<string, string>();
  let index = 0;
  return {
    async write(command) {
      index++;
      if (command.op === 'put') values.set(command.key, command.value);
      return { index };
    },
    async read(key) {
      return { value: values.get(key) ?? null, index };
    },
    status: () => ({ id: 'x', role: 'leader' }) as unknown as RaftStatus,
  };
}

export interface TestServer {
  server: ApiServer;
  base: string;
}

export async function startServer(backend: CompletionBackend, auth: ApiAuth, limits?: Partial<OpenAiLimits>): Promise<TestServer> {
  const server = await ApiServer.start({ host: '127.0.0.1', port: 0, kv: memoryKv(), kvAuth: new ApiKeyRing({ open: true }), completions: { backend, auth, limits } });
  return { server, base: `http://127.0.0.1:${server.address.port}` };
}

export const testKey = 'sk-test-0123456789';
export const otherKey = 'sk-other-9876543210';
export const keyedAuth: ApiAuth = {
  keys: new Map([
    [testKey, { name: 'tester' }],
    [otherKey, { name: 'other', priority: 'low' }],
  ]),
};

export function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${testKey}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
}

/** Checks OpenAI's error shape and returns the error. */
export async function expectError(response: Response, status: number, code: string, param?: string | null): Promise<{ message: string; type: string; param: string | null; code: string }> {
  const body = (await response.json()) as { error: { message: string; type: string; param: string | null; code: string } };
  expect({ status: response.status, code: body.error.code }).toEqual({ status, code });
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(typeof body.error.type).toBe('string');
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body.error;
}

/** The JSON payloads of an SSE body, up to and excluding `[DONE]` (which must end it). */
export function sseData(text: string): Record<string, unknown>[] {
  const frames = text.split('\n\n').filter((frame) => frame !== '');
  for (const frame of frames) expect(frame.startsWith('data: ')).toBe(true);
  expect(frames.at(-1)).toBe('data: [DONE]');
  return frames.slice(0, -1).map((frame) => JSON.parse(frame.slice('data: '.length)) as Record<string, unknown>);
}

/**
 * Wraps a backend to watch what the API does with it: the signal each run got, the
 * events each run handed out, and an optional pause before each event (so a test can
 * act while a generation is still running).
 */
export class WatchedBackend implements CompletionBackend {
  readonly signals: AbortSignal[] = [];
  readonly handedOut: CompletionEvent[][] = [];
  readonly jobs: CompletionJob[] = [];

  constructor(
    private readonly inner: CompletionBackend,
    private readonly pauseMs = 0,
  ) {}

  models() {
    return this.inner.models();
  }

  promptTokens(job: CompletionJob): number {
    return this.inner.promptTokens(job);
  }

  async *run(job: CompletionJob, signal: AbortSignal): AsyncGenerator<CompletionEvent, void, undefined> {
    this.signals.push(signal);
    this.jobs.push(job);
    const events: CompletionEvent[] = [];
    this.handedOut.push(events);
    for await (const event of this.inner.run(job, signal)) {
      if (this.pauseMs > 0 && event.type !== 'start') await new Promise((resolve) => setTimeout(resolve, this.pauseMs));
      events.push(event);
      yield event;
    }
  }
}

export async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
