/**
 * A training run: the parameters, Adam's moments, the step counter and the generator
 * that draws batches. Everything that decides the next step is in here and in the
 * checkpoint it writes, so a resumed run repeats an uninterrupted one bit for bit.
 */
import { Rng } from '../../core/rng.js';
import type { ModelConfig } from '../config.js';
import { corpusFingerprint, type TrainingCheckpoint } from './checkpoint.js';
import { corpusTokens, evaluationWindows, heldOutTargetBytes, sampleBatch, splitCorpus, unigramBitsPerByte, type CorpusSplit, type TokenCorpus } from './data.js';
import { localEngineFactory, type GradientEngine, type GradientEngineFactory } from './engine.js';
import { CheckpointMismatchError, TrainingDataError, TrainingDivergedError } from './errors.js';
import { adamwStep, clipScale, createMoments, gradientNorm, learningRateAt, type AdamMoments } from './optimizer.js';
import { assertTrainable, type TrainingOptions } from './options.js';
import { initializeParameters, layoutOf, type ModelLayout } from './parameters.js';

export interface TrainingStepResult {
  /** Steps completed, this one included. */
  step: number;
  /** Mean cross-entropy of this step's batch, in nats per token, before the update. */
  loss: number;
  learningRate: number;
  /** The gradient's global norm before clipping. */
  gradientNorm: number;
}

export interface EvaluationReport {
  /** Held-out targets scored. */
  tokenCount: number;
  /** Bytes those targets decode to. */
  byteCount: number;
  natsPerToken: number;
  bitsPerByte: number;
  /** The add-one-smoothed unigram model on the same targets: the bar to clear. */
  unigramBitsPerByte: number;
}

export class Trainer {
  private readonly batchInputs: Int32Array;
  private readonly batchTargets: Int32Array;
  private readonly gradients: Float32Array;

  private constructor(
    readonly layout: ModelLayout,
    readonly options: TrainingOptions,
    readonly parameters: Float32Array,
    private readonly moments: AdamMoments,
    private stepsDone: number,
    private readonly dataRng: Rng,
    private readonly corpus: TokenCorpus,
    private readonly split: CorpusSplit,
    private readonly fingerprint: string,
    private readonly engine: GradientEngine,
  ) {
    const count = options.batchSize * options.sequenceLength;
    this.batchInputs = new Int32Array(count);
    this.batchTargets = new Int32Array(count);
    this.gradients = new Float32Array(layout.parameterCount);
  }

  /** A fresh run: weights initialised from the seed. */
  static async create(config: ModelConfig, options: TrainingOptions, corpus: TokenCorpus, engineFactory: GradientEngineFactory = localEngineFactory): Promise<Trainer> {
    const { layout, tokens, split } = prepare(config, options, corpus);
    const root = new Rng(options.seed);
    const initializationRng = root.fork();
    const dataRng = root.fork();
    const engine = await engineFactory(layout, options.batchSize, options.sequenceLength);
    initializeParameters(layout, engine.parameters, initializationRng);
    return new Trainer(layout, options, engine.parameters, createMoments(layout.parameterCount), 0, dataRng, corpus, split, corpusFingerprint(tokens), engine);
  }

  /**
   * Continues a run from its checkpoint. The model, options and corpus must be the ones
   * the checkpoint was written with; otherwise the continuation would be a different run
   * and this refuses it, listing the differences. `source` names the checkpoint in errors.
   */
  static async resume(
    checkpoint: TrainingCheckpoint,
    config: ModelConfig,
    options: TrainingOptions,
    corpus: TokenCorpus,
    source: string,
    engineFactory: GradientEngineFactory = localEngineFactory,
  ): Promise<Trainer> {
    const { layout, tokens, split } = prepare(config, options, corpus);
    const fingerprint = corpusFingerprint(tokens);
    const differences = [
      ...differingFields('model', checkpoint.config, config),
      ...differingFields('option', checkpoint.options, options),
      ...(checkpoint.corpusFingerprint === fingerprint ? [] : ['the corpus or its tokenization differs']),
    ];
    if (checkpoint.step > options.steps) differences.push(`the checkpoint is at step ${checkpoint.step}, beyond the run's ${options.steps} steps`);
    if (differences.length > 0) throw new CheckpointMismatchError(source, differences);
    const engine = await engineFactory(layout, options.batchSize, options.sequenceLength);
    engine.parameters.set(checkpoint.parameters);
    const moments = { first: Float32Array.from(checkpoint.firstMoments), second: Float32Array.from(checkpoint.secondMoments) };
    return new Trainer(layout, options, engine.parameters, moments, checkpoint.step, new Rng(checkpoint.dataRng), corpus, split, fingerprint, engine);
  }

  get config(): ModelConfig {
    return this.layout.config;
  }

  /** Steps completed so far. */
  get step(): number {
    return this.stepsDone;
  }

  get threadCount(): number {
    return this.engine.threadCount;
  }

  get isFinished(): boolean {
    return this.stepsDone >= this.options.steps;
  }

  /** Draws a batch, computes the gradient, clips it, and applies one AdamW update. */
  async trainStep(): Promise<TrainingStepResult> {
    const { batchSize, sequenceLength } = this.options;
    sampleBatch(this.split.training, this.dataRng, batchSize, sequenceLength, this.batchInputs, this.batchTargets);
    const nats = await this.engine.computeGradients(this.batchInputs, this.batchTargets, batchSize, sequenceLength, this.gradients);
    const loss = nats / (batchSize * sequenceLength);
    const norm = gradientNorm(this.gradients);
    if (!Number.isFinite(loss) || !Number.isFinite(norm)) throw new TrainingDivergedError(this.stepsDone + 1, loss, norm);
    const learningRate = learningRateAt(this.stepsDone, this.options);
    const scale = clipScale(norm, this.options.gradientClipNorm);
    adamwStep(this.layout, this.parameters, this.gradients, this.moments, this.stepsDone + 1, learningRate, scale, this.options);
    this.stepsDone++;
    return { step: this.stepsDone, loss, learningRate, gradientNorm: norm };
  }

  /** Scores the held-out tokens: every one after the first, in windows of sequenceLength. */
  evaluate(): EvaluationReport {
    const heldOut = this.split.heldOut;
    if (heldOut.length < 2) throw new TrainingDataError('there is no held-out text to evaluate on; set evalFraction above 0');
    const seqLen = this.options.sequenceLength;
    const windows = evaluationWindows(heldOut.length, seqLen);
    const batchMax = this.engine.evaluationBatchMax;
    let nats = 0;
    for (let first = 0; first < windows.length; ) {
      // A batch is a run of windows of the same length (all but possibly the last are full).
      const length = windows[first].length;
      let count = 0;
      while (first + count < windows.length && count < batchMax && windows[first + count].length === length) {
        const { start } = windows[first + count];
        this.batchInputs.set(heldOut.subarray(start, start + length), count * length);
        this.batchTargets.set(heldOut.subarray(start + 1, start + length + 1), count * length);
        count++;
      }
      nats += this.engine.evaluate(this.batchInputs, this.batchTargets, count, length);
      first += count;
    }
    const tokenCount = heldOut.length - 1;
    const byteCount = heldOutTargetBytes(heldOut, this.corpus.tokenByteLengths);
    if (byteCount === 0) throw new TrainingDataError('the held-out tokens decode to no bytes, so bits per byte is undefined');
    return {
      tokenCount,
      byteCount,
      natsPerToken: nats / tokenCount,
      bitsPerByte: nats / Math.LN2 / byteCount,
      unigramBitsPerByte: unigramBitsPerByte(this.split, this.corpus.vocabSize, this.corpus.tokenByteLengths),
    };
  }

  /** The run's complete state, as copies (the run may go on). */
  checkpoint(): TrainingCheckpoint {
    return {
      config: this.layout.config,
      options: { ...this.options },
      step: this.stepsDone,
      dataRng: this.dataRng.state(),
      corpusFingerprint: this.fingerprint,
      parameters: Float32Array.from(this.parameters),
      firstMoments: Float32Array.from(this.moments.first),
      secondMoments: Float32Array.from(this.moments.second),
    };
  }

  /** Stops the engine's threads, if any. */
  async close(): Promise<void> {
    await this.engine.close();
  }
}

function prepare(config: ModelConfig, options: TrainingOptions, corpus: TokenCorpus): { layout: ModelLayout; tokens: Int32Array; split: CorpusSplit } {
  const layout = layoutOf(config);
  assertTrainable(options, config);
  if (corpus.vocabSize !== config.vocabSize) throw new TrainingDataError(`the corpus was tokenized with ${corpus.vocabSize} ids but the model has vocabSize ${config.vocabSize}`);
  if (corpus.tokenByteLengths.length !== config.vocabSize) throw new TrainingDataError(`tokenByteLengths has ${corpus.tokenByteLengths.length} entries, one per vocabulary id (${config.vocabSize}) is needed`);
  const tokens = corpusTokens(corpus.tokens, config.vocabSize);
  return { layout, tokens, split: splitCorpus(tokens, options.evalFraction, options.sequenceLength) };
}

function differingFields(kind: string, saved: object, requested: object): string[] {
  const differences: string[] = [];
  const savedRecord = saved as Record<string, unknown>;
  const requestedRecord = requested as Record<string, unknown>;
  for (const key of new Set([...Object.keys(savedRecord), ...Object.keys(requestedRecord)])) {
    if (savedRecord[key] !== requestedRecord[key]) differences.push(`${kind} ${key}: checkpoint ${String(savedRecord[key])}, now ${String(requestedRecord[key])}`);
  }
  return differences;
}
