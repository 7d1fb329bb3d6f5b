/**
 * A completion job turned into what the model runs: the prompt's tokens (the job's text, or
 * its conversation rendered with the model's chat template), the stop texts (the job's and,
 * for chat, the template's), and the sampler settings. Every peer that prepares the same job
 * for the same model gets the same bits, which is what lets a gateway hand a job from one
 * compute peer to another mid-answer.
 *
 * OpenAI's sampling parameters mean what they say: temperature, top_p and top_k alone,
 * without the min-p filter or repetition penalty nines' CLI adds by default.
 */
import type { ChatTemplate } from '../model/chat-template.js';
import type { SamplerSettings } from '../model/sampler.js';
import type { BpeTokenizer } from '../model/tokenizer/index.js';
import { CompletionError, type CompletionInput, type CompletionJob } from './completion-backend.js';

export interface PreparedJob {
  prompt: number[];
  stop: string[];
  sampler: SamplerSettings & { seed: number };
}

export interface PromptModel {
  tokenizer: BpeTokenizer;
  chatTemplate: ChatTemplate;
}

/**
 * Prompts tokenized already, by the input they came from: a request is prepared twice (its
 * length checked against the limits, then the job run), and a long prompt is worth encoding once.
 * Inputs are never changed after parsing, and each entry goes with its request.
 */
const tokenizedInputs = new WeakMap<CompletionInput, { model: PromptModel; prompt: readonly number[] }>();

export function prepareJob(model: PromptModel, job: CompletionJob): PreparedJob {
  const known = tokenizedInputs.get(job.input);
  const prompt = known !== undefined && known.model === model ? [...known.prompt] : tokenize(model, job.input);
  if (known === undefined) tokenizedInputs.set(job.input, { model, prompt: [...prompt] });
  const stop = [...new Set([...(job.input.kind === 'chat' ? model.chatTemplate.stops : []), ...job.stop])];
  const { temperature, topP, topK, seed } = job.sampler;
  return { prompt, stop, sampler: { temperature, topP, topK, minP: 0, repetitionPenalty: 1, repetitionWindow: 0, seed } };
}

function tokenize(model: PromptModel, input: CompletionInput): number[] {
  const { tokenizer, chatTemplate } = model;
  return asCompletionError(() => {
    if (input.kind === 'prompt') return tokenizer.encode(input.prompt);
    // A file's own template writes its special tokens (<|im_start|> and the like) as text that must become those tokens.
    return tokenizer.encode(chatTemplate.render(input.messages), { allowedSpecial: chatTemplate.kind === 'gguf' ? 'all' : new Set() });
  });
}

export function asCompletionError<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw asCompletionErrorValue(error);
  }
}

/** The model's request errors as the contract's: a bad job is the client's problem (4xx), anything else stays a server error. */
export function asCompletionErrorValue(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'CONTEXT_LENGTH') return new CompletionError('context_length_exceeded', message, 'messages');
  if (code === 'GENERATION_REQUEST' || code === 'SAMPLER_SETTINGS' || code === 'CHAT_TEMPLATE' || code === 'INVALID_TOKEN' || code === 'COMPUTE_REQUEST_INVALID') {
    return new CompletionError('invalid_request_error', message);
  }
  return error;
}
