/**
 * The in-process completion backend: one loaded model serves every job, one job at a time.
 *
 * A model's forward passes cannot usefully interleave (they share the kernel threads and
 * would only slow each other down), so jobs take turns through a first-in, first-out lock
 * with a bounded queue: a job that finds the queue full is refused at once (server_busy)
 * rather than waiting without limit. Between generated tokens the run yields to the event
 * loop, so the server keeps answering and an abort (the client went away) stops the
 * generation after at most one more token.
 *
 * A job becomes a prompt, stop texts and sampler settings through prepareJob, the same
 * function the swarm's gateways use, so both paths compute the same bits.
 *
 * Conversations (a job with `conversationId`) need the swarm's replicated store; this
 * backend refuses them with a clear error rather than silently forgetting the history.
 */
import { setImmediate as nextEventLoopTurn } from 'node:timers/promises';
import type { LoadedModel } from '../model/load-file.js';
import { generate, type GenerationStep } from '../model/generate.js';
import { asCompletionErrorValue, prepareJob } from './prepared-job.js';
import { FifoLock } from './fifo-lock.js';
import { CompletionError, type CompletionBackend, type CompletionEvent, type CompletionJob, type ModelCard } from './completion-backend.js';

/** Jobs that may wait for the model at once; one more is refused with server_busy. */
export const localQueuedJobsMaxDefault = 32;

export interface LocalBackendOptions {
  /** When the model was made available, in unix seconds (default: now). */
  createdSeconds?: number;
  /** Default 'nines'. */
  ownedBy?: string;
  /** Default localQueuedJobsMaxDefault. */
  queuedJobsMax?: number;
}

/** What the backend has done since it started, for status pages and tests. */
export interface LocalBackendCounters {
  jobsStarted: number;
  jobsCompleted: number;
  /** Jobs whose client went away before the end. */
  jobsAborted: number;
  /** Jobs that failed part-way (an error, not the client). */
  jobsFailed: number;
  tokensGenerated: number;
}

export class LocalCompletionBackend implements CompletionBackend {
  private readonly card: ModelCard;
  private readonly lock: FifoLock;
  private readonly counts: LocalBackendCounters = { jobsStarted: 0, jobsCompleted: 0, jobsAborted: 0, jobsFailed: 0, tokensGenerated: 0 };

  constructor(
    private readonly loaded: LoadedModel,
    options: LocalBackendOptions = {},
  ) {
    const queuedJobsMax = options.queuedJobsMax ?? localQueuedJobsMaxDefault;
    if (!Number.isInteger(queuedJobsMax) || queuedJobsMax < 0) throw new RangeError(`queuedJobsMax must be an integer >= 0, got ${queuedJobsMax}`);
    this.lock = new FifoLock(queuedJobsMax, (waiting) => new CompletionError('server_busy', `The model is busy: ${waiting} requests are already waiting for it. Retry shortly.`));
    this.card = {
      id: loaded.name,
      created: options.createdSeconds ?? Math.floor(Date.now() / 1000),
      ownedBy: options.ownedBy ?? 'nines',
      contextTokens: loaded.config.contextLength,
    };
  }

  models(): ModelCard[] {
    return [{ ...this.card }];
  }

  get counters(): Readonly<LocalBackendCounters> {
    return { ...this.counts };
  }

  /** Jobs waiting for the model now (not counting the one running). */
  get queuedJobs(): number {
    return this.lock.waitingCount;
  }

  promptTokens(job: CompletionJob): number {
    this.checkJob(job);
    return prepareJob(this.loaded, job).prompt.length;
  }

  async *run(job: CompletionJob, signal: AbortSignal): AsyncGenerator<CompletionEvent, void, undefined> {
    this.checkJob(job);
    const { prompt, stop, sampler } = prepareJob(this.loaded, job);
    const release = await this.lock.acquire(signal);
    if (release === undefined) return;
    this.counts.jobsStarted++;
    const steps = generate({
      model: this.loaded.transformer,
      tokenizer: this.loaded.tokenizer,
      prompt,
      sampler,
      maxTokens: job.maxTokens,
      stop,
      trace: job.trace,
      traceTopCandidates: job.traceTopK,
    });
    let outcome: 'aborted' | 'failed' | 'completed' = 'aborted';
    try {
      yield { type: 'start', promptTokens: prompt.length };
      for (;;) {
        // Yield to the event loop between forward passes: other requests are served meanwhile, and an abort is seen here.
        await nextEventLoopTurn();
        if (signal.aborted) return;
        const step = await nextStep(steps);
        if (step === undefined) throw new Error('the generation ended without an end step');
        if (step.kind === 'prompt') continue;
        if (step.kind === 'token') {
          this.counts.tokensGenerated++;
          yield tokenEvent(step, this.loaded.tokenizer.tokenText(step.id));
          continue;
        }
        outcome = 'completed';
        yield { type: 'end', reason: step.reason, text: step.text, promptTokens: prompt.length, completionTokens: step.generatedTokens.length };
        return;
      }
    } catch (error) {
      outcome = 'failed';
      throw error;
    } finally {
      if (outcome === 'completed') this.counts.jobsCompleted++;
      else if (outcome === 'aborted') this.counts.jobsAborted++;
      else this.counts.jobsFailed++;
      // Closing the generation frees its KV cache before the next job takes the model.
      await steps.return();
      release();
    }
  }

  private checkJob(job: CompletionJob): void {
    if (job.model !== this.card.id) {
      throw new CompletionError('model_not_found', `The model '${job.model}' does not exist on this peer; it serves '${this.card.id}' (see GET /v1/models).`, 'model');
    }
    if (job.conversationId !== undefined) {
      throw new CompletionError(
        'unsupported_feature',
        "conversation_id is not supported here: conversations need the swarm's replicated store; this backend runs one model in-process. Send the whole conversation in messages instead.",
        'conversation_id',
      );
    }
  }
}

function tokenEvent(step: Extract<GenerationStep, { kind: 'token' }>, tokenText: string): CompletionEvent {
  return {
    type: 'token',
    tokenId: step.id,
    text: step.text,
    tokenText,
    ...(step.probability !== undefined && { probability: step.probability }),
    ...(step.candidates !== undefined && { candidates: step.candidates }),
  };
}

async function nextStep(steps: AsyncGenerator<GenerationStep, void, undefined>): Promise<GenerationStep | undefined> {
  let result: IteratorResult<GenerationStep, void>;
  try {
    result = await steps.next();
  } catch (error) {
    throw asCompletionErrorValue(error);
  }
  return result.done === true ? undefined : result.value;
}
