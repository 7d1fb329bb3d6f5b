/**
 * Checkpoints on disk. Writes go to a temporary file that is then renamed over the
 * target, so a crash mid-write leaves the previous checkpoint intact rather than half
 * of a new one.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type TrainingCheckpoint } from './checkpoint.js';
import { CheckpointCorruptError } from './errors.js';

/** The file a run keeps its latest checkpoint in, inside its checkpoint directory. */
export const checkpointFileName = 'checkpoint.nckpt';

export function checkpointPath(directory: string): string {
  return join(directory, checkpointFileName);
}

export function saveCheckpoint(path: string, checkpoint: TrainingCheckpoint): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.partial`;
  writeFileSync(temporary, encodeCheckpoint(checkpoint));
  renameSync(temporary, path);
}

export function loadCheckpoint(path: string): TrainingCheckpoint {
  if (!existsSync(path)) throw new CheckpointCorruptError(path, 'there is no checkpoint here to resume from; run without --resume to start afresh');
  return decodeCheckpoint(new Uint8Array(readFileSync(path)), path);
}
