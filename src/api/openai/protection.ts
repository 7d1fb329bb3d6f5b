/**
 * The gateway's protection of the service (DESIGN.md section 4, step 2), in the order a
 * request meets it:
 *
 *   1. the caller's rate limits (requests and tokens per minute): 429 with Retry-After;
 *   2. the degradation policy: under sustained pressure it sheds what is not essential —
 *      traces, then long answers, then low-priority keys — before it refuses core chat (503),
 *      and says what it did in the `x-nines-degraded` header;
 *   3. the bounded admission queue: a full queue answers 503 at once, and a request that
 *      cannot start before its deadline is dropped before it costs any compute.
 *
 * Pressure is sampled on every request and on a steady tick, from the queue's fill and
 * the share of recent requests refused.
 */
import {
  AdmissionQueue,
  DeadlineExceededError,
  DegradationPolicy,
  QueueFullError,
  RateLimiter,
  type AdmissionQueueOptions,
  type DegradationOptions,
  type RateLimiterOptions,
} from '../../resilience/index.js';
import type { CompletionJob } from '../../service/completion-backend.js';
import { OpenAiError } from './errors.js';

/** How long a request may wait in the queue for a slot before it is dropped, by default. */
export const queueWaitMsMaxDefault = 10_000;
/** The refused share is measured over the outcomes of this recent window... */
const outcomesWindowMs = 10_000;
/** ...and at most this many of them. */
const outcomesMax = 1_000;
const pressureTickMs = 250;
export const degradedHeader = 'x-nines-degraded';

export interface ProtectionOptions {
  rateLimits?: RateLimiterOptions;
  admission?: AdmissionQueueOptions;
  degradation?: DegradationOptions;
  queueWaitMsMax?: number;
  now?: () => number;
}

export interface Admitted {
  job: CompletionJob;
  headers: Record<string, string>;
  /** Frees the slot and settles the caller's token count; call exactly once. */
  finish(completionTokens: number): void;
}

export class Protection {
  readonly rateLimiter: RateLimiter;
  readonly admission: AdmissionQueue;
  readonly degradation: DegradationPolicy;
  private readonly queueWaitMsMax: number;
  private readonly now: () => number;
  private readonly outcomes: Array<{ atMs: number; admitted: boolean }> = [];
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(options: ProtectionOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.rateLimiter = new RateLimiter({ ...options.rateLimits });
    this.admission = new AdmissionQueue({ ...options.admission });
    this.degradation = new DegradationPolicy({ ...options.degradation });
    this.queueWaitMsMax = options.queueWaitMsMax ?? queueWaitMsMaxDefault;
    this.timer = setInterval(() => this.observe(), pressureTickMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  async admit(job: CompletionJob, promptTokens: number, signal: AbortSignal): Promise<Admitted> {
    const estimate = promptTokens + job.maxTokens;
    const limited = this.rateLimiter.check(job.apiKeyName, { requests: 1, tokens: estimate });
    if (!limited.allowed) {
      // Which limit refused it rides along, for the metrics.
      throw Object.assign(new OpenAiError('rate_limit_exceeded', `Rate limit reached for ${job.apiKeyName}: ${limited.limit} per minute. Retry in ${Math.ceil(limited.retryAfterMs / 1000)} s.`, null, limited.retryAfterMs), { limit: limited.limit });
    }
    this.observe();
    const decision = this.degradation.decide({ priority: job.apiKeyPriority, maxTokens: job.maxTokens, trace: job.trace });
    const headers: Record<string, string> = decision.header === '' ? {} : { [degradedHeader]: decision.header };
    if (!decision.admit) {
      this.record(false);
      throw new OpenAiError('server_busy', `The service is under sustained pressure (${decision.level}) and is refusing this request; retry later.`, null, decision.retryAfterMs);
    }
    let ticket;
    try {
      ticket = await this.admission.admit({ deadlineMs: this.now() + this.queueWaitMsMax, priority: job.apiKeyPriority, signal });
    } catch (error) {
      this.record(false);
      this.rateLimiter.settle(job.apiKeyName, -estimate);
      if (error instanceof QueueFullError) throw new OpenAiError('server_busy', `Every slot is busy and ${this.admission.stats().depth} requests are queued; retry shortly.`, null, error.retryAfterMs);
      if (error instanceof DeadlineExceededError) throw new OpenAiError('server_busy', 'The request could not start within its deadline; retry shortly.', null, error.retryAfterMs);
      throw error;
    }
    this.record(true);
    let finished = false;
    return {
      job: { ...job, maxTokens: decision.maxTokens, trace: decision.trace },
      headers,
      finish: (completionTokens: number) => {
        if (finished) return;
        finished = true;
        ticket.release();
        this.rateLimiter.settle(job.apiKeyName, promptTokens + completionTokens - estimate);
      },
    };
  }

  private record(admitted: boolean): void {
    this.outcomes.push({ atMs: this.now(), admitted });
    if (this.outcomes.length > outcomesMax) this.outcomes.shift();
  }

  private observe(): void {
    const oldestMs = this.now() - outcomesWindowMs;
    while (this.outcomes.length > 0 && this.outcomes[0].atMs < oldestMs) this.outcomes.shift();
    const stats = this.admission.stats();
    const refused = this.outcomes.filter((outcome) => !outcome.admitted).length;
    this.degradation.observe({ queueFill: stats.depth / stats.queueDepthMax, rejectionFraction: this.outcomes.length === 0 ? 0 : refused / this.outcomes.length, lateFraction: 0 });
  }
}
