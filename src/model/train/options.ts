/**
 * The options of a training run: everything that, with the model configuration and the
 * corpus, determines the loss curve bit for bit (for a given number of threads).
 */
import type { ModelConfig } from '../config.js';
import { TrainingConfigError } from './errors.js';
import type { OptimizerSettings } from './optimizer.js';

export interface TrainingOptions extends OptimizerSettings {
  /** Sequences per optimizer step. */
  batchSize: number;
  /** Tokens per sequence, at most the model's contextLength. */
  sequenceLength: number;
  /** Seeds the weights' initialisation and the order of the batches. */
  seed: number;
  /** The last fraction of the corpus held out for evaluation, never trained on. */
  evalFraction: number;
}

/** Step and batch limits: beyond these a run is a typo rather than a plan. */
export const trainingStepsMax = 10_000_000;
export const batchSizeMax = 4096;

export const defaultOptimizerSettings: Omit<OptimizerSettings, 'steps'> = {
  learningRate: 3e-3,
  warmupSteps: 100,
  minLearningRateRatio: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  epsilon: 1e-8,
  weightDecay: 0.1,
  gradientClipNorm: 1.0,
};

/** Problems with the options for this model; empty when they can be trained. */
export function trainingOptionProblems(options: TrainingOptions, config: ModelConfig): string[] {
  const problems: string[] = [];
  const integerIn = (name: keyof TrainingOptions, min: number, max: number): void => {
    const value = options[name];
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  };
  const numberIn = (name: keyof TrainingOptions, min: number, max: number, minExclusive: boolean): void => {
    const value = options[name];
    const aboveMin = minExclusive ? value > min : value >= min;
    if (!(Number.isFinite(value) && aboveMin && value <= max)) problems.push(`${name} must be a number in ${minExclusive ? '(' : '['}${min}, ${max}], got ${value}`);
  };
  integerIn('steps', 1, trainingStepsMax);
  integerIn('batchSize', 1, batchSizeMax);
  integerIn('sequenceLength', 1, config.contextLength);
  integerIn('warmupSteps', 0, trainingStepsMax);
  if (!Number.isSafeInteger(options.seed)) problems.push(`seed must be a safe integer, got ${options.seed}`);
  numberIn('learningRate', 0, 1, true);
  numberIn('minLearningRateRatio', 0, 1, false);
  numberIn('beta1', 0, 1, false);
  numberIn('beta2', 0, 1, false);
  numberIn('epsilon', 0, 1, true);
  numberIn('weightDecay', 0, 1, false);
  numberIn('gradientClipNorm', 0, Number.MAX_VALUE, true);
  if (!(options.evalFraction >= 0 && options.evalFraction < 1)) problems.push(`evalFraction must be in [0, 1), got ${options.evalFraction}`);
  if (options.beta1 === 1 || options.beta2 === 1) problems.push('beta1 and beta2 must be below 1, or Adam never forgets its first gradient');
  return problems;
}

export function assertTrainable(options: TrainingOptions, config: ModelConfig): void {
  const problems = trainingOptionProblems(options, config);
  if (problems.length > 0) throw new TrainingConfigError(`the training options are not usable: ${problems.join('; ')}`);
}
