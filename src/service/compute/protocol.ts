/**
 * The messages between a gateway and a compute peer (RPC `compute.generate`).
 *
 * Generation moves in chunks that the gateway pulls: each request carries everything needed
 * to continue the job from where the gateway stands — the prompt's tokens, the sampler's
 * start, and the tokens it has already received with the sampler state after the last of
 * them. A compute peer that still holds the job's live session (the KV cache) continues it
 * at once; any other peer re-fills the cache from the prompt and those tokens and continues
 * from the same sampler state. That is mid-answer failover: the gateway sends the same
 * request to the next peer, and since prefill computes the same bits as token-by-token
 * decoding and the sampler's random stream travels with the request, the text goes on
 * exactly as it would have.
 */
import type { EndReason, TraceCandidate } from '../../model/generate.js';
import type { SamplerSettings, SamplerState } from '../../model/sampler.js';

export const computeGenerateMethod = 'compute.generate';

/** Tokens one chunk carries at most. */
export const chunkTokensMax = 64;
/** Prompt tokens one request carries at most (far above the context windows nines serves). */
export const computePromptTokensMax = 32_768;
/** Stop strings per job, as OpenAI allows. */
export const computeStopStringsMax = 4;
export const computeStopCharactersMax = 256;
/** A job id is a short random string chosen by the gateway. */
const jobIdCharactersMax = 64;

export interface ChunkRequest {
  jobId: string;
  /** The model the gateway expects; a compute peer serving another refuses. */
  model: string;
  prompt: number[];
  /** How the sampler starts: settings and seed (a resumed job carries `resume.samplerState` too). */
  sampler: SamplerSettings & { seed: number };
  maxTokens: number;
  stop: string[];
  traceTopK: number;
  /** The tokens the gateway already has and the sampler state after the last of them. */
  resume?: { generatedTokens: number[]; samplerState: SamplerState };
  /** Tokens to return at most in this chunk (1 for the first, so the first token streams at once). */
  chunkTokens: number;
}

export interface ChunkStep {
  id: number;
  text: string;
  tokenText: string;
  samplerState: SamplerState;
  probability?: number;
  candidates?: TraceCandidate[];
}

export interface ChunkResponse {
  steps: ChunkStep[];
  /** Present once the job is over: why, and text held back until the end. */
  end?: { reason: EndReason; text: string };
  /** The compute peer's load when it answered: jobs it holds live and chunks waiting for the model. */
  load: { liveJobs: number; waitingChunks: number };
}

const isInteger = (value: unknown, min: number, max: number): value is number => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

function samplerStateProblem(value: unknown): string | undefined {
  const state = value as Partial<SamplerState> | null;
  if (typeof state !== 'object' || state === null || typeof state.settings !== 'object' || typeof state.rng !== 'object' || state.rng === null) return 'a sampler state needs settings and rng';
  for (const word of ['s0', 's1', 's2', 's3'] as const) if (!isInteger(state.rng[word], 0, 0xffff_ffff)) return `sampler state rng.${word} must be a 32-bit unsigned integer`;
  return settingsProblem(state.settings);
}

function settingsProblem(value: unknown): string | undefined {
  const settings = value as Partial<SamplerSettings> | null;
  if (typeof settings !== 'object' || settings === null) return 'sampler settings must be an object';
  for (const name of ['temperature', 'topK', 'topP', 'minP', 'repetitionPenalty', 'repetitionWindow'] as const) {
    if (typeof settings[name] !== 'number' || !Number.isFinite(settings[name])) return `sampler ${name} must be a finite number`;
  }
  return undefined;
}

/** Why a chunk request from the network cannot be served, or undefined (the model checks token ids against its vocabulary). */
export function chunkRequestProblem(value: unknown): string | undefined {
  const request = value as Partial<ChunkRequest> | null;
  if (typeof request !== 'object' || request === null) return 'a chunk request must be an object';
  if (typeof request.jobId !== 'string' || request.jobId.length === 0 || request.jobId.length > jobIdCharactersMax) return `jobId must be a string of 1 to ${jobIdCharactersMax} characters`;
  if (typeof request.model !== 'string' || request.model.length > 256) return 'model must be a string';
  if (!Array.isArray(request.prompt) || request.prompt.length === 0 || request.prompt.length > computePromptTokensMax) return `prompt must hold 1 to ${computePromptTokensMax} token ids`;
  if (!request.prompt.every((id) => isInteger(id, 0, 0x7fff_ffff))) return 'prompt token ids must be non-negative integers';
  const sampler = request.sampler as (SamplerSettings & { seed?: unknown }) | undefined;
  const samplerProblem = settingsProblem(sampler);
  if (samplerProblem !== undefined) return samplerProblem;
  if (!Number.isSafeInteger(sampler!.seed)) return 'sampler seed must be a safe integer';
  if (!isInteger(request.maxTokens, 0, computePromptTokensMax)) return `maxTokens must be an integer from 0 to ${computePromptTokensMax}`;
  if (!Array.isArray(request.stop) || request.stop.length > computeStopStringsMax || !request.stop.every((stop) => typeof stop === 'string' && stop.length > 0 && stop.length <= computeStopCharactersMax)) {
    return `stop must be at most ${computeStopStringsMax} non-empty strings of at most ${computeStopCharactersMax} characters`;
  }
  if (!isInteger(request.traceTopK, 0, 100)) return 'traceTopK must be an integer from 0 (no trace) to 100';
  if (!isInteger(request.chunkTokens, 1, chunkTokensMax)) return `chunkTokens must be an integer from 1 to ${chunkTokensMax}`;
  if (request.resume !== undefined) {
    const { generatedTokens, samplerState } = request.resume as Partial<NonNullable<ChunkRequest['resume']>>;
    if (!Array.isArray(generatedTokens) || generatedTokens.length > request.maxTokens! || !generatedTokens.every((id) => isInteger(id, 0, 0x7fff_ffff))) {
      return 'resume.generatedTokens must be token ids, no more than maxTokens';
    }
    const stateProblem = samplerStateProblem(samplerState);
    if (stateProblem !== undefined) return `resume: ${stateProblem}`;
  }
  return undefined;
}
