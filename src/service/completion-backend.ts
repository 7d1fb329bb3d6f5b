/**
 * The contract between the HTTP API and whatever serves completions.
 *
 * The API (src/api/openai/) turns an OpenAI request into a CompletionJob and streams the
 * CompletionEvents of `run` back to the client. Today LocalCompletionBackend serves jobs
 * with one model in this process; the swarm (a gateway routing to compute peers, with
 * failover and conversations in the replicated store) implements the same interface, so
 * the API does not change when generation moves across the network.
 *
 * A run's events come in this order: one 'start' (the prompt is tokenized and the job
 * admitted), any number of 'token', then one 'end'. A run whose signal is aborted (the
 * client went away) stops promptly and ends without an 'end' event.
 */
import type { ChatMessage } from '../model/chat-template.js';
import type { EndReason, TraceCandidate } from '../model/generate.js';

export type { ChatMessage } from '../model/chat-template.js';
export type { EndReason, TraceCandidate } from '../model/generate.js';

/** What a job's text is continued from: a raw prompt, or a conversation rendered with the model's chat template. */
export type CompletionInput = { kind: 'prompt'; prompt: string } | { kind: 'chat'; messages: ChatMessage[] };

export interface SamplerChoice {
  /** 0 = greedy. */
  temperature: number;
  /** Nucleus sampling; 1 = off. */
  topP: number;
  /** 0 = off. */
  topK: number;
  /** The same seed and settings give the same text. */
  seed: number;
}

export type ApiKeyPriority = 'normal' | 'low';

export interface CompletionJob {
  model: string;
  input: CompletionInput;
  /** Generated tokens at most (the end-of-text token is not counted). */
  maxTokens: number;
  sampler: SamplerChoice;
  /** Texts that end the answer, in addition to the model's own (e.g. its chat template's). */
  stop: string[];
  /** Report each token's top-k candidates (an extension of the OpenAI API). */
  trace: boolean;
  /** How many candidates a trace shows per token. */
  traceTopK: number;
  /** Extension: the conversation whose history the swarm keeps. */
  conversationId?: string;
  /** Extension: the read-after-write token the client got with its last turn. */
  sessionToken?: string;
  /**
   * The client reads the answer as it is made (a stream): the backend hands over the first
   * token as soon as it has it. A client that waits for the whole answer does not care, and
   * a swarm then saves a round trip to its compute peer. Absent: false.
   */
  streamed?: boolean;
  /** Who asked ('anonymous' when the cluster is open). */
  apiKeyName: string;
  /** The key's priority: under pressure, low-priority work is shed first. */
  apiKeyPriority: ApiKeyPriority;
}

export type CompletionEvent =
  | { type: 'start'; promptTokens: number }
  | {
      type: 'token';
      tokenId: number;
      /** Newly completed text; '' while a character or a possible stop string is incomplete. */
      text: string;
      /** The token's own text, for display (lossy for a partial character). */
      tokenText: string;
      /** With a trace: the probability the chosen token had, and the top candidates. */
      probability?: number;
      candidates?: TraceCandidate[];
      /** Which compute peer produced the token (the swarm sets it). */
      peer?: string;
    }
  | {
      type: 'end';
      reason: EndReason;
      /** Text held back until the end (it could have become a stop string); '' when there is none. */
      text: string;
      promptTokens: number;
      completionTokens: number;
      sessionToken?: string;
    };

export interface ModelCard {
  id: string;
  /** Unix seconds. */
  created: number;
  ownedBy: string;
  /** The context window in tokens: prompt and generated tokens together must fit it. */
  contextTokens: number;
}

export interface CompletionBackend {
  models(): ModelCard[];
  /** Prompt tokens of a job, counted before admission so the prompt-token limit can refuse it early. */
  promptTokens(job: CompletionJob): number;
  run(job: CompletionJob, signal: AbortSignal): AsyncIterable<CompletionEvent>;
}

/**
 * Why a backend refuses a job. The API maps each code to an HTTP status in one table
 * (src/api/openai/errors.ts); the codes are OpenAI's where OpenAI has one.
 */
export const completionErrorCodes = [
  /** The job names a model this backend does not serve (404). */
  'model_not_found',
  /** The prompt, or the prompt with max_tokens, does not fit the context window (400). */
  'context_length_exceeded',
  /** The job asks for something this backend cannot do, e.g. conversations in-process (400). */
  'unsupported_feature',
  /** The job is malformed in a way the API's validation did not catch (400). */
  'invalid_request_error',
  /** Too many jobs wait already; try again shortly (503). */
  'server_busy',
] as const;
export type CompletionErrorCode = (typeof completionErrorCodes)[number];

export class CompletionError extends Error {
  override name = 'CompletionError';

  /**
   * @param code stable, for the API's status table
   * @param message what is wrong and what to do
   * @param param the request field at fault, when there is one (OpenAI's `param`)
   */
  constructor(
    readonly code: CompletionErrorCode,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}
