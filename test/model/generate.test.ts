import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { type GenerationRequest, type GenerationStep, generate } from '../../src/model/generate.js';
import { Sampler, type SamplerSettings } from '../../src/model/sampler.js';
import { Transformer } from '../../src/model/transformer.js';
import { ContextLengthError, GenerationRequestError, InvalidTokenError } from '../../src/model/errors.js';
import { fakeTokenizer, randomTensors, testConfig } from './helpers.js';

type TokenStep = Extract<GenerationStep, { kind: 'token' }>;
type EndStep = Extract<GenerationStep, { kind: 'end' }>;

const config = testConfig({ vocabSize: 40, contextLength: 64 });
const model = Transformer.fromTensors(config, randomTensors(config, new Rng(11), 'F32'), 'random test model');
const tokenizer = fakeTokenizer();
const settings: SamplerSettings = { temperature: 1, topK: 30, topP: 0.98, minP: 0.01, repetitionPenalty: 1.2, repetitionWindow: 16 };
const base: GenerationRequest = { model, tokenizer, prompt: 'the cat', sampler: { ...settings, seed: 5 }, maxTokens: 30 };

async function collect(request: GenerationRequest): Promise<{ prompt: GenerationStep; tokens: TokenStep[]; end: EndStep }> {
  const steps: GenerationStep[] = [];
  for await (const step of generate(request)) steps.push(step);
  const end = steps.at(-1)!;
  if (steps[0].kind !== 'prompt' || end.kind !== 'end') throw new Error('a generation starts with its prompt and ends with an end step');
  const tokens = steps.slice(1, -1).map((step) => {
    if (step.kind !== 'token') throw new Error(`unexpected ${step.kind} step in the middle`);
    return step;
  });
  return { prompt: steps[0], tokens, end };
}

const decodeAll = (ids: number[]) => new TextDecoder().decode(tokenizer.decodeBytes(ids));
const emitted = (run: { tokens: TokenStep[]; end: EndStep }) => run.tokens.map((step) => step.text).join('') + run.end.text;

describe('generate', () => {
  it('announces the prompt, then generates maxTokens tokens at consecutive positions', async () => {
    const run = await collect({ ...base, maxTokens: 12 });
    const promptIds = tokenizer.encode('the cat');
    expect(run.prompt).toEqual({ kind: 'prompt', tokens: promptIds.map((id) => ({ id, text: tokenizer.tokenText(id) })) });
    expect(run.tokens).toHaveLength(12);
    expect(run.tokens.map((step) => step.position)).toEqual(Array.from({ length: 12 }, (_, i) => promptIds.length + i));
    expect(run.end).toMatchObject({ reason: 'length', generatedTokens: run.tokens.map((step) => step.id) });
    expect(emitted(run)).toBe(decodeAll(run.end.generatedTokens));
    expect(run.tokens[0].probability).toBeUndefined();
    expect(await collect({ ...base, maxTokens: 12 })).toEqual(run);
  });

  it('with maxTokens 0 only announces the prompt', async () => {
    const run = await collect({ ...base, maxTokens: 0 });
    expect(run.tokens).toEqual([]);
    expect(run.end).toEqual({ kind: 'end', reason: 'length', generatedTokens: [], text: '' });
  });

  it('ends at the end-of-sequence token without emitting it', async () => {
    const free = await collect(base);
    const eos = free.end.generatedTokens[6];
    const cut = free.end.generatedTokens.indexOf(eos);
    const run = await collect({ ...base, tokenizer: fakeTokenizer({ eosTokenId: eos }) });
    expect(run.end.reason).toBe('eos');
    expect(run.end.generatedTokens).toEqual(free.end.generatedTokens.slice(0, cut));
  });

  it('stops at a stop string that spans tokens, emitting neither it nor what could still become it', async () => {
    const free = await collect(base);
    const whole = decodeAll(free.end.generatedTokens);
    const boundary = cleanBoundaries(free.end.generatedTokens).find((b) => b >= 3 && b <= whole.length - 2)!;
    const stop = whole.slice(boundary - 2, boundary + 2);
    const run = await collect({ ...base, stop: ['never seen', stop] });
    expect(run.end.reason).toBe('stop');
    expect(emitted(run)).toBe(whole.slice(0, whole.indexOf(stop)));
    expect(run.end.text).toBe('');
    // Generation stops at the first token whose text completes the stop string.
    const needed = free.end.generatedTokens.findIndex((_, i) => decodeAll(free.end.generatedTokens.slice(0, i + 1)).includes(stop)) + 1;
    expect(run.end.generatedTokens).toEqual(free.end.generatedTokens.slice(0, needed));
    let soFar = '';
    for (const step of run.tokens) {
      soFar += step.text;
      expect(whole.slice(0, whole.indexOf(stop)).startsWith(soFar)).toBe(true);
    }
  });

  it('refuses a prompt that leaves no room, and ends with reason context when the window fills', async () => {
    const prompt = [1, 2, 3, 4, 5, 6, 7, 8];
    await expect(collect({ ...base, prompt, contextLength: 8 })).rejects.toThrow(ContextLengthError);
    await expect(collect({ ...base, prompt, contextLength: 8 })).rejects.toThrow(/the prompt is 8 tokens but the context window holds 8/);
    const run = await collect({ ...base, prompt: prompt.slice(0, 5), contextLength: 8 });
    expect(run.end.reason).toBe('context');
    expect(run.tokens.map((step) => step.position)).toEqual([5, 6, 7]);
  });

  it('traces each token with sorted candidates whose probabilities sum to at most 1', async () => {
    const run = await collect({ ...base, trace: true, traceTopCandidates: 4 });
    for (const step of run.tokens) {
      const candidates = step.candidates!;
      expect(candidates.length).toBeLessThanOrEqual(4);
      for (let i = 1; i < candidates.length; i++) expect(candidates[i].probability).toBeLessThanOrEqual(candidates[i - 1].probability);
      expect(candidates.reduce((sum, c) => sum + c.probability, 0)).toBeLessThanOrEqual(1 + 1e-9);
      for (const candidate of candidates) expect(candidate.text).toBe(tokenizer.tokenText(candidate.id));
      expect(step.probability).toBeGreaterThan(0);
      const listed = candidates.find((c) => c.id === step.id);
      if (listed !== undefined) expect(listed.probability).toBe(step.probability);
    }
    // Tracing does not change what is generated.
    expect(run.end.generatedTokens).toEqual((await collect(base)).end.generatedTokens);
  });

  it('adds BOS when asked, and refuses requests it cannot carry out', async () => {
    const withBos = await collect({ ...base, maxTokens: 1, addBos: true, tokenizer: fakeTokenizer({ bosTokenId: 37 }) });
    expect(withBos.prompt).toEqual({ kind: 'prompt', tokens: [37, ...tokenizer.encode('the cat')].map((id) => ({ id, text: tokenizer.tokenText(id) })) });
    await expect(collect({ ...base, addBos: true })).rejects.toThrow(/addBos: the tokenizer has no BOS token/);
    await expect(collect({ ...base, prompt: '' })).rejects.toThrow(/prompt: is empty/);
    await expect(collect({ ...base, prompt: [1, 40] })).rejects.toThrow(InvalidTokenError);
    await expect(collect({ ...base, maxTokens: -1 })).rejects.toThrow(GenerationRequestError);
    await expect(collect({ ...base, stop: [''] })).rejects.toThrow(/stop: a stop string must be a non-empty string/);
    await expect(collect({ ...base, trace: true, traceTopCandidates: 0 })).rejects.toThrow(/traceTopCandidates: must be an integer from 1 to 100/);
    await expect(collect({ ...base, contextLength: 65 })).rejects.toThrow(/contextLength: must be an integer from 1 to the model's 64/);
  });
});

/** Character offsets in the decoded text that fall between two tokens and between two characters. */
function cleanBoundaries(ids: number[]): number[] {
  const strict = new TextDecoder('utf-8', { fatal: true });
  const boundaries: number[] = [];
  for (let i = 1; i < ids.length; i++) {
    try {
      boundaries.push(strict.decode(tokenizer.decodeBytes(ids.slice(0, i))).length);
    } catch {
      // The prefix ends inside a character.
    }
  }
  return boundaries;
}

describe('resume', () => {
  /** Interrupts `request` after every possible number of tokens and checks the continuation is the same run. */
  async function expectResumableEverywhere(request: GenerationRequest, expectedReason: EndStep['reason']): Promise<void> {
    const full = await collect(request);
    expect(full.end.reason).toBe(expectedReason);
    const start = request.sampler;
    const initial = 'settings' in start ? start : new Sampler(start, start.seed).state();
    for (let k = 0; k <= full.tokens.length; k++) {
      const resume = { generatedTokens: full.end.generatedTokens.slice(0, k), samplerState: k === 0 ? initial : full.tokens[k - 1].samplerState };
      const rest = await collect({ ...request, resume: JSON.parse(JSON.stringify(resume)) });
      expect(rest.prompt).toEqual(full.prompt);
      expect(rest.tokens, `resumed after ${k} tokens`).toEqual(full.tokens.slice(k));
      expect(rest.end, `resumed after ${k} tokens`).toEqual(full.end);
    }
  }

  it('continues a length-limited run identically at every split, including held-back text', async () => {
    const free = await collect(base);
    const whole = decodeAll(free.end.generatedTokens);
    // A stop string whose first two characters occur, so text is held back across splits, but which never completes.
    const stop = whole.slice(4, 6) + '\u0001';
    await expectResumableEverywhere({ ...base, stop: [stop], trace: true }, 'length');
  });

  it('continues a run that ends with a stop string', async () => {
    const free = await collect(base);
    const whole = decodeAll(free.end.generatedTokens);
    const boundary = cleanBoundaries(free.end.generatedTokens).find((b) => b >= 10 && b <= whole.length - 2)!;
    await expectResumableEverywhere({ ...base, stop: [whole.slice(boundary - 1, boundary + 2)] }, 'stop');
  });

  it('continues a run that ends with the end-of-sequence token', async () => {
    const free = await collect(base);
    const eos = free.end.generatedTokens[9];
    await expectResumableEverywhere({ ...base, tokenizer: fakeTokenizer({ eosTokenId: eos }) }, 'eos');
  });

  it('continues a greedy run that fills the context window, from a token prompt', async () => {
    await expectResumableEverywhere({ ...base, prompt: [3, 1, 4, 1, 5], contextLength: 16, sampler: { ...settings, temperature: 0, seed: 1 } }, 'context');
  });

  it('refuses resume data that no run of the request could have produced', async () => {
    const free = await collect({ ...base, maxTokens: 8 });
    const samplerState = free.tokens[7].samplerState;
    const tokens = free.end.generatedTokens;
    await expect(collect({ ...base, maxTokens: 7, resume: { generatedTokens: tokens, samplerState } })).rejects.toThrow(/holds 8 tokens, more than maxTokens 7/);
    const stop = decodeAll(tokens.slice(0, 3));
    const stoppedAfter = tokens.findIndex((_, i) => decodeAll(tokens.slice(0, i + 1)).includes(stop)) + 1;
    await expect(collect({ ...base, stop: [stop], resume: { generatedTokens: tokens, samplerState } })).rejects.toThrow(`generation ended (stop) after ${stoppedAfter} of the 8 tokens`);
    await expect(collect({ ...base, tokenizer: fakeTokenizer({ eosTokenId: tokens[2] }), resume: { generatedTokens: tokens.slice(0, 3), samplerState } })).rejects.toThrow(
      /resume\.generatedTokens\[2\]: is the end-of-sequence token/,
    );
    const otherSettings = { ...samplerState, settings: { ...samplerState.settings, topK: 3 } };
    await expect(collect({ ...base, resume: { generatedTokens: tokens, samplerState: otherSettings } })).rejects.toThrow(/settings differ from the request's in topK/);
  });
});
