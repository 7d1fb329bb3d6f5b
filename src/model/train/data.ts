/**
 * The corpus as training sees it: token ids split into a training portion (sampled at
 * random offsets from the seeded generator) and a held-out tail (the last evalFraction of
 * the tokens, never trained on), plus the measures on the held-out text: nats per token,
 * bits per byte, and the unigram baseline that any model worth shipping must beat.
 *
 * Bits per byte divides by the bytes the held-out target tokens decode to, so it does
 * not depend on the tokenizer: a model with a bigger vocabulary has fewer, longer tokens,
 * and comparing nats per token across vocabularies would mislead.
 */
import type { Rng } from '../../core/rng.js';
import { TrainingDataError } from './errors.js';

export interface TokenCorpus {
  /** The whole corpus as token ids (each is checked against the vocabulary). */
  tokens: ArrayLike<number>;
  vocabSize: number;
  /** Bytes each vocabulary id decodes to, indexed by id (length vocabSize). */
  tokenByteLengths: ArrayLike<number>;
}

export interface CorpusSplit {
  training: Int32Array; // a view of the first part of the corpus
  heldOut: Int32Array; // a view of the last part; empty when evalFraction is 0
}

/** A corpus's tokens as an Int32Array, with every id checked against the vocabulary. */
export function corpusTokens(tokens: ArrayLike<number>, vocabSize: number): Int32Array {
  const result = Int32Array.from(tokens);
  for (let i = 0; i < result.length; i++) {
    const id = result[i];
    if (!(id >= 0 && id < vocabSize) || id !== tokens[i]) {
      throw new TrainingDataError(`token ${i} of the corpus is ${tokens[i]}, not an id of the vocabulary (integers 0 to ${vocabSize - 1})`);
    }
  }
  return result;
}

/**
 * Splits off the last evalFraction of the tokens for evaluation. The training portion
 * must hold at least one sequence plus its last target; the held-out portion at least
 * two tokens (one input and one target) unless evaluation is off.
 */
export function splitCorpus(tokens: Int32Array, evalFraction: number, seqLen: number): CorpusSplit {
  if (!(evalFraction >= 0 && evalFraction < 1)) throw new TrainingDataError(`evalFraction must be in [0, 1), got ${evalFraction}`);
  const heldOutCount = evalFraction === 0 ? 0 : Math.max(2, Math.round(tokens.length * evalFraction));
  const trainingCount = tokens.length - heldOutCount;
  if (trainingCount < seqLen + 1) {
    throw new TrainingDataError(
      `the corpus has ${tokens.length} tokens; after holding out ${heldOutCount} for evaluation, ${trainingCount} are left for training, ` +
        `fewer than one sequence of ${seqLen} plus its target. Use a longer corpus, a shorter --context or a smaller --eval-fraction.`,
    );
  }
  return { training: tokens.subarray(0, trainingCount), heldOut: tokens.subarray(trainingCount) };
}

/**
 * Fills inputs and targets (batch x seqLen, row-major) with sequences starting at random
 * offsets of the training tokens: each target is the token after its input.
 */
export function sampleBatch(training: Int32Array, rng: Rng, batch: number, seqLen: number, inputs: Int32Array, targets: Int32Array): void {
  const offsetCount = training.length - seqLen;
  for (let b = 0; b < batch; b++) {
    const offset = rng.nextInt(offsetCount);
    inputs.set(training.subarray(offset, offset + seqLen), b * seqLen);
    targets.set(training.subarray(offset + 1, offset + seqLen + 1), b * seqLen);
  }
}

/** A window of the held-out tokens: inputs heldOut[start, start + length), targets one further. */
export interface EvaluationWindow {
  start: number;
  length: number;
}

/** Cuts the held-out tokens into consecutive windows of at most seqLen targets, covering every token after the first. */
export function evaluationWindows(heldOutLength: number, seqLen: number): EvaluationWindow[] {
  const windows: EvaluationWindow[] = [];
  for (let start = 0; start + 1 < heldOutLength; start += seqLen) windows.push({ start, length: Math.min(seqLen, heldOutLength - 1 - start) });
  return windows;
}

/** Total bytes of the held-out targets: every held-out token after the first. */
export function heldOutTargetBytes(heldOut: Int32Array, tokenByteLengths: ArrayLike<number>): number {
  let bytes = 0;
  for (let i = 1; i < heldOut.length; i++) bytes += tokenByteLengths[heldOut[i]];
  return bytes;
}

/**
 * The baseline that knows only how often each token occurs: probabilities from the
 * training portion's counts with add-one smoothing, (count + 1) / (total + vocab), scored
 * on the held-out targets. Returns bits per byte.
 */
export function unigramBitsPerByte(split: CorpusSplit, vocabSize: number, tokenByteLengths: ArrayLike<number>): number {
  const counts = new Float64Array(vocabSize);
  for (let i = 0; i < split.training.length; i++) counts[split.training[i]]++;
  const denominator = split.training.length + vocabSize;
  let bits = 0;
  for (let i = 1; i < split.heldOut.length; i++) bits -= Math.log2((counts[split.heldOut[i]] + 1) / denominator);
  return bits / heldOutTargetBytes(split.heldOut, tokenByteLengths);
}
