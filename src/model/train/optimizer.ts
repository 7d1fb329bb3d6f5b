/**
 * AdamW with decoupled weight decay (Loshchilov and Hutter), the learning-rate
 * schedule (linear warm-up, then cosine decay to a floor), and clipping of the
 * gradient by its global norm. All of it works on the flat parameter array.
 */
import { assert } from '../../core/assert.js';
import type { ModelLayout } from './parameters.js';

export interface OptimizerSettings {
  /** Peak learning rate, reached at the end of the warm-up. */
  learningRate: number;
  /** Steps of linear warm-up from learningRate / warmupSteps to learningRate. */
  warmupSteps: number;
  /** Total steps of the run: the cosine reaches its floor at the last one. */
  steps: number;
  /** The floor of the cosine, as a fraction of the peak (0.1 = 10%). */
  minLearningRateRatio: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay, applied to 2-D matrices only. */
  weightDecay: number;
  /** Gradients whose global L2 norm exceeds this are scaled down to it. */
  gradientClipNorm: number;
}

/**
 * The learning rate of step `step` (0-based): rising linearly over the warm-up so the
 * first steps, taken with Adam's still-noisy second moments, are small; then a half
 * cosine from the peak down to minLearningRateRatio x peak at the last step.
 */
export function learningRateAt(step: number, settings: OptimizerSettings): number {
  const { learningRate, warmupSteps, steps, minLearningRateRatio } = settings;
  if (step < warmupSteps) return (learningRate * (step + 1)) / warmupSteps;
  const floor = learningRate * minLearningRateRatio;
  const decaySteps = Math.max(1, steps - 1 - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  return floor + (learningRate - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** The global L2 norm of the gradient, summed in index order (so always the same). */
export function gradientNorm(gradients: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < gradients.length; i++) sum += gradients[i] * gradients[i];
  return Math.sqrt(sum);
}

/** The factor to multiply the gradient by so that its norm is at most clipNorm. */
export function clipScale(norm: number, clipNorm: number): number {
  return norm > clipNorm ? clipNorm / norm : 1;
}

/** Adam's first and second moment estimates, one per parameter. */
export interface AdamMoments {
  first: Float32Array;
  second: Float32Array;
}

export function createMoments(parameterCount: number): AdamMoments {
  return { first: new Float32Array(parameterCount), second: new Float32Array(parameterCount) };
}

/**
 * One AdamW update, as PyTorch's AdamW computes it: with g = gradient * gradientScale,
 * m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2;
 * p = p - lr (weightDecay p [matrices only] + (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)),
 * where t = stepNumber counts from 1.
 */
export function adamwStep(
  layout: ModelLayout,
  parameters: Float32Array,
  gradients: Float32Array,
  moments: AdamMoments,
  stepNumber: number,
  learningRate: number,
  gradientScale: number,
  settings: OptimizerSettings,
): void {
  assert(Number.isInteger(stepNumber) && stepNumber >= 1, 'AdamW counts steps from 1');
  const { beta1, beta2, epsilon, weightDecay } = settings;
  const firstCorrection = 1 - Math.pow(beta1, stepNumber);
  const secondCorrection = 1 - Math.pow(beta2, stepNumber);
  const { first, second } = moments;
  for (const tensor of layout.tensors) {
    const decayFactor = 1 - learningRate * (tensor.isMatrix ? weightDecay : 0);
    const end = tensor.offset + tensor.size;
    for (let i = tensor.offset; i < end; i++) {
      const gradient = gradients[i] * gradientScale;
      const m = beta1 * first[i] + (1 - beta1) * gradient;
      const v = beta2 * second[i] + (1 - beta2) * gradient * gradient;
      first[i] = m;
      second[i] = v;
      parameters[i] = parameters[i] * decayFactor - (learningRate * (m / firstCorrection)) / (Math.sqrt(v / secondCorrection) + epsilon);
    }
  }
}
