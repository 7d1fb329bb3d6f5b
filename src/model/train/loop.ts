/**
 * The training loop: steps until the run's last step, reporting progress and handing
 * out checkpoints on the way, then evaluates on the held-out text. Time comes in
 * through `now` (this is a pure core); saving a checkpoint is the caller's business.
 */
import type { TrainingCheckpoint } from './checkpoint.js';
import type { EvaluationReport, Trainer, TrainingStepResult } from './trainer.js';

export interface TrainingProgress extends TrainingStepResult {
  /** The run's total steps. */
  steps: number;
  /** Mean loss over the last few steps: a steadier figure than one batch's. */
  smoothedLoss: number;
  /** Training tokens per second since this call began (resumed runs restart the count). */
  tokensPerSecond: number;
  /** Estimated seconds until the last step, at the rate so far. */
  etaSeconds: number;
}

export interface TrainingHooks {
  /** A monotonic clock in milliseconds (performance.now in the CLI). */
  now(): number;
  onProgress?(progress: TrainingProgress): void;
  /** Hand out a checkpoint every this many steps (and after the last step); 0 or absent for none. */
  checkpointEvery?: number;
  onCheckpoint?(checkpoint: TrainingCheckpoint): void | Promise<void>;
  /** Skip the held-out evaluation at the end (when evalFraction is 0). */
  skipEvaluation?: boolean;
  /** Asked after every step; true ends the run early (after a checkpoint, when checkpoints are on), without evaluating. */
  shouldStop?(): boolean;
}

export interface TrainingReport {
  /** Steps completed, counting those before a resume. */
  steps: number;
  /** Steps taken by this call. */
  stepsThisRun: number;
  /** True when shouldStop ended the run before its last step. */
  stopped: boolean;
  parameterCount: number;
  threadCount: number;
  /** The mean training loss of every step taken by this call, in order. */
  losses: number[];
  finalSmoothedLoss: number;
  elapsedSeconds: number;
  tokensPerSecond: number;
  evaluation: EvaluationReport | undefined;
}

/** Steps averaged for smoothedLoss. */
export const lossSmoothingWindow = 20;

export async function runTraining(trainer: Trainer, hooks: TrainingHooks): Promise<TrainingReport> {
  const { steps, batchSize, sequenceLength } = trainer.options;
  const tokensPerStep = batchSize * sequenceLength;
  const startedMs = hooks.now();
  const firstStep = trainer.step;
  const losses: number[] = [];
  let smoothedLoss = Number.NaN;
  let stopped = false;
  while (!trainer.isFinished) {
    const result = await trainer.trainStep();
    losses.push(result.loss);
    const recent = losses.slice(-lossSmoothingWindow);
    smoothedLoss = recent.reduce((sum, loss) => sum + loss, 0) / recent.length;
    const elapsedSeconds = Math.max(1e-9, (hooks.now() - startedMs) / 1000);
    const stepsThisRun = trainer.step - firstStep;
    hooks.onProgress?.({
      ...result,
      steps,
      smoothedLoss,
      tokensPerSecond: (stepsThisRun * tokensPerStep) / elapsedSeconds,
      etaSeconds: ((steps - trainer.step) * elapsedSeconds) / stepsThisRun,
    });
    stopped = !trainer.isFinished && hooks.shouldStop?.() === true;
    const every = hooks.checkpointEvery ?? 0;
    if (every > 0 && hooks.onCheckpoint !== undefined && (trainer.step % every === 0 || trainer.isFinished || stopped)) await hooks.onCheckpoint(trainer.checkpoint());
    if (stopped) break;
  }
  const elapsedSeconds = (hooks.now() - startedMs) / 1000;
  const evaluation = hooks.skipEvaluation === true || stopped ? undefined : trainer.evaluate();
  return {
    steps: trainer.step,
    stepsThisRun: trainer.step - firstStep,
    stopped,
    parameterCount: trainer.layout.parameterCount,
    threadCount: trainer.threadCount,
    losses,
    finalSmoothedLoss: smoothedLoss,
    elapsedSeconds,
    tokensPerSecond: elapsedSeconds > 0 ? ((trainer.step - firstStep) * tokensPerStep) / elapsedSeconds : 0,
    evaluation,
  };
}
