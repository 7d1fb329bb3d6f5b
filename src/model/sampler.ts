/**
 * Picks the next token from the logits, in llama.cpp's default order:
 * repetition penalty -> top-k -> top-p -> min-p -> temperature -> a seeded draw.
 *
 * Top-p and min-p look at the probabilities at temperature 1 (temperature comes after
 * them, as in llama.cpp), and both keep a prefix of the candidates sorted best first
 * (higher logit, then lower id), so they can be applied in either order.
 *
 * Temperature 0 means greedy: the highest penalised logit wins (the lowest id on ties)
 * and no randomness is consumed, so the RNG state stays as it was.
 *
 * The sampler's whole state is plain data (its settings and its RNG's four words), so a
 * generation can be stopped on one peer and continued on another with the same result.
 */
import { Rng, type RngState } from '../core/rng.js';
import { InvalidTokenError, SamplerSettingsError } from './errors.js';
import { selectBest, sortBest } from './sampler-selection.js';

export interface SamplerSettings {
  /** 0 = greedy; otherwise logits are divided by it before the draw. */
  temperature: number;
  /** Keep the k most likely tokens; 0 = no limit. */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability reaches topP; 1 = no limit. */
  topP: number;
  /** Drop tokens less likely than minP times the most likely one; 0 = no limit. */
  minP: number;
  /** Divide positive logits of recent tokens by this (multiply negative ones); 1 = off. */
  repetitionPenalty: number;
  /** How many of the most recent tokens the penalty looks at; 0 = off. */
  repetitionWindow: number;
}

export interface SamplerState {
  settings: SamplerSettings;
  rng: RngState;
}

/** One candidate for the next token, with its probability in the distribution the draw uses. */
export interface SamplerCandidate {
  id: number;
  probability: number;
}

/** llama.cpp's defaults (common/common.h), so that the same settings mean the same thing. */
export const defaultSamplerSettings: Readonly<SamplerSettings> = Object.freeze({
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  repetitionPenalty: 1,
  repetitionWindow: 64,
});

/** The penalty looks back at most this many tokens; more would cost time for no known benefit. */
export const repetitionWindowMax = 65536;

/** Throws SamplerSettingsError naming the first setting out of range. */
export function validateSamplerSettings(settings: SamplerSettings): void {
  const check = (setting: keyof SamplerSettings, ok: boolean, range: string) => {
    if (!ok) throw new SamplerSettingsError(setting, `must be ${range}, got ${String(settings[setting])}`);
  };
  const { temperature, topK, topP, minP, repetitionPenalty, repetitionWindow } = settings;
  check('temperature', Number.isFinite(temperature) && temperature >= 0, 'a finite number >= 0 (0 = greedy)');
  check('topK', Number.isSafeInteger(topK) && topK >= 0, 'an integer >= 0 (0 = no limit)');
  check('topP', Number.isFinite(topP) && topP > 0 && topP <= 1, 'a number in (0, 1] (1 = no limit)');
  check('minP', Number.isFinite(minP) && minP >= 0 && minP <= 1, 'a number in [0, 1] (0 = no limit)');
  check('repetitionPenalty', Number.isFinite(repetitionPenalty) && repetitionPenalty > 0, 'a finite number > 0 (1 = off)');
  check('repetitionWindow', Number.isInteger(repetitionWindow) && repetitionWindow >= 0 && repetitionWindow <= repetitionWindowMax, `an integer from 0 to ${repetitionWindowMax} (0 = off)`);
}

export class Sampler {
  private readonly settings: SamplerSettings;
  private readonly rng: Rng;
  // Working buffers, sized to the vocabulary on first use and reused after.
  private adjusted = new Float32Array(0); // (vocab) logits after the repetition penalty
  private order = new Int32Array(0); // (vocab) candidate ids, best first in [0, candidateCount)
  private weights = new Float64Array(0); // (vocab) unnormalised probabilities of the candidates, by rank
  private penalised = new Uint8Array(0); // (vocab) marks tokens already penalised in this call
  private candidateCount = 0;

  constructor(settings: SamplerSettings, seedOrRng: number | RngState) {
    validateSamplerSettings(settings);
    this.settings = { ...settings };
    if (typeof seedOrRng === 'number') {
      if (!Number.isSafeInteger(seedOrRng)) throw new SamplerSettingsError('seed', `must be a safe integer, got ${seedOrRng}`);
    } else {
      const words = [seedOrRng.s0, seedOrRng.s1, seedOrRng.s2, seedOrRng.s3];
      if (!words.every((word) => Number.isInteger(word) && word >= 0 && word < 2 ** 32) || words.every((word) => word === 0)) {
        throw new SamplerSettingsError('rng', 'must be four unsigned 32-bit words, not all zero, as saved by Sampler.state()');
      }
    }
    this.rng = new Rng(seedOrRng);
  }

  static restore(state: SamplerState): Sampler {
    return new Sampler(state.settings, state.rng);
  }

  /** Plain data: hand it to Sampler.restore to continue exactly where this sampler is. */
  state(): SamplerState {
    return { settings: { ...this.settings }, rng: this.rng.state() };
  }

  /** Draws the next token. `previousTokens` (prompt and generated so far) feed the repetition penalty. */
  sample(logits: Float32Array, previousTokens: readonly number[]): number {
    this.applyPenalty(logits, previousTokens);
    if (this.settings.temperature === 0) return this.argmax();
    this.selectCandidates();
    return this.order[this.drawRank(this.temperatureWeights(this.settings.temperature))];
  }

  /**
   * The `count` most likely candidates of the distribution `sample` would draw from, best
   * first, without drawing (the RNG is untouched). With temperature 0 the draw is
   * certain, so this reports the filtered distribution at temperature 1 instead: what the
   * model believed, of which greedy decoding takes the first.
   */
  candidates(logits: Float32Array, previousTokens: readonly number[], count: number): SamplerCandidate[] {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`candidate count must be a non-negative integer, got ${count}`);
    this.applyPenalty(logits, previousTokens);
    this.selectCandidates();
    const total = this.temperatureWeights(this.settings.temperature === 0 ? 1 : this.settings.temperature);
    return this.topOfDistribution(count, total);
  }

  /**
   * Does what `sample` does (same token, same randomness consumed) and also reports the
   * chosen token's probability and the top `count` candidates, as `candidates` would.
   */
  sampleTraced(logits: Float32Array, previousTokens: readonly number[], count: number): { token: number; probability: number; candidates: SamplerCandidate[] } {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`candidate count must be a non-negative integer, got ${count}`);
    this.applyPenalty(logits, previousTokens);
    this.selectCandidates();
    const greedy = this.settings.temperature === 0;
    const total = this.temperatureWeights(greedy ? 1 : this.settings.temperature);
    // Greedy takes the best-ranked candidate, which is the argmax `sample` would return.
    const rank = greedy ? 0 : this.drawRank(total);
    return { token: this.order[rank], probability: this.weights[rank] / total, candidates: this.topOfDistribution(count, total) };
  }

  /** A rank drawn with probability weights[rank] / total: one uniform number from the RNG. */
  private drawRank(total: number): number {
    const target = this.rng.nextFloat() * total;
    let cumulative = 0;
    for (let rank = 0; rank < this.candidateCount; rank++) {
      cumulative += this.weights[rank];
      if (target < cumulative) return rank;
    }
    return this.candidateCount - 1;
  }

  private topOfDistribution(count: number, total: number): SamplerCandidate[] {
    const result: SamplerCandidate[] = [];
    for (let rank = 0; rank < Math.min(count, this.candidateCount); rank++) {
      result.push({ id: this.order[rank], probability: this.weights[rank] / total });
    }
    return result;
  }

  /** adjusted = logits, with each distinct token of the last repetitionWindow tokens penalised once. */
  private applyPenalty(logits: Float32Array, previousTokens: readonly number[]): void {
    const vocabSize = logits.length;
    if (vocabSize === 0) throw new RangeError('cannot sample from an empty vocabulary');
    if (this.adjusted.length !== vocabSize) this.allocate(vocabSize);
    let finiteCount = 0;
    for (let id = 0; id < vocabSize; id++) {
      const logit = logits[id];
      if (Number.isNaN(logit) || logit === Infinity) throw new RangeError(`logit of token ${id} is ${logit}; logits must be finite (or -Infinity to forbid a token)`);
      if (logit !== -Infinity) finiteCount++;
      this.adjusted[id] = logit;
    }
    if (finiteCount === 0) throw new RangeError('every logit is -Infinity, so no token can be sampled');
    const { repetitionPenalty, repetitionWindow } = this.settings;
    if (repetitionPenalty === 1 || repetitionWindow === 0) return;
    const start = Math.max(0, previousTokens.length - repetitionWindow);
    for (let i = start; i < previousTokens.length; i++) {
      const token = previousTokens[i];
      if (!Number.isInteger(token) || token < 0 || token >= vocabSize) throw new InvalidTokenError(token, vocabSize, 'sampler previous tokens');
      if (this.penalised[token] === 1) continue;
      this.penalised[token] = 1;
      const logit = this.adjusted[token];
      this.adjusted[token] = logit > 0 ? logit / repetitionPenalty : logit * repetitionPenalty;
    }
    for (let i = start; i < previousTokens.length; i++) this.penalised[previousTokens[i]] = 0;
  }

  private allocate(vocabSize: number): void {
    this.adjusted = new Float32Array(vocabSize);
    this.order = new Int32Array(vocabSize);
    this.weights = new Float64Array(vocabSize);
    this.penalised = new Uint8Array(vocabSize);
  }

  /** The best adjusted logit's id, the lowest id among equals. */
  private argmax(): number {
    let best = 0;
    for (let id = 1; id < this.adjusted.length; id++) if (this.adjusted[id] > this.adjusted[best]) best = id;
    return best;
  }

  /** order[0..candidateCount) = the candidates that survive top-k, top-p and min-p, best first. */
  private selectCandidates(): void {
    const { topK, topP, minP } = this.settings;
    const adjusted = this.adjusted;
    const vocabSize = adjusted.length;
    let maximum = -Infinity;
    for (let id = 0; id < vocabSize; id++) if (adjusted[id] > maximum) maximum = adjusted[id];
    // min-p keeps the logits within log(minP) of the best: p_i / p_max = exp(l_i - l_max).
    const minPLogit = minP > 0 ? maximum + Math.log(minP) : -Infinity;
    let count: number;
    let topKMass = 0; // sum of exp(l - max) over the top-k set, the denominator top-p uses
    if (topK > 0 && topK < vocabSize) {
      // Top-k by partial selection: O(vocab log k), never sorting the whole vocabulary.
      selectBest(adjusted, this.order, topK);
      for (let rank = 0; rank < topK; rank++) topKMass += Math.exp(adjusted[this.order[rank]] - maximum);
      count = topK;
      // min-p, and forbidden (-Infinity) tokens, can only be at the end of the sorted list.
      while (count > 1 && (adjusted[this.order[count - 1]] < minPLogit || adjusted[this.order[count - 1]] === -Infinity)) count--;
    } else {
      // No top-k: every token is a candidate, but only those min-p keeps need sorting.
      count = 0;
      for (let id = 0; id < vocabSize; id++) {
        const logit = adjusted[id];
        topKMass += Math.exp(logit - maximum);
        if (logit >= minPLogit && logit !== -Infinity) this.order[count++] = id;
      }
      sortBest(adjusted, this.order, count);
    }
    if (topP < 1) {
      // Top-p: the smallest prefix whose probability reaches topP (always at least one token).
      let cumulative = 0;
      for (let rank = 0; rank < count; rank++) {
        cumulative += Math.exp(adjusted[this.order[rank]] - maximum) / topKMass;
        if (cumulative >= topP) {
          count = rank + 1;
          break;
        }
      }
    }
    this.candidateCount = count;
  }

  /** weights[rank] = exp((l - l_best) / temperature) for each candidate; returns their sum. */
  private temperatureWeights(temperature: number): number {
    const best = this.adjusted[this.order[0]];
    let total = 0;
    for (let rank = 0; rank < this.candidateCount; rank++) {
      const weight = Math.exp((this.adjusted[this.order[rank]] - best) / temperature);
      this.weights[rank] = weight;
      total += weight;
    }
    return total;
  }
}
