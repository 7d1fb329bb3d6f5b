/**
 * The response bodies of the OpenAI-compatible routes, in OpenAI's shapes: whole
 * completions (`chat.completion`, `text_completion`), the chunks of a stream
 * (`chat.completion.chunk`; text completions stream `text_completion` objects), and the
 * Server-Sent Events framing around them (`data: <json>\n\n`, ending with `data: [DONE]`).
 *
 * nines' extensions ride along as extra fields that OpenAI's clients pass through:
 * `seed` (the seed that reproduces the answer), `nines_trace` (each token with its top
 * candidates, when asked for) and `nines_session` (the read-after-write token, for
 * streams, whose headers are sent before the answer is stored).
 */
import type { CompletionEvent, EndReason } from '../../service/completion-backend.js';

export type FinishReason = 'stop' | 'length';

/** What every object of one completion repeats. */
export interface CompletionIdentity {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
  seed: number;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface TraceEntry {
  /** The token's text. */
  token: string;
  id: number;
  /** The probability the chosen token had. */
  probability: number | null;
  candidates: { token: string; id: number; probability: number }[];
  /** The compute peer that generated the token (in the swarm; absent in-process). */
  peer?: string;
}

type TokenEvent = Extract<CompletionEvent, { type: 'token' }>;
type EndEvent = Extract<CompletionEvent, { type: 'end' }>;

/** An end-of-text token or a stop sequence is a natural stop; running out of tokens or context is a cut. */
export function finishReasonOf(reason: EndReason): FinishReason {
  return reason === 'eos' || reason === 'stop' ? 'stop' : 'length';
}

export function usageOf(end: EndEvent): Usage {
  return { prompt_tokens: end.promptTokens, completion_tokens: end.completionTokens, total_tokens: end.promptTokens + end.completionTokens };
}

export function traceEntryOf(event: TokenEvent): TraceEntry {
  return {
    token: event.tokenText,
    id: event.tokenId,
    probability: event.probability ?? null,
    candidates: (event.candidates ?? []).map((candidate) => ({ token: candidate.text, id: candidate.id, probability: candidate.probability })),
    ...(event.peer !== undefined && { peer: event.peer }),
  };
}

/** Fields that only appear when they carry something. */
export interface Extensions {
  trace?: TraceEntry[];
  session?: string;
  /** With stream_options.include_usage every chunk has `usage`, null until the last. */
  usageNull?: boolean;
}

function extensionFields(extensions: Extensions): Record<string, unknown> {
  return {
    ...(extensions.usageNull === true && { usage: null }),
    ...(extensions.trace !== undefined && { nines_trace: extensions.trace }),
    ...(extensions.session !== undefined && { nines_session: extensions.session }),
  };
}

export function chatCompletion(identity: CompletionIdentity, text: string, end: EndEvent, trace: TraceEntry[] | undefined): Record<string, unknown> {
  return {
    id: identity.id,
    object: 'chat.completion',
    created: identity.created,
    model: identity.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finishReasonOf(end.reason) }],
    usage: usageOf(end),
    seed: identity.seed,
    ...extensionFields({ trace, session: end.sessionToken }),
  };
}

export function textCompletion(identity: CompletionIdentity, text: string, end: EndEvent, trace: TraceEntry[] | undefined): Record<string, unknown> {
  return {
    id: identity.id,
    object: 'text_completion',
    created: identity.created,
    model: identity.model,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReasonOf(end.reason) }],
    usage: usageOf(end),
    seed: identity.seed,
    ...extensionFields({ trace, session: end.sessionToken }),
  };
}

/** A chat stream's chunk: `delta` holds the role (first chunk), new content, or nothing (last chunk). */
export function chatChunk(identity: CompletionIdentity, delta: { role?: 'assistant'; content?: string }, finishReason: FinishReason | null, extensions: Extensions = {}): Record<string, unknown> {
  return {
    id: identity.id,
    object: 'chat.completion.chunk',
    created: identity.created,
    model: identity.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    seed: identity.seed,
    ...extensionFields(extensions),
  };
}

export function textChunk(identity: CompletionIdentity, text: string, finishReason: FinishReason | null, extensions: Extensions = {}): Record<string, unknown> {
  return {
    id: identity.id,
    object: 'text_completion',
    created: identity.created,
    model: identity.model,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }],
    seed: identity.seed,
    ...extensionFields(extensions),
  };
}

/** The extra last chunk that stream_options.include_usage asks for: no choices, the usage. */
export function usageChunk(identity: CompletionIdentity, object: string, end: EndEvent): Record<string, unknown> {
  return { id: identity.id, object, created: identity.created, model: identity.model, choices: [], usage: usageOf(end), seed: identity.seed };
}

export function sseFrame(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

export const sseDone = 'data: [DONE]\n\n';
