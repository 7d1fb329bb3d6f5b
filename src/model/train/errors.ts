/**
 * The errors training raises on purpose. Each has a stable `code` and a message that
 * says what is wrong and what to do; the CLI prints the message and exits non-zero.
 */

/** A model configuration or training option that cannot be trained. */
export class TrainingConfigError extends Error {
  override name = 'TrainingConfigError';
  readonly code = 'TRAINING_CONFIG';
}

/** A corpus or token array that cannot be trained on (too short, ids out of range). */
export class TrainingDataError extends Error {
  override name = 'TrainingDataError';
  readonly code = 'TRAINING_DATA';
}

/** A checkpoint that is not a nines checkpoint, is damaged, or is from a newer format. */
export class CheckpointCorruptError extends Error {
  override name = 'CheckpointCorruptError';
  readonly code = 'CHECKPOINT_CORRUPT';

  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`${source}: ${problem}`);
  }
}

/** A sound checkpoint written by a different run (other model, options or data) than the one resuming. */
export class CheckpointMismatchError extends Error {
  override name = 'CheckpointMismatchError';
  readonly code = 'CHECKPOINT_MISMATCH';

  constructor(
    readonly source: string,
    readonly differences: string[],
  ) {
    super(
      `${source}: the checkpoint belongs to a different training run (${differences.join('; ')}). ` +
        'Resume with the same model, options and corpus, or start afresh without --resume.',
    );
  }
}

/** The loss or the gradient became NaN or infinite: the learning rate is too high for this model. */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
  readonly code = 'TRAINING_DIVERGED';

  constructor(readonly step: number, readonly loss: number, readonly gradientNorm: number) {
    super(`training diverged at step ${step} (loss ${loss}, gradient norm ${gradientNorm}); lower the learning rate (--lr) or lengthen the warm-up (--warmup)`);
  }
}
