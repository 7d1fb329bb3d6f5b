/**
 * The generation loop: prompt -> tokens -> forward passes -> sampled tokens -> text,
 * as an async generator of steps that a CLI, an HTTP stream or a trace view consumes.
 *
 * Every token step carries the sampler's state after it. Given the prompt, the tokens
 * generated so far and that state, `generate` on any peer re-fills its KV cache and
 * continues exactly as the uninterrupted run would have: the same tokens and the same text.
 *
 * The generator never waits on anything itself (this core has no timers): each step is
 * computed when the consumer asks for it, so a server that must stay responsive yields
 * to its event loop between steps (e.g. awaiting setImmediate in the shell).
 */
import { ContextLengthError, GenerationRequestError, InvalidTokenError } from './errors.js';
import { GeneratedText, stopStringsProblem } from './generated-text.js';
import { InferenceSession } from './inference-session.js';
import { Sampler, type SamplerSettings, type SamplerState } from './sampler.js';
import type { Transformer } from './transformer.js';

/** What generation needs from a tokenizer (BpeTokenizer provides it). */
export interface GenerationTokenizer {
  encode(text: string): number[];
  decodeBytes(ids: readonly number[]): Uint8Array;
  /** A token's text for display (lossy for partial characters). */
  tokenText(id: number): string;
  readonly eosTokenId?: number;
  readonly bosTokenId?: number;
}

/** Where the sampler starts: settings and a seed, or a saved state. */
export type SamplerStart = (SamplerSettings & { seed: number }) | SamplerState;

export interface GenerationRequest {
  model: Transformer;
  tokenizer: GenerationTokenizer;
  prompt: string | readonly number[];
  sampler: SamplerStart;
  /** Generated tokens at most, counting resumed ones; the end-of-sequence token is not counted. */
  maxTokens: number;
  stop?: readonly string[];
  /** Report each token's probability and the top candidates. */
  trace?: boolean;
  /** How many candidates a trace shows per token (default 5). */
  traceTopCandidates?: number;
  /** Continue an interrupted generation: the tokens it produced and the sampler state after the last. */
  resume?: { generatedTokens: readonly number[]; samplerState: SamplerState };
  /** Put the tokenizer's BOS token before the prompt (default false). */
  addBos?: boolean;
  /** Positions of the KV cache (default: the model's context length). */
  contextLength?: number;
}

export interface TokenText {
  id: number;
  text: string;
}

export interface TraceCandidate extends TokenText {
  probability: number;
}

export type EndReason = 'eos' | 'stop' | 'length' | 'context';

export type GenerationStep =
  | { kind: 'prompt'; tokens: TokenText[] }
  | {
      kind: 'token';
      id: number;
      /** Newly completed text; '' while a character or a possible stop string is incomplete. */
      text: string;
      position: number;
      samplerState: SamplerState;
      probability?: number;
      candidates?: TraceCandidate[];
    }
  | {
      kind: 'end';
      reason: EndReason;
      generatedTokens: number[];
      /** Text held back until now (it could have become a stop string); '' after a stop. */
      text: string;
    };

/** A trace shows at most this many candidates per token. */
export const traceTopCandidatesMax = 100;
export const traceTopCandidatesDefault = 5;

export async function* generate(request: GenerationRequest): AsyncGenerator<GenerationStep, void, undefined> {
  const run = new GenerationRun(request);
  const { model, tokenizer } = request;
  yield { kind: 'prompt', tokens: run.promptTokens.map((id) => ({ id, text: tokenizer.tokenText(id) })) };
  const replayed = run.replayResumedTokens();
  if (replayed !== undefined) {
    yield run.end(replayed);
    return;
  }
  const session = new InferenceSession(model, { contextLength: run.contextLength });
  // The KV cache may live in the model's kernel memory: give it back as soon as the generation ends or is abandoned.
  try {
    let logits = run.prefill(session);
    for (;;) {
      const history = run.history;
      const traced = run.traceCount > 0 ? run.sampler.sampleTraced(logits, history, run.traceCount) : undefined;
      const token = traced?.token ?? run.sampler.sample(logits, history);
      if (token === tokenizer.eosTokenId) {
        yield run.end('eos');
        return;
      }
      const position = run.history.length;
      const { text, end } = run.accept(token);
      yield {
        kind: 'token',
        id: token,
        text,
        position,
        samplerState: run.sampler.state(),
        ...(traced && {
          probability: traced.probability,
          candidates: traced.candidates.map(({ id, probability }) => ({ id, text: tokenizer.tokenText(id), probability })),
        }),
      };
      if (end !== undefined) {
        yield run.end(end);
        return;
      }
      logits = session.forward(token, position);
    }
  } finally {
    session.close();
  }
}

/** The state of one generation, checked up front so that a bad request fails before any work. */
class GenerationRun {
  readonly promptTokens: number[];
  readonly contextLength: number;
  readonly traceCount: number;
  readonly sampler: Sampler;
  /** Prompt tokens, then generated tokens (the repetition penalty looks at both, as llama.cpp's does). */
  readonly history: number[];
  readonly generated: number[] = [];
  private readonly text: GeneratedText;
  private readonly resumed: readonly number[];

  constructor(private readonly request: GenerationRequest) {
    const { model, tokenizer, maxTokens } = request;
    const vocabSize = model.config.vocabSize;
    if (!Number.isSafeInteger(maxTokens) || maxTokens < 0) throw new GenerationRequestError('maxTokens', `must be an integer >= 0, got ${maxTokens}`);
    this.contextLength = request.contextLength ?? model.config.contextLength;
    if (!Number.isInteger(this.contextLength) || this.contextLength < 1 || this.contextLength > model.config.contextLength) {
      throw new GenerationRequestError('contextLength', `must be an integer from 1 to the model's ${model.config.contextLength}, got ${request.contextLength}`);
    }
    this.traceCount = request.trace === true ? (request.traceTopCandidates ?? traceTopCandidatesDefault) : 0;
    if (request.trace === true && !(Number.isInteger(this.traceCount) && this.traceCount >= 1 && this.traceCount <= traceTopCandidatesMax)) {
      throw new GenerationRequestError('traceTopCandidates', `must be an integer from 1 to ${traceTopCandidatesMax}, got ${request.traceTopCandidates}`);
    }
    const stop = request.stop ?? [];
    const stopProblem = stopStringsProblem(stop);
    if (stopProblem !== undefined) throw new GenerationRequestError('stop', stopProblem);
    this.text = new GeneratedText(stop);
    this.promptTokens = promptTokensOf(request);
    for (const id of this.promptTokens) if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new InvalidTokenError(id, vocabSize, 'prompt');
    if (tokenizer.eosTokenId !== undefined && !(tokenizer.eosTokenId >= 0 && tokenizer.eosTokenId < vocabSize)) throw new InvalidTokenError(tokenizer.eosTokenId, vocabSize, 'tokenizer eosTokenId');
    if (this.promptTokens.length >= this.contextLength) {
      throw new ContextLengthError(this.promptTokens.length, this.contextLength, `the prompt is ${this.promptTokens.length} tokens but the context window holds ${this.contextLength}, which must include at least one generated token; shorten the prompt`);
    }
    this.resumed = request.resume?.generatedTokens ?? [];
    if (this.resumed.length > maxTokens) throw new GenerationRequestError('resume.generatedTokens', `holds ${this.resumed.length} tokens, more than maxTokens ${maxTokens}`);
    this.sampler = samplerOf(request);
    this.history = [...this.promptTokens];
  }

  /**
   * Feeds the resumed tokens through the same end checks and text state as a live run,
   * without forward passes. Returns the end reason if the original run ended at the last
   * of them; throws if it would have ended earlier (the resume data is inconsistent).
   */
  replayResumedTokens(): EndReason | undefined {
    if (this.request.maxTokens === 0 && this.resumed.length === 0) return 'length';
    const vocabSize = this.request.model.config.vocabSize;
    for (let i = 0; i < this.resumed.length; i++) {
      const token = this.resumed[i];
      if (!Number.isInteger(token) || token < 0 || token >= vocabSize) throw new InvalidTokenError(token, vocabSize, `resume.generatedTokens[${i}]`);
      if (token === this.request.tokenizer.eosTokenId) throw new GenerationRequestError(`resume.generatedTokens[${i}]`, 'is the end-of-sequence token, after which nothing is generated');
      const { end } = this.accept(token);
      if (end !== undefined && i < this.resumed.length - 1) {
        throw new GenerationRequestError('resume.generatedTokens', `generation ended (${end}) after ${i + 1} of the ${this.resumed.length} tokens, so they cannot all come from one run of this request`);
      }
      if (end !== undefined) return end;
    }
    return undefined;
  }

  /**
   * Runs the prompt and any resumed tokens through the model, as one batch (the same
   * bits as token by token, so a resumed run continues exactly); returns the logits for
   * the next token.
   */
  prefill(session: InferenceSession): Float32Array {
    return session.forwardBatch(this.history, 0);
  }

  /** Records a generated token; returns its text and, if generation ends with it, why. */
  accept(token: number): { text: string; end: EndReason | undefined } {
    this.generated.push(token);
    this.history.push(token);
    const { text, stopped } = this.text.push(this.request.tokenizer.decodeBytes([token]));
    let end: EndReason | undefined;
    if (stopped) end = 'stop';
    else if (this.generated.length >= this.request.maxTokens) end = 'length';
    else if (this.history.length >= this.contextLength) end = 'context';
    return { text, end };
  }

  end(reason: EndReason): GenerationStep {
    return { kind: 'end', reason, generatedTokens: [...this.generated], text: this.text.finish().text };
  }
}

function promptTokensOf(request: GenerationRequest): number[] {
  const tokens = typeof request.prompt === 'string' ? request.tokenizer.encode(request.prompt) : [...request.prompt];
  if (request.addBos === true) {
    const bos = request.tokenizer.bosTokenId;
    if (bos === undefined) throw new GenerationRequestError('addBos', 'the tokenizer has no BOS token; leave addBos off');
    tokens.unshift(bos);
  }
  if (tokens.length === 0) throw new GenerationRequestError('prompt', 'is empty; the model needs at least one token to predict from (give text, or set addBos)');
  return tokens;
}

function samplerOf(request: GenerationRequest): Sampler {
  const start = request.sampler;
  const startSettings: SamplerSettings = 'settings' in start ? start.settings : start;
  if (request.resume === undefined) return 'settings' in start ? Sampler.restore(start) : new Sampler(startSettings, start.seed);
  const resumedSettings = request.resume.samplerState.settings;
  const keys: (keyof SamplerSettings)[] = ['temperature', 'topK', 'topP', 'minP', 'repetitionPenalty', 'repetitionWindow'];
  const differing = keys.filter((key) => resumedSettings[key] !== startSettings[key]);
  if (differing.length > 0) {
    throw new GenerationRequestError('resume.samplerState', `its settings differ from the request's in ${differing.join(', ')}; a resumed run must use the settings it started with`);
  }
  return Sampler.restore(request.resume.samplerState);
}
