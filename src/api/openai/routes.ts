/**
 * The OpenAI-compatible API, independent of the HTTP server that carries it: a request
 * (method, path, headers, body text, abort signal) in, a response out, whose body is
 * either JSON or a stream of Server-Sent Events frames.
 *
 *   POST /v1/chat/completions   a conversation in, the assistant's answer out (stream: true for SSE)
 *   POST /v1/completions        a prompt in, its continuation out
 *   GET  /v1/models             the models this peer serves; GET /v1/models/<id> one of them
 *
 * A completion request passes, in order: the API key; the body (JSON, then every field);
 * max_tokens against completionTokensMax; the model; the prompt's tokens against
 * promptTokensMax and, with max_tokens, against the model's context window; the caller's
 * running completions against streamsPerKeyMax. Only then does the backend see it. A
 * stream's headers are sent once the backend has admitted the job (its 'start' event),
 * so a refusal up to that point still gets its proper HTTP status.
 */
import { randomInt } from 'node:crypto';
import { Rng } from '../../core/rng.js';
import type { CompletionBackend, CompletionEvent, CompletionJob, ModelCard } from '../../service/completion-backend.js';
import { ApiKeyRing, type ApiAuth, type Caller } from './auth.js';
import { collectCompletion, streamFrames, type Endpoint, type OutputOptions } from './completion-output.js';
import { defaultOpenAiLimits, sessionHeader, sessionTokenCharactersMax, traceTopKDefault, type OpenAiLimits } from './constants.js';
import { OpenAiError, asOpenAiError } from './errors.js';
import { parseChatRequest, parseCompletionRequest, type ParsedRequest } from './schemas.js';
import { StreamSlots } from './stream-slots.js';
import type { Protection } from './protection.js';

export interface OpenAiRequest {
  method: string;
  /** The path without the query string, still percent-encoded. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Aborts when the client goes away: the generation stops. */
  signal: AbortSignal;
}

export type OpenAiResponse =
  | { status: number; headers: Record<string, string>; body: unknown }
  | { status: number; headers: Record<string, string>; stream: AsyncIterable<string> };

export interface OpenAiRoutesOptions {
  backend: CompletionBackend;
  auth: ApiAuth;
  limits?: Partial<OpenAiLimits>;
  /** Picks default seeds and completion ids (default: seeded from the operating system). */
  rng?: Rng;
  /** The wall clock in milliseconds, for `created` (default Date.now). */
  nowMs?: () => number;
  /** Rate limits, the admission queue and the degradation policy (a gateway's; absent in-process). */
  protection?: Protection;
  /** Told of each completion refused before it ran (a rate limit, a full queue, too many streams): the availability tracker's 'rejected'. */
  onRefusal?: (error: unknown) => void;
}

export const openAiPaths = ['/v1/chat/completions', '/v1/completions', '/v1/models'] as const;

const idAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const idCharacters = 24;

export class OpenAiRoutes {
  readonly limits: Readonly<OpenAiLimits>;
  private readonly backend: CompletionBackend;
  private readonly keys: ApiKeyRing;
  private readonly slots: StreamSlots;
  private readonly rng: Rng;
  private readonly nowMs: () => number;
  private readonly protection: Protection | undefined;
  private readonly onRefusal: ((error: unknown) => void) | undefined;

  constructor(options: OpenAiRoutesOptions) {
    this.protection = options.protection;
    this.limits = checkedLimits({ ...defaultOpenAiLimits, ...options.limits });
    this.backend = options.backend;
    this.keys = new ApiKeyRing(options.auth);
    this.slots = new StreamSlots(this.limits.streamsPerKeyMax);
    this.rng = options.rng ?? new Rng(randomInt(0, 2 ** 47));
    this.nowMs = options.nowMs ?? Date.now;
    this.onRefusal = options.onRefusal;
  }

  async handle(request: OpenAiRequest): Promise<OpenAiResponse> {
    try {
      const caller = this.keys.authenticate(headerOf(request.headers, 'authorization'));
      const method = request.method.toUpperCase();
      if (request.path === '/v1/chat/completions' || request.path === '/v1/completions') {
        requireMethod(method, 'POST', request.path);
        return await this.complete(request, caller, request.path === '/v1/chat/completions' ? 'chat' : 'text');
      }
      if (request.path === '/v1/models') {
        requireMethod(method, 'GET', request.path);
        return { status: 200, headers: {}, body: { object: 'list', data: this.backend.models().map(modelObject) } };
      }
      if (request.path.startsWith('/v1/models/')) {
        requireMethod(method, 'GET', '/v1/models/<id>');
        const id = decodedModelId(request.path.slice('/v1/models/'.length));
        return { status: 200, headers: {}, body: modelObject(this.modelCard(id)) };
      }
      throw new OpenAiError('unknown_url', `Unknown request URL: ${request.method} ${request.path}.`);
    } catch (error) {
      return errorResponse(error);
    }
  }

  private async complete(request: OpenAiRequest, caller: Caller, endpoint: Endpoint): Promise<OpenAiResponse> {
    const parsed = endpoint === 'chat' ? parseChatRequest(jsonOf(request.body)) : parseCompletionRequest(jsonOf(request.body));
    const { completionTokensMax, promptTokensMax } = this.limits;
    if (parsed.maxTokens !== undefined && parsed.maxTokens > completionTokensMax) {
      throw new OpenAiError('max_tokens_too_large', `max_tokens is ${parsed.maxTokens}, over this server's limit of ${completionTokensMax} tokens per completion; ask for fewer.`, 'max_tokens');
    }
    const card = this.modelCard(parsed.model);
    const sessionToken = sessionTokenOf(request.headers);
    const seed = parsed.seed ?? this.rng.nextUint32() % 2 ** 31;
    const draft = this.jobOf(parsed, caller, seed, sessionToken);
    const promptTokens = this.backend.promptTokens(draft);
    if (promptTokens > promptTokensMax) {
      throw new OpenAiError('prompt_too_long', `The prompt is ${promptTokens} tokens, over this server's limit of ${promptTokensMax} prompt tokens; shorten it.`, endpoint === 'chat' ? 'messages' : 'prompt');
    }
    const maxTokens = parsed.maxTokens ?? Math.min(completionTokensMax, card.contextTokens - promptTokens);
    if (maxTokens < 1 || promptTokens + maxTokens > card.contextTokens) {
      throw new OpenAiError(
        'context_length_exceeded',
        `This model's maximum context length is ${card.contextTokens} tokens. However, you requested ${promptTokens + Math.max(maxTokens, 1)} tokens (${promptTokens} in the ${endpoint === 'chat' ? 'messages' : 'prompt'}, ${Math.max(maxTokens, 1)} in the completion). Please reduce the length of the ${endpoint === 'chat' ? 'messages' : 'prompt'} or the completion.`,
        endpoint === 'chat' ? 'messages' : 'prompt',
      );
    }
    let releaseSlot: () => void;
    let admitted;
    try {
      releaseSlot = this.slots.acquire(caller.name);
    } catch (error) {
      this.onRefusal?.(error);
      throw error;
    }
    try {
      admitted = await this.protection?.admit({ ...draft, maxTokens }, promptTokens, request.signal);
    } catch (error) {
      releaseSlot();
      if (!request.signal.aborted) this.onRefusal?.(error);
      throw error;
    }
    const job: CompletionJob = admitted?.job ?? { ...draft, maxTokens };
    const counter = { tokens: 0 };
    const release = () => {
      releaseSlot();
      admitted?.finish(counter.tokens);
    };
    const output: OutputOptions = { endpoint, identity: this.identityOf(endpoint, card, seed), trace: job.trace, includeUsage: parsed.includeUsage };
    return this.serve(job, parsed.stream, output, { signal: request.signal, release, counter, headers: admitted?.headers ?? {} }, sessionToken);
  }

  /** Runs an admitted job; `release` frees the caller's slot and queue ticket, exactly once, however the run ends. */
  private async serve(
    job: CompletionJob,
    stream: boolean,
    output: OutputOptions,
    run: { signal: AbortSignal; release: () => void; counter: { tokens: number }; headers: Record<string, string> },
    sessionTokenIn: string | undefined,
  ): Promise<OpenAiResponse> {
    const { signal, release } = run;
    let events: AsyncIterator<CompletionEvent>;
    try {
      events = countTokens(this.backend.run(job, signal), run.counter)[Symbol.asyncIterator]();
    } catch (error) {
      release();
      throw error;
    }
    const finish = once(() => {
      release();
      // Closing the run frees the backend at once; an error while closing has nobody left to tell (the answer is over or failed already).
      events.return?.(undefined)?.catch(() => undefined);
    });
    signal.addEventListener('abort', finish, { once: true });
    let streaming = false;
    try {
      const first = await events.next();
      if (first.done === true || signal.aborted) throw new OpenAiError('client_closed_request', 'The client closed the request.');
      if (first.value.type !== 'start') throw new Error(`the backend's first event was '${first.value.type}', not 'start'`);
      if (!stream) {
        const result = await collectCompletion(events, output);
        if (result === undefined) throw new OpenAiError('client_closed_request', 'The client closed the request.');
        const session = result.end.sessionToken ?? sessionTokenIn;
        return { status: 200, headers: { ...run.headers, ...(session !== undefined && { [sessionHeader]: session }) }, body: result.body };
      }
      streaming = true;
      const headers: Record<string, string> = { ...run.headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...(sessionTokenIn !== undefined && { [sessionHeader]: sessionTokenIn }) };
      return { status: 200, headers, stream: framesThenFinish(streamFrames(events, output), finish) };
    } finally {
      if (!streaming) {
        signal.removeEventListener('abort', finish);
        finish();
      }
    }
  }

  private jobOf(parsed: ParsedRequest, caller: Caller, seed: number, sessionToken: string | undefined): CompletionJob {
    return {
      model: parsed.model,
      input: parsed.input,
      maxTokens: parsed.maxTokens ?? 1,
      sampler: { temperature: parsed.temperature, topP: parsed.topP, topK: parsed.topK, seed },
      stop: parsed.stop,
      trace: parsed.trace,
      traceTopK: parsed.traceTopK ?? traceTopKDefault,
      ...(parsed.conversationId !== undefined && { conversationId: parsed.conversationId }),
      ...(sessionToken !== undefined && { sessionToken }),
      streamed: parsed.stream,
      apiKeyName: caller.name,
      apiKeyPriority: caller.priority,
    };
  }

  private modelCard(id: string): ModelCard {
    const models = this.backend.models();
    const card = models.find((model) => model.id === id);
    if (card === undefined) {
      throw new OpenAiError('model_not_found', `The model '${id}' does not exist or you do not have access to it. This peer serves: ${models.map((model) => `'${model.id}'`).join(', ') || 'no models'}.`, 'model');
    }
    return card;
  }

  private identityOf(endpoint: Endpoint, card: ModelCard, seed: number): OutputOptions['identity'] {
    let suffix = '';
    for (let i = 0; i < idCharacters; i++) suffix += idAlphabet[this.rng.nextInt(idAlphabet.length)];
    return { id: `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${suffix}`, created: Math.floor(this.nowMs() / 1000), model: card.id, seed };
  }
}

/** The backend's events, counting the tokens (the rate limiter settles on the real count). */
async function* countTokens(events: AsyncIterable<CompletionEvent>, counter: { tokens: number }): AsyncGenerator<CompletionEvent, void, undefined> {
  for await (const event of events) {
    if (event.type === 'token') counter.tokens++;
    yield event;
  }
}

/** Yields the frames, then runs `finish` however the stream ends (done, failed, or closed by the client). */
async function* framesThenFinish(frames: AsyncGenerator<string, void, undefined>, finish: () => void): AsyncGenerator<string, void, undefined> {
  try {
    yield* frames;
  } finally {
    finish();
  }
}

function once(work: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    work();
  };
}

function checkedLimits(limits: OpenAiLimits): OpenAiLimits {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`the OpenAI API limit ${name} must be an integer >= 1, got ${value}`);
  }
  return Object.freeze({ ...limits });
}

export function errorResponse(error: unknown): OpenAiResponse {
  const refusal = asOpenAiError(error);
  return { status: refusal.status, headers: refusal.headers(), body: refusal.body() };
}

function requireMethod(method: string, expected: string, path: string): void {
  if (method !== expected) throw new OpenAiError('method_not_allowed', `${method} is not allowed on ${path}; use ${expected}.`);
}

function modelObject(card: ModelCard): Record<string, unknown> {
  return { id: card.id, object: 'model', created: card.created, owned_by: card.ownedBy, context_length: card.contextTokens };
}

function decodedModelId(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new OpenAiError('invalid_request_error', 'The model id in the URL is not valid percent-encoding.', 'model');
  }
}

function jsonOf(body: string): unknown {
  if (body.trim() === '') throw new OpenAiError('invalid_json', 'The request body is empty; send a JSON object (Content-Type: application/json).');
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new OpenAiError('invalid_json', `The request body is not valid JSON (${error instanceof Error ? error.message : String(error)}).`);
  }
}

function headerOf(headers: OpenAiRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sessionTokenOf(headers: OpenAiRequest['headers']): string | undefined {
  const token = headerOf(headers, sessionHeader);
  if (token === undefined || token === '') return undefined;
  if (token.length > sessionTokenCharactersMax || !/^[\x21-\x7e]+$/.test(token)) {
    throw new OpenAiError('invalid_request_error', `The ${sessionHeader} header must be the token a previous answer returned: 1 to ${sessionTokenCharactersMax} printable ASCII characters.`, sessionHeader);
  }
  return token;
}
