/**
 * The compute side of the swarm: one loaded model serving chunks of generation to gateways.
 *
 * Each job's live generation (its KV cache, inside `generate()`) is kept between chunks, so
 * a job that stays on this peer pays for its prompt once. A chunk that does not continue a
 * live job — the job began on a peer that died, or was evicted here — starts the job again
 * from the request's resume data (prefill of prompt + tokens so far, the sampler state after
 * the last one), which continues the text exactly (see protocol.ts).
 *
 * The model computes one chunk at a time (forward passes share the kernel threads);
 * chunks of different jobs take turns through a first-in, first-out queue with a bound.
 *
 * Generating ahead: once a chunk is answered, the engine goes on generating the job's next
 * tokens while the answer travels to the gateway and its next request travels back, so that
 * request finds them ready (and, at the end of a job, finds the end ready rather than costing
 * one more round trip). It stops one token past a chunk ahead, and after the current token as soon as
 * any chunk waits for the model, so it never delays real work by more than one forward pass.
 * The tokens are the same either way: the generator is the job's, in the same order.
 */
import type { LoadedModel } from '../../model/load-file.js';
import { generate, type GenerationStep } from '../../model/generate.js';
import type { ChunkRequest, ChunkResponse, ChunkStep } from './protocol.js';
import { FifoLock } from '../fifo-lock.js';
import { laterChunkTokens } from './failover-runner.js';

/** Jobs whose sessions are kept between chunks; the least recently used is dropped beyond it. */
export const liveJobsMaxDefault = 16;
/** A job not continued for this long is dropped (its gateway went away or moved it). */
export const liveJobIdleMsDefault = 30_000;
/** Chunks that may wait for the model; one more is refused so the gateway tries another peer. */
export const waitingChunksMaxDefault = 64;

export class ComputeBusyError extends Error {
  override name = 'ComputeBusyError';
  readonly code = 'COMPUTE_BUSY';
}

export class ComputeRequestError extends Error {
  override name = 'ComputeRequestError';
  readonly code = 'COMPUTE_REQUEST_INVALID';
}

interface LiveJob {
  steps: AsyncGenerator<GenerationStep, void, undefined>;
  /** Tokens handed to the gateway so far in this job (resumed ones included). */
  position: number;
  /** Tokens generated ahead of the gateway's next request, not yet handed over. */
  ready: ChunkStep[];
  /** The job's end, once the generator reached it (possibly while generating ahead). */
  end?: NonNullable<ChunkResponse['end']>;
  lastUsedMs: number;
}

export interface ComputeEngineOptions {
  liveJobsMax?: number;
  liveJobIdleMs?: number;
  waitingChunksMax?: number;
  now?: () => number;
}

export interface ComputeCounters {
  chunks: number;
  tokens: number;
  /** Chunks that had to start their job again from resume data (failover or eviction). */
  resumes: number;
  refusedBusy: number;
}

export class ComputeEngine {
  private readonly live = new Map<string, LiveJob>();
  private readonly lock: FifoLock;
  private readonly never = new AbortController().signal;
  private readonly liveJobsMax: number;
  private readonly liveJobIdleMs: number;
  private readonly waitingChunksMax: number;
  private readonly now: () => number;
  readonly counters: ComputeCounters = { chunks: 0, tokens: 0, resumes: 0, refusedBusy: 0 };

  constructor(
    private readonly model: LoadedModel,
    options: ComputeEngineOptions = {},
  ) {
    this.liveJobsMax = options.liveJobsMax ?? liveJobsMaxDefault;
    this.liveJobIdleMs = options.liveJobIdleMs ?? liveJobIdleMsDefault;
    this.waitingChunksMax = options.waitingChunksMax ?? waitingChunksMaxDefault;
    this.now = options.now ?? Date.now;
    this.lock = new FifoLock(this.waitingChunksMax, (waiting) => {
      this.counters.refusedBusy++;
      return new ComputeBusyError(`${waiting} chunks already wait for this peer's model; try another compute peer`);
    });
  }

  get modelName(): string {
    return this.model.name;
  }

  /** Whether the job is live here (its session kept between chunks). */
  hasJob(jobId: string): boolean {
    return this.live.has(jobId);
  }

  /** Live jobs whose gateway asked for a chunk within the last `withinMs`: the ones still being pulled. */
  activeJobs(withinMs: number): number {
    const since = this.now() - withinMs;
    let count = 0;
    for (const job of this.live.values()) if (job.lastUsedMs >= since && job.end === undefined) count++;
    return count;
  }

  load(): ChunkResponse['load'] {
    return { liveJobs: this.live.size, waitingChunks: this.lock.waitingCount };
  }

  /** Serves one chunk of a job (the request was validated by chunkRequestProblem). */
  async chunk(request: ChunkRequest): Promise<ChunkResponse> {
    if (request.model !== this.model.name) throw new ComputeRequestError(`this peer serves model ${this.model.name}, not ${request.model}`);
    const release = (await this.lock.acquire(this.never))!;
    let response: ChunkResponse;
    try {
      response = await this.serve(request);
    } finally {
      release();
    }
    // As far as the gateway's next chunk (the later chunks are as large as laterChunkTokens) and
    // one more: a job's end comes one step after its last token, so the last chunk carries it.
    // After this turn of the event loop: the answer is written to its socket first, then the model works ahead.
    const ahead = Math.max(request.chunkTokens, laterChunkTokens) + 1;
    if (response.end === undefined) setImmediate(() => void this.generateAhead(request.jobId, ahead));
    return response;
  }

  /** Drops every live job (their KV caches) before the model is closed. */
  async close(): Promise<void> {
    for (const jobId of [...this.live.keys()]) await this.drop(jobId);
  }

  private async serve(request: ChunkRequest): Promise<ChunkResponse> {
    this.counters.chunks++;
    await this.dropIdleJobs();
    const have = request.resume?.generatedTokens.length ?? 0;
    let job = this.live.get(request.jobId);
    if (job !== undefined && job.position !== have) {
      // The gateway is elsewhere in the job than this session: start again from what it has.
      await this.drop(request.jobId);
      job = undefined;
    }
    if (job === undefined) job = await this.start(request, have);
    job.lastUsedMs = this.now();
    const steps = job.ready.splice(0, request.chunkTokens);
    try {
      // A job that has all its tokens has its end one step on, which costs no forward pass: take
      // it too, so the gateway needs no round trip just to hear that the answer is over.
      while (job.end === undefined && (steps.length < request.chunkTokens || job.position + steps.length >= request.maxTokens)) {
        const step = await this.nextStep(job);
        if (step !== undefined) steps.push(step);
      }
    } catch (error) {
      // generate() checks a request on its first step: a bad prompt or resume data ends here.
      this.live.delete(request.jobId);
      throw new ComputeRequestError(error instanceof Error ? error.message : String(error));
    }
    job.position += steps.length;
    if (job.end !== undefined && job.ready.length === 0) {
      const end = job.end;
      await this.drop(request.jobId);
      return { steps, end, load: this.load() };
    }
    return { steps, load: this.load() };
  }

  /** Generates one more token of the job (undefined for the prompt step), or records its end. */
  private async nextStep(job: LiveJob): Promise<ChunkStep | undefined> {
    const next = await job.steps.next();
    if (next.done === true) throw new Error('the generation stopped without its end step');
    const step = next.value;
    if (step.kind === 'prompt') return undefined;
    if (step.kind === 'end') {
      job.end = { reason: step.reason, text: step.text };
      return undefined;
    }
    this.counters.tokens++;
    return {
      id: step.id,
      text: step.text,
      tokenText: this.model.tokenizer.tokenText(step.id),
      samplerState: step.samplerState,
      ...(step.probability !== undefined && { probability: step.probability }),
      ...(step.candidates !== undefined && { candidates: step.candidates }),
    };
  }

  /** Generates up to `tokens` of the job ahead of its next request, yielding to any chunk that waits. */
  private async generateAhead(jobId: string, tokens: number): Promise<void> {
    if (this.lock.waitingCount > 0) return;
    const release = await this.lock.acquire(this.never);
    if (release === undefined) return;
    try {
      const job = this.live.get(jobId);
      while (job !== undefined && this.live.get(jobId) === job && job.end === undefined && job.ready.length < tokens && this.lock.waitingCount === 0) {
        const step = await this.nextStep(job);
        if (step !== undefined) job.ready.push(step);
        // A forward pass on one thread never gives the event loop a turn: take one, so that a
        // chunk that arrived meanwhile is read and waits for the lock, which ends this loop.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch {
      // Its gateway's next request starts the job again from its resume data, and meets the error itself.
      this.live.delete(jobId);
    } finally {
      release();
    }
  }

  private async start(request: ChunkRequest, have: number): Promise<LiveJob> {
    if (have > 0) this.counters.resumes++;
    while (this.live.size >= this.liveJobsMax) await this.drop(this.leastRecentlyUsed()!);
    const { seed, ...settings } = request.sampler;
    const steps = generate({
      model: this.model.transformer,
      tokenizer: this.model.tokenizer,
      prompt: request.prompt,
      sampler: { ...settings, seed },
      maxTokens: request.maxTokens,
      stop: request.stop,
      trace: request.traceTopK > 0,
      ...(request.traceTopK > 0 && { traceTopCandidates: request.traceTopK }),
      ...(request.resume !== undefined && { resume: request.resume }),
    });
    const job: LiveJob = { steps, position: have, ready: [], lastUsedMs: this.now() };
    this.live.set(request.jobId, job);
    return job;
  }

  private leastRecentlyUsed(): string | undefined {
    let oldest: [string, LiveJob] | undefined;
    for (const entry of this.live) if (oldest === undefined || entry[1].lastUsedMs < oldest[1].lastUsedMs) oldest = entry;
    return oldest?.[0];
  }

  private async dropIdleJobs(): Promise<void> {
    const now = this.now();
    for (const [jobId, job] of [...this.live]) if (now - job.lastUsedMs > this.liveJobIdleMs) await this.drop(jobId);
  }

  private async drop(jobId: string): Promise<void> {
    const job = this.live.get(jobId);
    if (job === undefined) return;
    this.live.delete(jobId);
    // Closing the generator runs its finally block, which gives the KV cache back.
    await job.steps.return(undefined);
  }
}
