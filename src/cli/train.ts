/**
 * `nines train <corpus.txt> --out model.gguf`: learns a BPE tokenizer on the corpus (or
 * takes one from a GGUF), trains a llama-architecture model on it from a seed, scores it
 * on the held-out tail in bits per byte against the unigram baseline, and writes a GGUF
 * that nines and llama.cpp can run. With --checkpoint-dir it saves its state every N
 * steps; --resume continues from there, exactly as if it had never stopped.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { configToGgufMetadata } from '../model/architecture.js';
import type { ModelConfig } from '../model/config.js';
import { configProblems } from '../model/config.js';
import { openGguf, writeGgufFile } from '../model/gguf/gguf-file.js';
import type { GgufValue } from '../model/gguf/types.js';
import { BpeTokenizer, tokenizerFromGgufMetadata, tokenizerToGgufMetadata, trainBpe } from '../model/tokenizer/index.js';
import type { TokenizerVocabulary } from '../model/tokenizer/index.js';
import { checkpointPath, loadCheckpoint, saveCheckpoint } from '../model/train/checkpoint-file.js';
import { exportTensors, lossSmoothingWindow, runTraining, Trainer, type TrainingCheckpoint, type TrainingOptions, type TrainingReport } from '../model/train/index.js';
import { trainingThreadsMax, workerPoolEngineFactory } from '../model/train/worker-pool-shell.js';
import { integerOption, numberOption } from './options.js';
import { createProgressDisplay, formatDuration } from './train-progress.js';

/** A command line that cannot work as given; the message says which flag to change. */
export class TrainUsageError extends Error {
  override name = 'TrainUsageError';
  readonly code = 'TRAIN_USAGE';
}

export interface TrainCommandOptions {
  out: string;
  vocabSize: number;
  dim: number;
  layers: number;
  heads: number;
  kvHeads?: number;
  hidden: number;
  context: number;
  batch: number;
  steps: number;
  lr: number;
  warmup: number;
  seed: number;
  evalFraction: number;
  checkpointDir?: string;
  checkpointEvery?: number;
  resume: boolean;
  tokenizerFrom?: string;
  tied?: boolean;
  untied?: boolean;
  type: 'f32' | 'f16';
  threads?: number;
  name?: string;
}

/** Where a flag's value came from: commander's 'default' means the user did not type it. */
export type OptionSource = (flag: keyof TrainCommandOptions) => 'cli' | 'default' | undefined;

export const trainDefaults = {
  vocabSize: 2048,
  dim: 128,
  layers: 4,
  heads: 4,
  hidden: 384,
  context: 128,
  batch: 8,
  steps: 1000,
  lr: 3e-3,
  warmup: 100,
  seed: 1,
  evalFraction: 0.01,
  checkpointEvery: 100,
} as const;

/** Flag limits: large enough for any model this trainer can finish, small enough to catch a typo. */
const widthMax = 8192;
const layersMax = 256;
const vocabSizeMax = 262_144;
const tokenizerFileName = 'tokenizer.json';

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a small llama-architecture model (and its BPE tokenizer) on a text corpus and write it as GGUF')
    .argument('<corpus.txt>', 'UTF-8 text to learn from; its last --eval-fraction is held out for evaluation')
    .requiredOption('-o, --out <model.gguf>', 'where to write the trained model')
    .option('--vocab-size <n>', 'tokens in the BPE vocabulary to learn', integerOption('--vocab-size', 257, vocabSizeMax), trainDefaults.vocabSize)
    .option('--dim <n>', 'width of the residual stream', integerOption('--dim', 2, widthMax), trainDefaults.dim)
    .option('--layers <n>', 'transformer blocks', integerOption('--layers', 1, layersMax), trainDefaults.layers)
    .option('--heads <n>', 'attention heads (dim / heads must be even)', integerOption('--heads', 1, widthMax), trainDefaults.heads)
    .option('--kv-heads <n>', 'key/value heads, dividing --heads (fewer is grouped-query attention; default: --heads)', integerOption('--kv-heads', 1, widthMax))
    .option('--hidden <n>', 'width of the SwiGLU feed-forward layer', integerOption('--hidden', 1, 4 * widthMax), trainDefaults.hidden)
    .option('--context <n>', 'context length: tokens per training sequence', integerOption('--context', 2, widthMax), trainDefaults.context)
    .option('--batch <n>', 'sequences per optimizer step', integerOption('--batch', 1, 4096), trainDefaults.batch)
    .option('--steps <n>', 'optimizer steps', integerOption('--steps', 1, 10_000_000), trainDefaults.steps)
    .option('--lr <rate>', 'peak learning rate', numberOption('--lr', Number.MIN_VALUE, 1), trainDefaults.lr)
    .option('--warmup <n>', 'steps of linear learning-rate warm-up', integerOption('--warmup', 0, 10_000_000), trainDefaults.warmup)
    .option('--seed <n>', 'seed of the initial weights and of the batch order', integerOption('--seed', 0, 0xffffffff), trainDefaults.seed)
    .option('--eval-fraction <f>', 'fraction of the corpus (its end) held out for evaluation', numberOption('--eval-fraction', 0.0001, 0.5), trainDefaults.evalFraction)
    .option('--checkpoint-dir <dir>', 'save the training state (and the tokenizer) here')
    .option('--checkpoint-every <n>', `steps between checkpoints (default ${trainDefaults.checkpointEvery})`, integerOption('--checkpoint-every', 1, 10_000_000))
    .option('--resume', 'continue the run saved in --checkpoint-dir', false)
    .option('--tokenizer-from <model.gguf>', "use this GGUF's tokenizer instead of learning one")
    .option('--tied', 'share the token embedding with the output projection (the default)')
    .option('--untied', 'give the output projection its own weights')
    .option('--type <f32|f16>', 'tensor type of the written model (f16 halves the file)', tensorTypeOption, 'f32')
    .option('--threads <n>', 'threads to train on (default: the cores available, at most 4)', integerOption('--threads', 1, trainingThreadsMax))
    .option('--name <name>', "the model's general.name (default: the output file's name)")
    .action(async (corpusPath: string, options: TrainCommandOptions, command: Command) => {
      const source: OptionSource = (flag) => command.getOptionValueSource(flag) as 'cli' | 'default' | undefined;
      await runTrainCommand(corpusPath, options, source, process.argv.slice(2).join(' '));
    });
}

function tensorTypeOption(value: string): 'f32' | 'f16' {
  const lowered = value.trim().toLowerCase();
  if (lowered !== 'f32' && lowered !== 'f16') throw new InvalidArgumentError(`--type must be f32 or f16, got '${value}'.`);
  return lowered;
}

/** The model the flags describe (the vocabulary size comes from the tokenizer). */
export function configFromFlags(options: TrainCommandOptions, vocabSize: number): ModelConfig {
  if (options.tied === true && options.untied === true) throw new TrainUsageError('--tied and --untied contradict each other; give one of them.');
  const config: ModelConfig = {
    architecture: 'llama',
    vocabSize,
    dim: options.dim,
    hiddenDim: options.hidden,
    layerCount: options.layers,
    headCount: options.heads,
    kvHeadCount: options.kvHeads ?? options.heads,
    contextLength: options.context,
    ropeFreqBase: 10000,
    normEpsilon: 1e-5,
    tiedEmbeddings: options.untied !== true,
  };
  const problems = configProblems(config);
  if (problems.length > 0) throw new TrainUsageError(`the model flags do not fit together: ${problems.join('; ')} (see --dim, --heads, --kv-heads).`);
  return config;
}

export function trainingOptionsFromFlags(options: TrainCommandOptions): TrainingOptions {
  if (options.warmup > options.steps) throw new TrainUsageError(`--warmup ${options.warmup} is longer than the run's --steps ${options.steps}.`);
  return {
    steps: options.steps,
    batchSize: options.batch,
    sequenceLength: options.context,
    learningRate: options.lr,
    warmupSteps: options.warmup,
    minLearningRateRatio: 0.1,
    beta1: 0.9,
    beta2: 0.95,
    epsilon: 1e-8,
    weightDecay: 0.1,
    gradientClipNorm: 1,
    seed: options.seed,
    evalFraction: options.evalFraction,
  };
}

function checkFlagCombinations(options: TrainCommandOptions, source: OptionSource): void {
  if (options.resume && options.checkpointDir === undefined) throw new TrainUsageError('--resume needs --checkpoint-dir, the directory the run saved its checkpoints in.');
  if (options.checkpointEvery !== undefined && options.checkpointDir === undefined) throw new TrainUsageError('--checkpoint-every needs --checkpoint-dir to save into.');
  if (options.tokenizerFrom !== undefined && source('vocabSize') === 'cli') throw new TrainUsageError('--vocab-size and --tokenizer-from contradict each other: the tokenizer fixes the vocabulary.');
  if (options.threads !== undefined && options.threads > options.batch) throw new TrainUsageError(`--threads ${options.threads} needs a --batch of at least ${options.threads} sequences.`);
  if (!options.out.endsWith('.gguf')) throw new TrainUsageError(`--out must name a .gguf file, got '${options.out}'.`);
}

/**
 * On --resume, a flag the user did not type takes the checkpoint's value, so a run
 * resumes with just its corpus, --out, --checkpoint-dir and --resume; a flag they did
 * type must match it (Trainer.resume says which do not).
 */
function adoptCheckpointFlags(options: TrainCommandOptions, source: OptionSource, checkpoint: TrainingCheckpoint): TrainCommandOptions {
  const adopted = { ...options };
  const fromCheckpoint: Array<[keyof TrainCommandOptions, number]> = [
    ['dim', checkpoint.config.dim], ['layers', checkpoint.config.layerCount], ['heads', checkpoint.config.headCount],
    ['kvHeads', checkpoint.config.kvHeadCount], ['hidden', checkpoint.config.hiddenDim], ['context', checkpoint.config.contextLength],
    ['batch', checkpoint.options.batchSize], ['steps', checkpoint.options.steps], ['lr', checkpoint.options.learningRate],
    ['warmup', checkpoint.options.warmupSteps], ['seed', checkpoint.options.seed], ['evalFraction', checkpoint.options.evalFraction],
  ];
  for (const [flag, value] of fromCheckpoint) if (source(flag) !== 'cli') (adopted as unknown as Record<string, number>)[flag] = value;
  if (options.tied !== true && options.untied !== true) adopted.untied = !checkpoint.config.tiedEmbeddings;
  return adopted;
}

function readCorpus(path: string): string {
  if (!existsSync(path) || !statSync(path).isFile()) throw new TrainUsageError(`cannot read the corpus '${path}': no such file.`);
  const text = readFileSync(path, 'utf8');
  if (text.length === 0) throw new TrainUsageError(`the corpus '${path}' is empty.`);
  return text;
}

function obtainTokenizer(text: string, options: TrainCommandOptions, log: (line: string) => void): BpeTokenizer {
  const saved = options.checkpointDir === undefined ? undefined : join(options.checkpointDir, tokenizerFileName);
  if (options.resume && saved !== undefined && existsSync(saved)) {
    log(`tokenizer: from ${saved}`);
    return BpeTokenizer.fromVocabulary(JSON.parse(readFileSync(saved, 'utf8')) as TokenizerVocabulary);
  }
  if (options.tokenizerFrom !== undefined) {
    const file = openGguf(options.tokenizerFrom);
    try {
      log(`tokenizer: from ${options.tokenizerFrom}`);
      return tokenizerFromGgufMetadata(file.metadata, options.tokenizerFrom);
    } finally {
      file.close();
    }
  }
  const started = performance.now();
  const tokenizer = trainBpe(text, { vocabSize: options.vocabSize });
  log(`tokenizer: learned ${tokenizer.vocabSize} tokens in ${formatDuration((performance.now() - started) / 1000)}`);
  if (saved !== undefined) {
    mkdirSync(options.checkpointDir!, { recursive: true });
    writeFileSync(saved, JSON.stringify(tokenizer.vocabulary()));
  }
  return tokenizer;
}

export async function runTrainCommand(corpusPath: string, flags: TrainCommandOptions, source: OptionSource, commandLine: string): Promise<TrainingReport> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  checkFlagCombinations(flags, source);
  const checkpointFile = flags.checkpointDir === undefined ? undefined : checkpointPath(flags.checkpointDir);
  const checkpoint = flags.resume && checkpointFile !== undefined ? loadCheckpoint(checkpointFile) : undefined;
  const options = checkpoint === undefined ? flags : adoptCheckpointFlags(flags, source, checkpoint);
  configFromFlags(options, 256); // Refuses inconsistent model flags before any slow work.
  const trainingOptions = trainingOptionsFromFlags(options);
  const text = readCorpus(corpusPath);
  const tokenizer = obtainTokenizer(text, options, log);
  const config = configFromFlags(options, tokenizer.vocabSize);
  const encodeStarted = performance.now();
  const tokens = tokenizer.encode(text);
  const bytes = Buffer.byteLength(text, 'utf8');
  log(`corpus: ${bytes} bytes, ${tokens.length} tokens (${(bytes / tokens.length).toFixed(2)} bytes per token), encoded in ${formatDuration((performance.now() - encodeStarted) / 1000)}`);
  const tokenByteLengths = Array.from({ length: tokenizer.vocabSize }, (_, id) => tokenizer.tokenBytes(id).length);
  const corpus = { tokens, vocabSize: tokenizer.vocabSize, tokenByteLengths };
  const threadCount = Math.min(options.threads ?? Math.min(availableParallelism(), 4), options.batch);
  const engineFactory = workerPoolEngineFactory({ threadCount });
  const trainer =
    checkpoint === undefined || checkpointFile === undefined
      ? await Trainer.create(config, trainingOptions, corpus, engineFactory)
      : await Trainer.resume(checkpoint, config, trainingOptions, corpus, checkpointFile, engineFactory);
  let stopOnInterrupt: (() => void) | undefined;
  try {
    log(`model: ${trainer.layout.parameterCount} parameters (dim ${config.dim}, ${config.layerCount} layers, ${config.headCount}/${config.kvHeadCount} heads, hidden ${config.hiddenDim}, context ${config.contextLength}, ${config.tiedEmbeddings ? 'tied' : 'untied'}), ${threadCount} thread${threadCount === 1 ? '' : 's'}${trainer.step > 0 ? `, resuming at step ${trainer.step}` : ''}`);
    const display = createProgressDisplay(process.stderr, trainingOptions.steps, trainer.step);
    // The first Ctrl-C stops after the current step (saving a checkpoint when there is a directory for it); a second one kills.
    let interrupted = false;
    stopOnInterrupt = () => (interrupted = true);
    process.once('SIGINT', stopOnInterrupt);
    const report = await runTraining(trainer, {
      now: () => performance.now(),
      onProgress: (progress) => display.update(progress),
      checkpointEvery: checkpointFile === undefined ? 0 : (options.checkpointEvery ?? trainDefaults.checkpointEvery),
      onCheckpoint: (state) => saveCheckpoint(checkpointFile!, state),
      shouldStop: () => interrupted,
    });
    display.stop();
    if (report.stopped) {
      log(
        checkpointFile === undefined
          ? `interrupted at step ${report.steps}; nothing was saved (give --checkpoint-dir to be able to resume).`
          : `interrupted at step ${report.steps}; saved ${checkpointFile}. Continue with the same command and --resume.`,
      );
      process.exitCode = 130;
      return report;
    }
    writeModel(trainer, report, tokenizer, options, commandLine, createHash('sha256').update(text).digest('hex'));
    printReport(report, options, trainingOptions);
    return report;
  } finally {
    if (stopOnInterrupt !== undefined) process.removeListener('SIGINT', stopOnInterrupt);
    await trainer.close();
  }
}

function writeModel(trainer: Trainer, report: TrainingReport, tokenizer: BpeTokenizer, options: TrainCommandOptions, commandLine: string, corpusSha256: string): void {
  const evaluation = report.evaluation!;
  const { batchSize, sequenceLength, seed, steps, evalFraction } = trainer.options;
  const name = options.name ?? basename(options.out, '.gguf');
  const metadata: Array<[string, GgufValue]> = [
    ...configToGgufMetadata(trainer.config, name),
    ['general.file_type', { type: 'uint32', value: options.type === 'f16' ? 1 : 0 }],
    ...tokenizerToGgufMetadata(tokenizer),
    ['nines.training.command', { type: 'string', value: `nines ${commandLine}` }],
    ['nines.training.seed', { type: 'uint32', value: seed }],
    ['nines.training.steps', { type: 'uint32', value: steps }],
    ['nines.training.tokens', { type: 'uint64', value: BigInt(steps * batchSize * sequenceLength) }],
    ['nines.training.corpus_sha256', { type: 'string', value: corpusSha256 }],
    ['nines.training.held_out_fraction', { type: 'float32', value: evalFraction }],
    ['nines.training.held_out_bits_per_byte', { type: 'float32', value: evaluation.bitsPerByte }],
    ['nines.training.unigram_bits_per_byte', { type: 'float32', value: evaluation.unigramBitsPerByte }],
  ];
  mkdirSync(dirname(options.out), { recursive: true });
  writeGgufFile(options.out, { metadata, tensors: exportTensors(trainer.layout, trainer.parameters, options.type === 'f16' ? 'F16' : 'F32') });
}

function printReport(report: TrainingReport, options: TrainCommandOptions, trainingOptions: TrainingOptions): void {
  const evaluation = report.evaluation!;
  const tokens = report.stepsThisRun * trainingOptions.batchSize * trainingOptions.sequenceLength;
  const trained =
    report.stepsThisRun === 0
      ? [`the checkpoint is already at the run's last step (${report.steps}); nothing left to train`]
      : [
          `trained ${report.parameterCount} parameters for ${report.stepsThisRun} steps (${tokens} tokens) in ${formatDuration(report.elapsedSeconds)}: ${Math.round(report.tokensPerSecond)} tokens/s on ${report.threadCount} thread${report.threadCount === 1 ? '' : 's'}`,
          `final training loss ${report.finalSmoothedLoss.toFixed(4)} nats/token (mean of the last ${Math.min(lossSmoothingWindow, report.stepsThisRun)} steps)`,
        ];
  const lines = [
    ...trained,
    `held-out (${evaluation.tokenCount} tokens, ${evaluation.byteCount} bytes): ${evaluation.natsPerToken.toFixed(4)} nats/token, ${evaluation.bitsPerByte.toFixed(4)} bits/byte; unigram baseline ${evaluation.unigramBitsPerByte.toFixed(4)} bits/byte`,
    `wrote ${options.out} (${(statSync(options.out).size / 1e6).toFixed(2)} MB, ${options.type.toUpperCase()})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
