/**
 * Comparing nines' transformer with llama.cpp's on the same GGUF file, by token ids (not
 * through either tokenizer), so that what is compared is the transformer alone.
 *
 * llama.cpp's side comes from node-llama-cpp's controlledEvaluate, which hands back, for a
 * position, the softmax of llama.cpp's raw logits (with temperature 0 its sampler chain is
 * the greedy sampler alone, which reorders nothing and changes no logit). A softmax loses
 * only the logits' common offset, so log p_i - log p_max = logit_i - logit_max exactly, up
 * to float32 rounding (about 1e-7). The comparison is therefore of *gaps*: how far each
 * token's logit lies below the position's maximum.
 *
 * The measure, per position p and token i, with g the gaps on llama.cpp's side and h ours:
 *
 *     error(p, i) = |h_i - g_i| / max_j g_j
 *
 * that is, the gap error relative to the position's logit spread (max minus min). The
 * reported figure is its maximum over every position and token. Dividing each gap by
 * itself instead would blow up for near-ties, where both gaps are close to 0.
 *
 * Tokens whose llama.cpp probability is tiny come back rounded towards zero (float32
 * underflow), so gaps beyond `observableGapMax` are not compared one by one; for those,
 * ours must merely be large too.
 */
import { InferenceSession, type Transformer } from '../../../src/model/transformer.js';
import { loadModel } from '../../../src/model/load-file.js';
import type { LlamaContextSequence, Token } from '../../../bench/llama-cpp.js';

/**
 * Beyond this gap llama.cpp's probability, exp(-gap) / sum with sum up to 5e4, can fall
 * below float32's smallest normal number (1.2e-38) and lose its precision.
 */
export const observableGapMax = 70;

/** One run over a prompt and then greedy decoding, as seen from either side. */
export interface ParityRun {
  /** After each prompt token, the logits (ours) or log-probabilities (theirs): (prompt length) -> (vocab). */
  promptLogits: ArrayLike<number>[];
  /** The token this side picks greedily after the prompt and after each continuation token. */
  greedyTokens: Token[];
  /** After each continuation token that was fed back: (greedy count - 1) -> (vocab). */
  decodeLogits: ArrayLike<number>[];
}

/**
 * Nines: the prompt token by token, then the continuation fed back token by token,
 * recording at each step the token it would pick greedily (the argmax). Fed llama.cpp's
 * own greedy continuation, nines decodes exactly that continuation itself if and only if
 * its pick agrees at every step; feeding the same tokens to both keeps the two sides
 * comparable after a step where they differ.
 */
export function ourRun(transformer: Transformer, prompt: readonly Token[], continuation: readonly Token[]): ParityRun {
  const session = new InferenceSession(transformer, { contextLength: prompt.length + continuation.length });
  const run: ParityRun = { promptLogits: prompt.map((token, position) => session.forward(token, position).slice()), greedyTokens: [], decodeLogits: [] };
  run.greedyTokens.push(argmax(run.promptLogits[prompt.length - 1]));
  for (let step = 0; step + 1 < continuation.length; step++) {
    const logits = session.forward(continuation[step], prompt.length + step).slice();
    run.decodeLogits.push(logits);
    run.greedyTokens.push(argmax(logits));
  }
  return run;
}

/** ourRun on the model in `path`, loaded with one thread (the machine is shared) and its kernels' default choice. */
export async function ourRunOnFile(path: string, prompt: readonly Token[], continuation: readonly Token[]): Promise<ParityRun> {
  const model = loadModel(path, { threads: 1 });
  try {
    return ourRun(model.transformer, prompt, continuation);
  } finally {
    await model.close();
  }
}

/**
 * llama.cpp: the prompt in one batch with the probabilities of every position, then greedy
 * decoding one token at a time (temperature 0: its greedy sampler alone, no penalties).
 */
export async function theirRun(sequence: LlamaContextSequence, prompt: readonly Token[], greedyCount: number, vocabSize: number): Promise<ParityRun> {
  await sequence.clearHistory();
  const greedy = { generateNext: { token: true, probabilities: true, options: { temperature: 0 } } };
  const logProbabilities = (probabilities: Map<Token, number> | undefined, where: string): Float64Array => {
    if (probabilities === undefined) throw new Error(`llama.cpp returned no probabilities ${where}`);
    const out = new Float64Array(vocabSize).fill(-Infinity);
    for (const [token, probability] of probabilities) out[token] = Math.log(probability);
    return out;
  };
  const outputs = await sequence.controlledEvaluate(prompt.map((token) => [token, greedy]));
  const run: ParityRun = { promptLogits: prompt.map((_, position) => logProbabilities(outputs[position]?.next.probabilities, `at prompt position ${position}`)), greedyTokens: [], decodeLogits: [] };
  let next = outputs[prompt.length - 1]?.next;
  for (let step = 0; step < greedyCount; step++) {
    if (next?.token == null) throw new Error(`llama.cpp produced no token at greedy step ${step}`);
    run.greedyTokens.push(next.token);
    if (step + 1 === greedyCount) break;
    next = (await sequence.controlledEvaluate([[next.token, greedy]]))[0]?.next;
    run.decodeLogits.push(logProbabilities(next?.probabilities, `at greedy step ${step + 1}`));
  }
  return run;
}

export interface GapComparison {
  /** max over positions and tokens of |our gap - their gap| / their spread (see the top of this file). */
  relativeGapError: number;
  position: number;
  token: number;
  /** Positions where the two sides' argmax differ (informative: a near-tie may flip under rounding). */
  argmaxDisagreements: number;
  /** Tokens beyond observableGapMax on their side whose gap on ours is not also large. */
  unobservableMismatches: number;
  /** The median over positions of each position's largest relative gap error. */
  medianPositionError: number;
}

/** The gap comparison of two runs over the same prompt (see the top of this file). */
export function compareGaps(ours: readonly ArrayLike<number>[], theirs: readonly ArrayLike<number>[]): GapComparison {
  const result: GapComparison = { relativeGapError: 0, position: -1, token: -1, argmaxDisagreements: 0, unobservableMismatches: 0, medianPositionError: 0 };
  const positionErrors: number[] = [];
  for (let position = 0; position < theirs.length; position++) {
    const our = ours[position];
    const their = theirs[position];
    const ourMax = our[argmax(our)];
    const theirArgmax = argmax(their);
    const theirMax = their[theirArgmax];
    if (argmax(our) !== theirArgmax) result.argmaxDisagreements++;
    let spread = 0;
    for (let token = 0; token < their.length; token++) if (theirMax - their[token] <= observableGapMax) spread = Math.max(spread, theirMax - their[token]);
    let positionError = 0;
    for (let token = 0; token < their.length; token++) {
      const theirGap = theirMax - their[token];
      const ourGap = ourMax - our[token];
      if (theirGap > observableGapMax) {
        if (ourGap < observableGapMax / 2) result.unobservableMismatches++;
        continue;
      }
      const error = Math.abs(ourGap - theirGap) / spread;
      positionError = Math.max(positionError, error);
      if (error > result.relativeGapError) Object.assign(result, { relativeGapError: error, position, token });
    }
    positionErrors.push(positionError);
  }
  positionErrors.sort((a, b) => a - b);
  result.medianPositionError = positionErrors[Math.floor(positionErrors.length / 2)] ?? 0;
  return result;
}

/** The first index of the largest value: the tie rule of llama.cpp's greedy sampler. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** The two largest values' difference: how decisive a greedy choice was. */
export function topTwoGap(values: ArrayLike<number>): number {
  let first = -Infinity;
  let second = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] > first) [first, second] = [values[i], first];
    else if (values[i] > second) second = values[i];
  }
  return first - second;
}

/** max - min over the values within observableGapMax of the maximum. */
export function logitSpread(values: ArrayLike<number>): number {
  const top = values[argmax(values)];
  let spread = 0;
  for (let i = 0; i < values.length; i++) if (top - values[i] <= observableGapMax) spread = Math.max(spread, top - values[i]);
  return spread;
}

export interface GreedyStep {
  step: number;
  ours: Token;
  theirs: Token;
  /** llama.cpp's lead of its pick over its runner-up, relative to its logit spread. */
  theirLead: number;
}

/** The steps where the two sides pick different tokens (both fed the same continuation). */
export function greedyDisagreements(ours: ParityRun, theirs: ParityRun): GreedyStep[] {
  const disagreements: GreedyStep[] = [];
  theirs.greedyTokens.forEach((token, step) => {
    if (ours.greedyTokens[step] === token) return;
    const logits = step === 0 ? theirs.promptLogits[theirs.promptLogits.length - 1] : theirs.decodeLogits[step - 1];
    disagreements.push({ step, ours: ours.greedyTokens[step], theirs: token, theirLead: topTwoGap(logits) / logitSpread(logits) });
  });
  return disagreements;
}
