/**
 * The limits of the OpenAI-compatible API, each with its unit. A request over one of them
 * is refused with an error that names the limit; a cluster may lower or raise them
 * (`OpenAiRoutesOptions.limits`).
 */

export interface OpenAiLimits {
  /** A request body's size at most, in bytes (413 request_too_large over it). */
  requestBytesMax: number;
  /** A prompt's tokens at most, after the chat template (400 prompt_too_long over it). */
  promptTokensMax: number;
  /** `max_tokens` at most, in tokens (400 max_tokens_too_large over it). */
  completionTokensMax: number;
  /** Completions one API key may have running at once, streamed or not (429 over it, with Retry-After). */
  streamsPerKeyMax: number;
}

export const defaultOpenAiLimits: Readonly<OpenAiLimits> = Object.freeze({
  requestBytesMax: 1024 * 1024,
  promptTokensMax: 32_768,
  completionTokensMax: 4096,
  streamsPerKeyMax: 8,
});

/** OpenAI's own limit on stop sequences per request. */
export const stopSequencesMax = 4;
/** A stop sequence's length at most, in UTF-16 units (the model's generation loop allows no more). */
export const stopSequenceCharactersMax = 256;
/** A `conversation_id`'s length at most, in characters. */
export const conversationIdCharactersMax = 128;
/** A session token's length at most, in characters. */
export const sessionTokenCharactersMax = 256;
/** Trace candidates per token when a request asks for a trace but not how many. */
export const traceTopKDefault = 5;
/** Seconds a client refused with 429 or 503 is told to wait before it retries. */
export const retryAfterSeconds = 1;
/** The header that carries the read-after-write session token, in and out. */
export const sessionHeader = 'x-nines-session';
