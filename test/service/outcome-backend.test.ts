import { describe, expect, it } from 'vitest';
import { CompletionError, type CompletionBackend, type CompletionEvent } from '../../src/service/completion-backend.js';
import { withOutcomes, type JobOutcome } from '../../src/service/outcome-backend.js';

function backendOf(run: () => AsyncGenerator<CompletionEvent>): CompletionBackend {
  return { models: () => [], promptTokens: () => 1, run };
}

const job = { model: 'm', input: { kind: 'prompt' as const, prompt: 'x' }, maxTokens: 1, sampler: { seed: 1 }, stop: [], trace: false, traceTopK: 1, apiKeyName: 'k', apiKeyPriority: 'normal' as const };

async function drain(backend: CompletionBackend, signal = new AbortController().signal): Promise<void> {
  for await (const event of backend.run(job as never, signal)) void event;
}

describe('a backend that reports its outcomes', () => {
  it('reports ok at the end, failed for a service failure, and nothing for client faults or cancelled jobs', async () => {
    const outcomes: JobOutcome[] = [];
    const wrap = (run: () => AsyncGenerator<CompletionEvent>) => withOutcomes(backendOf(run), ({ outcome }) => void outcomes.push(outcome));
    await drain(wrap(async function* () {
      yield { type: 'start', promptTokens: 1 };
      yield { type: 'end', reason: 'length', text: '', promptTokens: 1, completionTokens: 0 };
    }));
    await expect(drain(wrap(async function* () {
      yield { type: 'start', promptTokens: 1 };
      throw new CompletionError('server_busy', 'no compute peer');
    }))).rejects.toThrow('no compute peer');
    await expect(drain(wrap(async function* () {
      yield* [];
      throw new CompletionError('context_length_exceeded', 'too long');
    }))).rejects.toThrow('too long');
    const cancelled = new AbortController();
    cancelled.abort();
    await expect(drain(wrap(async function* () {
      yield* [];
      throw new Error('aborted');
    }), cancelled.signal)).rejects.toThrow('aborted');
    expect(outcomes).toEqual(['ok', 'failed']);
    // A consumer that stops at the end event (as the API's stream does) still has the job counted.
    const stopsAtEnd = wrap(async function* () {
      yield { type: 'start', promptTokens: 1 };
      yield { type: 'end', reason: 'length', text: '', promptTokens: 1, completionTokens: 0 };
    });
    for await (const event of stopsAtEnd.run(job as never, new AbortController().signal)) if (event.type === 'end') break;
    expect(outcomes).toEqual(['ok', 'failed', 'ok']);
  });
});
