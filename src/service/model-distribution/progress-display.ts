/**
 * How `nines node --fetch-model` shows a download on a terminal: a cli-progress bar with the
 * chunks, megabytes and providers, in the style of `nines train` (src/cli/train-progress.ts).
 * On a pipe or a CI log there is no bar: the node's log lines show the progress instead.
 */
import { SingleBar } from 'cli-progress';
import type { FetchProgress } from './fetcher.js';

export interface FetchProgressDisplay {
  update(progress: FetchProgress): void;
  stop(): void;
}

const mebibyte = 1024 * 1024;

/** A bar on `stream` when it is a terminal, otherwise undefined. */
export function createFetchProgressDisplay(stream: NodeJS.WriteStream, name: string): FetchProgressDisplay | undefined {
  if (stream.isTTY !== true) return undefined;
  const bar = new SingleBar({
    stream,
    format: `fetching ${name} {bar} chunk {value}/{total} | {megabytes} MiB of {megabytesTotal} | {providers} providers`,
    barsize: 24,
    hideCursor: true,
    fps: 5,
  });
  let started = false;
  let stopped = false;
  return {
    update(progress) {
      if (stopped) return;
      const fields = { megabytes: (progress.bytesDone / mebibyte).toFixed(1), megabytesTotal: (progress.bytesTotal / mebibyte).toFixed(1), providers: progress.providers };
      if (!started) bar.start(progress.chunksTotal, progress.chunksDone, fields);
      else bar.update(progress.chunksDone, fields);
      started = true;
      if (progress.chunksDone === progress.chunksTotal && progress.bytesDone === progress.bytesTotal) this.stop();
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
