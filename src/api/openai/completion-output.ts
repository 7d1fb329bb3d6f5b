/**
 * Turns a backend's completion events into what the client receives: one whole
 * completion object, or a stream of Server-Sent Events frames.
 */
import type { CompletionEvent } from '../../service/completion-backend.js';
import { asOpenAiError } from './errors.js';
import {
  chatChunk,
  chatCompletion,
  finishReasonOf,
  sseDone,
  sseFrame,
  textChunk,
  textCompletion,
  traceEntryOf,
  usageChunk,
  type CompletionIdentity,
  type TraceEntry,
} from './responses.js';

export type Endpoint = 'chat' | 'text';

type EndEvent = Extract<CompletionEvent, { type: 'end' }>;

export interface OutputOptions {
  endpoint: Endpoint;
  identity: CompletionIdentity;
  trace: boolean;
  includeUsage: boolean;
}

/** Reads the events to the end; undefined when they stop without an end (the request was aborted). */
export async function collectCompletion(
  events: AsyncIterator<CompletionEvent>,
  options: OutputOptions,
): Promise<{ body: Record<string, unknown>; end: EndEvent } | undefined> {
  let text = '';
  const trace: TraceEntry[] | undefined = options.trace ? [] : undefined;
  for (;;) {
    const next = await events.next();
    if (next.done === true) return undefined;
    const event = next.value;
    if (event.type === 'token') {
      text += event.text;
      trace?.push(traceEntryOf(event));
    } else if (event.type === 'end') {
      text += event.text;
      const build = options.endpoint === 'chat' ? chatCompletion : textCompletion;
      return { body: build(options.identity, text, event, trace), end: event };
    }
  }
}

/**
 * The frames of a streamed completion. A chat stream opens with a chunk that gives the
 * role; each token with text (with a trace: each token) becomes a chunk; the last chunk
 * has the finish reason; then the usage chunk if asked for, and `[DONE]`. An error after
 * the stream began is sent as an `error` frame, which OpenAI's clients raise.
 */
export async function* streamFrames(events: AsyncIterator<CompletionEvent>, options: OutputOptions): AsyncGenerator<string, void, undefined> {
  const { identity, endpoint } = options;
  const usageNull = options.includeUsage;
  const chunk = (text: string, extensions: { trace?: TraceEntry[] }) =>
    endpoint === 'chat' ? chatChunk(identity, { content: text }, null, { ...extensions, usageNull }) : textChunk(identity, text, null, { ...extensions, usageNull });
  if (endpoint === 'chat') yield sseFrame(chatChunk(identity, { role: 'assistant', content: '' }, null, { usageNull }));
  for (;;) {
    let next: IteratorResult<CompletionEvent>;
    try {
      next = await events.next();
    } catch (error) {
      yield sseFrame(asOpenAiError(error).body());
      return;
    }
    if (next.done === true) return;
    const event = next.value;
    if (event.type === 'token') {
      if (options.trace) yield sseFrame(chunk(event.text, { trace: [traceEntryOf(event)] }));
      else if (event.text !== '') yield sseFrame(chunk(event.text, {}));
    } else if (event.type === 'end') {
      if (event.text !== '') yield sseFrame(chunk(event.text, {}));
      const finishReason = finishReasonOf(event.reason);
      const extensions = { session: event.sessionToken, usageNull };
      yield sseFrame(endpoint === 'chat' ? chatChunk(identity, {}, finishReason, extensions) : textChunk(identity, '', finishReason, extensions));
      if (options.includeUsage) yield sseFrame(usageChunk(identity, endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion', event));
      yield sseDone;
      return;
    }
  }
}
