/**
 * The request bodies of POST /v1/chat/completions and /v1/completions, validated with zod.
 *
 * Every field OpenAI defines that nines supports is checked here; fields nines does not
 * know are ignored, as OpenAI ignores them. Optional fields may also be null, which many
 * clients send for "not given". A bad field is refused with OpenAI's error shape, its
 * `param` naming the field (e.g. `messages[1].role`).
 */
import { z } from 'zod';
import { traceTopCandidatesMax } from '../../model/generate.js';
import { chatMessagesMax, type ChatMessage } from '../../model/chat-template.js';
import { conversationIdCharactersMax, stopSequenceCharactersMax, stopSequencesMax } from './constants.js';
import { OpenAiError } from './errors.js';

const stopSequence = z
  .string('each stop sequence must be a string')
  .min(1, 'a stop sequence must not be empty')
  .max(stopSequenceCharactersMax, `a stop sequence may be at most ${stopSequenceCharactersMax} characters`);

/** Fields that chat completions and completions share. */
const commonFields = {
  model: z.string('model must be a string: the id of a model from GET /v1/models').min(1, 'model must not be empty: use an id from GET /v1/models'),
  max_tokens: z.number().int('max_tokens must be an integer').min(1, 'max_tokens must be at least 1').nullish(),
  max_completion_tokens: z.number().int('max_completion_tokens must be an integer').min(1, 'max_completion_tokens must be at least 1').nullish(),
  temperature: z.number('temperature must be a number').min(0, 'temperature must be from 0 to 2').max(2, 'temperature must be from 0 to 2').nullish(),
  top_p: z.number('top_p must be a number').min(0, 'top_p must be from 0 to 1').max(1, 'top_p must be from 0 to 1').nullish(),
  /** Extension (as llama.cpp's server has it): sample among the k most likely tokens; 0 = all. */
  top_k: z.number().int('top_k must be an integer').min(0, 'top_k must be 0 (no limit) or more').nullish(),
  stop: z
    .union([stopSequence, z.array(stopSequence).max(stopSequencesMax, `stop may hold at most ${stopSequencesMax} sequences`)], {
      error: `stop must be a string or an array of at most ${stopSequencesMax} non-empty strings`,
    })
    .nullish(),
  n: z.number().int('n must be an integer').nullish(),
  stream: z.boolean('stream must be true or false').nullish(),
  stream_options: z.object({ include_usage: z.boolean('stream_options.include_usage must be true or false').nullish() }).nullish(),
  seed: z
    .number('seed must be an integer')
    .int('seed must be an integer')
    .min(-Number.MAX_SAFE_INTEGER, 'seed must be a safe integer (at most 2^53 - 1 in size)')
    .max(Number.MAX_SAFE_INTEGER, 'seed must be a safe integer (at most 2^53 - 1 in size)')
    .nullish(),
  user: z.string('user must be a string').nullish(),
  /** Extension: the conversation whose history the swarm keeps. */
  conversation_id: z
    .string('conversation_id must be a string')
    .regex(new RegExp(`^[A-Za-z0-9._:-]{1,${conversationIdCharactersMax}}$`), `conversation_id must be 1 to ${conversationIdCharactersMax} characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'`)
    .nullish(),
  /** Extension: report every token with its top candidates. */
  trace: z.boolean('trace must be true or false').nullish(),
  /** Extension: candidates per token in a trace. */
  trace_top_k: z.number().int('trace_top_k must be an integer').min(1, `trace_top_k must be from 1 to ${traceTopCandidatesMax}`).max(traceTopCandidatesMax, `trace_top_k must be from 1 to ${traceTopCandidatesMax}`).nullish(),
};

const contentError = 'content must be a string, or an array of {"type": "text", "text": string} parts (images, audio and files are not supported)';
const textPart = z.object({ type: z.literal('text'), text: z.string() });

const chatMessage = z.object({
  // 'developer' is OpenAI's newer name for the system role.
  role: z.enum(['system', 'developer', 'user', 'assistant'], { error: 'role must be system, developer, user or assistant (tool and function messages are not supported)' }),
  content: z.union([z.string(), z.array(textPart).min(1)], { error: contentError }),
});

const chatRequest = z.object({
  ...commonFields,
  messages: z
    .array(chatMessage, 'messages must be an array of {role, content} objects')
    .min(1, 'messages must hold at least one message')
    .max(chatMessagesMax, `messages may hold at most ${chatMessagesMax} messages`),
});

const completionRequest = z.object({
  ...commonFields,
  prompt: z.union([z.string(), z.array(z.string()).length(1)], {
    error: 'prompt must be a string (one prompt per request: arrays of several prompts and token arrays are not supported)',
  }),
});

/** A request in nines' terms, whichever endpoint it came to. */
export interface ParsedRequest {
  model: string;
  input: { kind: 'chat'; messages: ChatMessage[] } | { kind: 'prompt'; prompt: string };
  /** undefined: as many as the context window leaves, within the server's limit. */
  maxTokens: number | undefined;
  temperature: number;
  topP: number;
  topK: number;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  /** undefined: the server picks one and reports it. */
  seed: number | undefined;
  conversationId: string | undefined;
  trace: boolean;
  traceTopK: number | undefined;
}

type CommonParsed = z.infer<typeof chatRequest> | z.infer<typeof completionRequest>;

export function parseChatRequest(body: unknown): ParsedRequest {
  const request = parsed(chatRequest, body);
  const messages = request.messages.map(
    (message): ChatMessage => ({
      role: message.role === 'developer' ? 'system' : message.role,
      content: typeof message.content === 'string' ? message.content : message.content.map((part) => part.text).join(''),
    }),
  );
  return commonOf(request, { kind: 'chat', messages });
}

export function parseCompletionRequest(body: unknown): ParsedRequest {
  const request = parsed(completionRequest, body);
  return commonOf(request, { kind: 'prompt', prompt: typeof request.prompt === 'string' ? request.prompt : request.prompt[0] });
}

function commonOf(request: CommonParsed, input: ParsedRequest['input']): ParsedRequest {
  if (request.n !== undefined && request.n !== null && request.n !== 1) {
    throw new OpenAiError('invalid_request_error', `n must be 1: nines generates one choice per request (got ${request.n}); send several requests, with different seeds, for several answers`, 'n');
  }
  if (request.max_tokens != null && request.max_completion_tokens != null && request.max_tokens !== request.max_completion_tokens) {
    throw new OpenAiError('invalid_request_error', 'max_tokens and max_completion_tokens disagree; send one of them', 'max_tokens');
  }
  const stop = request.stop ?? [];
  return {
    model: request.model,
    input,
    maxTokens: request.max_completion_tokens ?? request.max_tokens ?? undefined,
    // OpenAI's defaults: temperature 1, top_p 1.
    temperature: request.temperature ?? 1,
    // top_p 0 keeps only the most likely token; the sampler's smallest nucleus does the same.
    topP: request.top_p === 0 ? Number.MIN_VALUE : (request.top_p ?? 1),
    topK: request.top_k ?? 0,
    stop: typeof stop === 'string' ? [stop] : stop,
    stream: request.stream ?? false,
    includeUsage: request.stream_options?.include_usage ?? false,
    seed: request.seed ?? undefined,
    conversationId: request.conversation_id ?? undefined,
    trace: request.trace ?? false,
    traceTopK: request.trace_top_k ?? undefined,
  };
}

function parsed<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OpenAiError('invalid_request_error', 'The request body must be a JSON object.');
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = paramOf(issue.path);
  const missing = issue.code === 'invalid_type' && (body as Record<string, unknown>)[String(issue.path[0])] === undefined && issue.path.length === 1;
  const message = missing ? `Missing required parameter: '${param}'.` : `Invalid '${param}': ${issue.message}.`;
  throw new OpenAiError('invalid_request_error', message, param || null);
}

/** A zod path as OpenAI writes a param: `messages[0].content`. */
function paramOf(path: readonly PropertyKey[]): string {
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`)).join('');
}
