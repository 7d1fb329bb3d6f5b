/**
 * A streamed chat answer, chunk by chunk, as the chat panel needs it: pieces of text, each
 * with the trace of the sampling steps that produced it, then the end (finish reason and
 * the read-after-write session token) or an error.
 *
 * With `trace: true` the gateway sends one chunk per token: `choices[0].delta.content` is
 * the token's text and `nines_trace` holds that token's step. A token that ends inside a
 * multi-byte character has no text of its own yet; its step is held back and joins the
 * next piece that has text, so every visible piece carries every step behind it.
 */
import type { TraceEntry } from './types.js';

export type ChatStreamEvent =
  | { type: 'piece'; text: string; steps: TraceEntry[] }
  | { type: 'end'; finishReason: string | null; session: string | null }
  | { type: 'error'; message: string };

interface ChunkShape {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  nines_trace?: TraceEntry[];
  nines_session?: string;
  error?: { message?: string };
}

export class ChatStreamReader {
  private heldSteps: TraceEntry[] = [];
  private ended = false;

  /** The events one SSE data payload makes; `[DONE]` ends the stream. */
  read(data: string): ChatStreamEvent[] {
    if (data === '[DONE]') return this.finish(null, null);
    let chunk: ChunkShape;
    try {
      chunk = JSON.parse(data) as ChunkShape;
    } catch {
      return [{ type: 'error', message: `the stream sent something that is not JSON: ${data.slice(0, 120)}` }];
    }
    if (chunk.error !== undefined) return [{ type: 'error', message: chunk.error.message ?? 'the stream failed' }];
    const events: ChatStreamEvent[] = [];
    const choice = chunk.choices?.[0];
    const text = choice?.delta?.content ?? '';
    if (Array.isArray(chunk.nines_trace)) this.heldSteps.push(...chunk.nines_trace);
    if (text !== '') {
      events.push({ type: 'piece', text, steps: this.heldSteps });
      this.heldSteps = [];
    }
    const finishReason = choice?.finish_reason ?? null;
    if (finishReason !== null || chunk.nines_session !== undefined) events.push(...this.finish(finishReason, chunk.nines_session ?? null));
    return events;
  }

  /** The stream closed: a stream that never said it ended was cut off. */
  close(): ChatStreamEvent[] {
    return this.ended ? [] : [{ type: 'error', message: 'the answer stopped before its end (the connection closed)' }];
  }

  private finish(finishReason: string | null, session: string | null): ChatStreamEvent[] {
    if (this.ended) return [];
    this.ended = true;
    return [{ type: 'end', finishReason, session }];
  }
}
