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

export interface JobReport {
  outcome: JobOutcome;
  latencyMs: number;
  /** The model the job ran on (checked by the backend before anything is reported). */
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** Why a failed job failed: the backend's error code, or 'internal_error'. */
  errorCode?: string;
}

const clientFaults = new Set(['model_not_found', 'context_length_exceeded', 'unsupported_feature', 'invalid_request_error']);

export function withOutcomes(backend: CompletionBackend, report: (report: JobReport) => void, now: () => number = () => performance.now()): CompletionBackend {
  return {
    models: () => backend.models(),
    promptTokens: (job) => backend.promptTokens(job),
    run: (job: CompletionJob, signal: AbortSignal) => reported(job.model, backend.run(job, signal), signal, report, now),
  };
}

async function* reported(
  model: string,
  events: AsyncIterable<CompletionEvent>,
  signal: AbortSignal,
  report: (report: JobReport) => void,
  now: () => number,
): AsyncGenerator<CompletionEvent, void, undefined> {
  const startedMs = now();
  let promptTokens = 0;
  let completionTokens = 0;
  try {
    for await (const event of events) {
      if (event.type === 'start') promptTokens = event.promptTokens;
      if (event.type === 'token') completionTokens++;
      // Reported as the end goes out: a consumer may stop asking once it has the end event.
      if (event.type === 'end') report({ outcome: 'ok', latencyMs: now() - startedMs, model, promptTokens: event.promptTokens, completionTokens: event.completionTokens });
      yield event;
    }
  } catch (error) {
    if (!signal.aborted && !(error instanceof CompletionError && clientFaults.has(error.code))) {
      const errorCode = error instanceof CompletionError ? error.code : 'internal_error';
      report({ outcome: 'failed', latencyMs: now() - startedMs, model, promptTokens, completionTokens, errorCode });
    }
    throw error;
  }
}
