/**
 * Request outcomes for the availability tracker (DESIGN.md section 4, step 8): a completion
 * backend wrapped so that every job it runs reports how it ended and how long it took.
 *
 * - ok: the job reached its end event (streamed or not);
 * - failed: the service could not finish it (no compute peer, the store unavailable, a peer
 *   failure nothing could route around) — what counts against availability;
 * - a job the client cancelled, or that the client's own request made impossible (a bad
 *   request, an unknown model, an overlong prompt), is not reported: neither is the service's
 *   failure.
 *
 * Refusals before a job runs (rate limits, a full admission queue) are reported by the API
 * routes as 'rejected' (routes.ts, onRefusal).
 */
import { CompletionError, type CompletionBackend, type CompletionEvent, type CompletionJob } from './completion-backend.js';

export type JobOutcome = 'ok' | 'failed';

const clientFaults = new Set(['model_not_found', 'context_length_exceeded', 'unsupported_feature', 'invalid_request_error']);

export function withOutcomes(backend: CompletionBackend, report: (outcome: { outcome: JobOutcome; latencyMs: number }) => void, now: () => number = () => performance.now()): CompletionBackend {
  return {
    models: () => backend.models(),
    promptTokens: (job) => backend.promptTokens(job),
    run: (job: CompletionJob, signal: AbortSignal) => reported(backend.run(job, signal), signal, report, now),
  };
}

async function* reported(
  events: AsyncIterable<CompletionEvent>,
  signal: AbortSignal,
  report: (outcome: { outcome: JobOutcome; latencyMs: number }) => void,
  now: () => number,
): AsyncGenerator<CompletionEvent, void, undefined> {
  const startedMs = now();
  try {
    for await (const event of events) {
      // Reported as the end goes out: a consumer may stop asking once it has the end event.
      if (event.type === 'end') report({ outcome: 'ok', latencyMs: now() - startedMs });
      yield event;
    }
  } catch (error) {
    if (!signal.aborted && !(error instanceof CompletionError && clientFaults.has(error.code))) report({ outcome: 'failed', latencyMs: now() - startedMs });
    throw error;
  }
}
