/**
 * The gateway's side of a generation: pull chunks from a compute peer, and when that peer
 * dies or stalls mid-answer, carry on from the next one with the tokens so far and the
 * sampler state after the last of them (see protocol.ts for why the text stays the same).
 *
 * For a client that streams, the first chunk is one token, so it sees the first token as soon
 * as the prompt is processed; later chunks are larger, to keep the round trips few. A client
 * that waits for the whole answer gets nothing from an early first token, so its first chunk
 * is as large as the later ones: a short answer then costs one round trip, not two. A peer
 * that fails is not tried again for this job, and the directory hears of it (its circuit
 * breaker, its load).
 */
import type { ChunkRequest, ChunkResponse, ChunkStep } from './protocol.js';

/** Peers one job may try before it gives up; beyond it the job fails with the last error. */
export const attemptsPerJobMax = 5;
export const firstChunkTokens = 1;
export const laterChunkTokens = 8;
/** How long one chunk may take before the peer counts as stalled and the job moves on. */
export const chunkTimeoutMsDefault = 5_000;

export interface ComputeDirectory {
  /** Compute peers that serve `model`, best first (healthy, least loaded), none of `exclude`. */
  candidates(model: string, exclude: ReadonlySet<string>): Promise<string[]>;
  /** One chunk from `peer`; rejects on failure, on timeout and on abort. */
  call(peer: string, request: ChunkRequest, timeoutMs: number, signal: AbortSignal): Promise<ChunkResponse>;
  /** What happened, for the peer's breaker and load estimate. */
  report(peer: string, outcome: { ok: true; load: ChunkResponse['load'] } | { ok: false; error: Error }): void;
}

export type RunnerEvent =
  | { kind: 'token'; step: ChunkStep; peer: string }
  | { kind: 'failover'; from: string; to: string | undefined; reason: string; tokensSoFar: number }
  | { kind: 'end'; reason: NonNullable<ChunkResponse['end']>['reason']; text: string; peer: string };

export class NoComputePeerError extends Error {
  override name = 'NoComputePeerError';
  readonly code = 'server_busy';
}

export interface RunnerOptions {
  chunkTimeoutMs?: number;
  /** Tokens asked for in the first chunk: firstChunkTokens for a streamed answer (the default), laterChunkTokens for one the client waits for whole. */
  firstChunkTokens?: number;
  attemptsMax?: number;
}

/** Runs one job to its end across as many peers as it takes (at most attemptsMax). */
export async function* runAcrossPeers(
  job: Omit<ChunkRequest, 'resume' | 'chunkTokens'>,
  directory: ComputeDirectory,
  signal: AbortSignal,
  options: RunnerOptions = {},
): AsyncGenerator<RunnerEvent, void, undefined> {
  const chunkTimeoutMs = options.chunkTimeoutMs ?? chunkTimeoutMsDefault;
  const attemptsMax = options.attemptsMax ?? attemptsPerJobMax;
  const firstChunk = options.firstChunkTokens ?? firstChunkTokens;
  const generated: number[] = [];
  let samplerState: ChunkStep['samplerState'] | undefined;
  const failed = new Set<string>();
  let peer = (await directory.candidates(job.model, failed))[0];
  if (peer === undefined) throw new NoComputePeerError(`no compute peer serves model ${job.model} right now; retry shortly`);
  let attempts = 1;
  for (;;) {
    signal.throwIfAborted();
    const request: ChunkRequest = {
      ...job,
      chunkTokens: generated.length === 0 ? firstChunk : laterChunkTokens,
      ...(samplerState !== undefined && { resume: { generatedTokens: [...generated], samplerState } }),
    };
    let response: ChunkResponse;
    try {
      response = await directory.call(peer, request, chunkTimeoutMs, signal);
    } catch (error) {
      signal.throwIfAborted();
      // A request the model refuses (a bad prompt, a context overflow) fails the same on every peer.
      if (isRequestError(error)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      directory.report(peer, { ok: false, error: error instanceof Error ? error : new Error(reason) });
      failed.add(peer);
      const next = attempts < attemptsMax ? (await directory.candidates(job.model, failed))[0] : undefined;
      yield { kind: 'failover', from: peer, to: next, reason, tokensSoFar: generated.length };
      if (next === undefined) throw new NoComputePeerError(`the compute peers for this answer failed (${failed.size} tried, the last: ${reason}); retry`);
      peer = next;
      attempts++;
      continue;
    }
    directory.report(peer, { ok: true, load: response.load });
    for (const step of response.steps) {
      generated.push(step.id);
      samplerState = step.samplerState;
      yield { kind: 'token', step, peer };
    }
    if (response.end !== undefined) {
      yield { kind: 'end', reason: response.end.reason, text: response.end.text, peer };
      return;
    }
    if (response.steps.length === 0) throw new Error(`compute peer ${peer} returned an empty chunk without ending the job`);
  }
}

/** The compute peer refused the request itself (locally, or across the network), rather than failing. */
export function isRequestError(error: unknown): boolean {
  const { code, remoteCode } = error as { code?: unknown; remoteCode?: unknown };
  return code === 'COMPUTE_REQUEST_INVALID' || remoteCode === 'COMPUTE_REQUEST_INVALID';
}
