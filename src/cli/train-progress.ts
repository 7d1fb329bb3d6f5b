/**
 * How `nines train` shows its progress: a cli-progress bar with step, loss, tokens per
 * second and ETA on a terminal; on a pipe or a CI log, where a redrawn bar is noise, one
 * line per percent of the run instead.
 */
import { SingleBar } from 'cli-progress';
import type { TrainingProgress } from '../model/train/index.js';

export interface ProgressDisplay {
  update(progress: TrainingProgress): void;
  stop(): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  return hours > 0 ? `${hours}h${String(minutes).padStart(2, '0')}m` : minutes > 0 ? `${minutes}m${String(rest).padStart(2, '0')}s` : `${rest}s`;
}

function fields(progress: TrainingProgress) {
  return {
    loss: progress.smoothedLoss.toFixed(3),
    tokensPerSecond: Math.round(progress.tokensPerSecond),
    learningRate: progress.learningRate.toExponential(2),
    eta: formatDuration(progress.etaSeconds),
  };
}

export function createProgressDisplay(stream: NodeJS.WriteStream, totalSteps: number, firstStep: number): ProgressDisplay {
  if (stream.isTTY === true) {
    const bar = new SingleBar({
      stream,
      format: 'training {bar} step {value}/{total} | loss {loss} | {tokensPerSecond} tok/s | lr {learningRate} | ETA {eta}',
      barsize: 24,
      hideCursor: true,
      fps: 5,
    });
    bar.start(totalSteps, firstStep, { loss: '-', tokensPerSecond: 0, learningRate: '-', eta: '?' });
    return { update: (progress) => bar.update(progress.step, fields(progress)), stop: () => bar.stop() };
  }
  const every = Math.max(1, Math.round(totalSteps / 100));
  return {
    update(progress) {
      if (progress.step % every !== 0 && progress.step !== totalSteps) return;
      const shown = fields(progress);
      stream.write(`step ${progress.step}/${totalSteps} | loss ${shown.loss} | ${shown.tokensPerSecond} tok/s | lr ${shown.learningRate} | ETA ${shown.eta}\n`);
    },
    stop() {},
  };
}
