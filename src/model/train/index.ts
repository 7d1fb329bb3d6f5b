/**
 * Training nines' models: a hand-written backward pass of the llama architecture, AdamW,
 * seeded data sampling, held-out evaluation in bits per byte, resumable checkpoints, and
 * data-parallel threads over a WebAssembly SIMD matrix kernel.
 *
 * Typical use (see src/cli/train.ts):
 *   const trainer = await Trainer.create(config, options, { tokens, vocabSize, tokenByteLengths }, workerPoolEngineFactory({ threadCount: 2 }));
 *   const report = await runTraining(trainer, { now: () => performance.now(), onProgress });
 *   const tensors = exportTensors(trainer.layout, trainer.parameters, 'F32');
 *   await trainer.close();
 *
 * The worker-pool engine lives in worker-pool-shell.ts (it starts threads) and is
 * imported from there, not from here, so that this face stays free of I/O.
 */
export { Trainer, type EvaluationReport, type TrainingStepResult } from './trainer.js';
export { runTraining, lossSmoothingWindow, type TrainingHooks, type TrainingProgress, type TrainingReport } from './loop.js';
export { defaultOptimizerSettings, trainingOptionProblems, trainingStepsMax, batchSizeMax, type TrainingOptions } from './options.js';
export { learningRateAt, type OptimizerSettings } from './optimizer.js';
export { type TokenCorpus } from './data.js';
export { LocalGradientEngine, localEngineFactory, type GradientEngine, type GradientEngineFactory } from './engine.js';
export { decodeCheckpoint, encodeCheckpoint, corpusFingerprint, checkpointFormatVersion, type TrainingCheckpoint } from './checkpoint.js';
export { exportTensors, exportedBytes, type ExportType, type ExportedTensor } from './export.js';
export { layoutOf, initializeParameters, type ModelLayout, type ParameterTensor } from './parameters.js';
export { simdAvailable } from './simd-kernel.js';
export { CheckpointCorruptError, CheckpointMismatchError, TrainingConfigError, TrainingDataError, TrainingDivergedError } from './errors.js';
