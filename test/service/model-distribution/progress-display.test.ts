import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { createFetchProgressDisplay } from '../../../src/service/model-distribution/index.js';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text(): string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text(): string };
  const chunks: string[] = [];
  (stream as unknown as PassThrough).on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  Object.assign(stream, { isTTY, columns: 160, cursorTo: () => true, clearLine: () => true, moveCursor: () => true, text: () => chunks.join('') });
  return stream;
}

describe('the fetch progress display', () => {
  it('draws a bar with chunks, mebibytes and providers on a terminal', async () => {
    const stream = fakeStream(true);
    const display = createFetchProgressDisplay(stream, 'nines-kjv')!;
    display.update({ chunksDone: 1, chunksTotal: 4, bytesDone: 1024 * 1024, bytesTotal: 4 * 1024 * 1024, providers: 2 });
    display.update({ chunksDone: 4, chunksTotal: 4, bytesDone: 4 * 1024 * 1024, bytesTotal: 4 * 1024 * 1024, providers: 2 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.text()).toMatch(/fetching nines-kjv .* chunk 4\/4 \| 4\.0 MiB of 4\.0 \| 2 providers/);
  });

  it('draws nothing on a pipe, where the node log shows the progress', () => {
    expect(createFetchProgressDisplay(fakeStream(false), 'nines-kjv')).toBeUndefined();
  });
});
