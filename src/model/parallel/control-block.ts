/**
 * The control block through which the calling thread hands products to the worker
 * threads: a few int32 words in the shared kernel memory. The caller writes the tasks
 * of one job (up to taskCountMax products: q, k and v share one job, as do gate and up),
 * opens the job's chunks for claiming, bumps the generation word and wakes the workers.
 *
 * Each task's rows are cut into chunks, and every thread, the caller included, claims
 * chunks one at a time from a shared counter until none are left; the job is over when
 * every chunk is complete. Claiming rather than fixed shares means that a worker the
 * operating system has not scheduled yet (a busy machine) simply takes no chunk, and the
 * others do its part, instead of everyone waiting for it.
 *
 * Each row is computed whole by one thread in the kernels' fixed order, so the results
 * are the same bits whichever thread takes which chunk, and on any number of threads.
 */
import { assert } from '../../core/assert.js';
import { controlBlockAddress, controlBlockBytes } from '../kernels/wasm/index.js';

/** Int32 word indices in the control block. */
export const controlWord = {
  /** Incremented by the caller for every job; workers wait on it. */
  generation: 0,
  /** Chunks of the current job that threw; the first writes its message below. */
  failed: 2,
  taskCount: 3,
  threadCount: 4,
  /** Set to 1 to make every worker leave its loop. */
  stop: 5,
  /** Workers that have started and are waiting for jobs. */
  ready: 6,
  /** Bytes of the failure message. */
  errorLength: 7,
  /**
   * The next chunk to claim, with the job it belongs to: (generation mod 2^16) << 16 |
   * chunk. A claim is a compare-and-swap on the whole word, so a worker that woke late
   * cannot claim a chunk of a later job with an earlier job's tasks in mind.
   */
  claim: 8,
  /** Chunks of the current job completed. */
  completed: 9,
  /** Chunks the workers (not the caller) computed, ever: how much the threads help. */
  workerChunks: 10,
} as const;

/** Int32 words per task, in this order. */
const taskField = { kernel: 0, out: 1, weights: 2, x: 3, rows: 4, cols: 5, rowBytes: 6, tokens: 7, outStride: 8, xStride: 9 } as const;
const taskWords = 10;
const tasksWord = 16;
/** The most products one job carries (attention gives every head its own). */
export const taskCountMax = 64;
const errorTextOffsetBytes = 4096;
const errorTextBytesMax = controlBlockBytes - errorTextOffsetBytes;

/** One product: out (tokens, rows) = x (tokens, cols) · Wᵀ, all addresses and strides in bytes. */
export interface ProductTask {
  kernel: number;
  out: number;
  weights: number;
  x: number;
  rows: number;
  cols: number;
  rowBytes: number;
  tokens: number;
  outStride: number;
  xStride: number;
}

/** The control block's words as an Int32Array over the kernel memory's buffer. */
export function controlWords(buffer: ArrayBufferLike): Int32Array {
  return new Int32Array(buffer, controlBlockAddress, controlBlockBytes / 4);
}

/** Writes task `index` of the next job (no allocation: the forward pass calls this for every product). */
export function writeTask(control: Int32Array, index: number, kernel: number, out: number, weights: number, x: number, rows: number, cols: number, rowBytes: number, tokens: number, outStride: number, xStride: number): void {
  assert(index >= 0 && index < taskCountMax, `a job holds at most ${taskCountMax} tasks`);
  const base = tasksWord + index * taskWords;
  control[base + taskField.kernel] = kernel;
  control[base + taskField.out] = out;
  control[base + taskField.weights] = weights;
  control[base + taskField.x] = x;
  control[base + taskField.rows] = rows;
  control[base + taskField.cols] = cols;
  control[base + taskField.rowBytes] = rowBytes;
  control[base + taskField.tokens] = tokens;
  control[base + taskField.outStride] = outStride;
  control[base + taskField.xStride] = xStride;
}

/** Reads task `index` back (for tests and messages). */
export function readTask(control: Int32Array, index: number): ProductTask {
  const base = tasksWord + index * taskWords;
  const field = (name: keyof typeof taskField) => control[base + taskField[name]];
  return { kernel: field('kernel'), out: field('out'), weights: field('weights'), x: field('x'), rows: field('rows'), cols: field('cols'), rowBytes: field('rowBytes'), tokens: field('tokens'), outStride: field('outStride'), xStride: field('xStride') };
}

/** Chunks per thread a task is cut into (about): enough to even out, few enough to keep claims cheap. */
const chunksPerThread = 4;
/** A task has at most this many chunks, so that a job's (taskCountMax of them) fit the claim word's 16 low bits. */
const chunksPerTaskMax = 1000;
/** The claim word's chunk when no job is open: more than any job's chunks. */
const closedChunk = 0xffff;

/** Chunks start on a multiple of this many rows: 16 float32 outputs fill a cache line, so two threads never write the same line. */
export const chunkRowAlignment = 16;

/** Rows per chunk of a task of `rows` rows. */
export function chunkRowsOf(rows: number, threadCount: number): number {
  const rowsPerChunk = Math.max(Math.ceil(rows / (chunksPerThread * threadCount)), Math.ceil(rows / chunksPerTaskMax));
  return Math.ceil(rowsPerChunk / chunkRowAlignment) * chunkRowAlignment;
}

/** A kernel export's parameters: (out, weights, x, rowBegin, rowEnd, cols, rowBytes, tokens, outStride, xStride). */
export type KernelParameters = [out: number, weights: number, x: number, rowBegin: number, rowEnd: number, cols: number, rowBytes: number, tokens: number, outStride: number, xStride: number];
export type KernelFunction = (...parameters: KernelParameters) => void;

/** Computes rows [begin, end) of task `index`. */
function runRows(kernels: readonly KernelFunction[], control: Int32Array, index: number, begin: number, end: number): void {
  const base = tasksWord + index * taskWords;
  kernels[control[base + taskField.kernel]](
    control[base + taskField.out],
    control[base + taskField.weights],
    control[base + taskField.x],
    begin,
    end,
    control[base + taskField.cols],
    control[base + taskField.rowBytes],
    control[base + taskField.tokens],
    control[base + taskField.outStride],
    control[base + taskField.xStride],
  );
}

/** Computes every task of the current job whole, on the calling thread. */
export function runAll(kernels: readonly KernelFunction[], control: Int32Array): void {
  for (let index = 0; index < control[controlWord.taskCount]; index++) runRows(kernels, control, index, 0, control[tasksWord + index * taskWords + taskField.rows]);
}

/** Multiply-adds of the current job: rows x cols x tokens, summed over its tasks. */
export function multiplyAddsOf(control: Int32Array): number {
  let total = 0;
  for (let index = 0; index < control[controlWord.taskCount]; index++) {
    const base = tasksWord + index * taskWords;
    total += control[base + taskField.rows] * control[base + taskField.cols] * control[base + taskField.tokens];
  }
  return total;
}

/** The number of chunks of the current job. */
export function chunkCountOf(control: Int32Array): number {
  const threadCount = control[controlWord.threadCount];
  let chunks = 0;
  for (let index = 0; index < control[controlWord.taskCount]; index++) {
    const rows = control[tasksWord + index * taskWords + taskField.rows];
    chunks += Math.ceil(rows / chunkRowsOf(rows, threadCount));
  }
  return chunks;
}

/** Opens the job of `generation` (whose tasks are written) for claiming; the caller bumps the generation word next. */
export function openJob(control: Int32Array, generation: number): void {
  Atomics.store(control, controlWord.completed, 0);
  Atomics.store(control, controlWord.claim, (generation & 0xffff) << 16);
}

/**
 * Closes the claims of the job of `generation` once it is complete, before the next
 * job's tasks are written: a worker that read this job's generation late then finds no
 * chunk to claim, rather than claiming one against tasks being rewritten.
 */
export function closeJob(control: Int32Array, generation: number): void {
  Atomics.store(control, controlWord.claim, ((generation & 0xffff) << 16) | closedChunk);
}

/** Computes chunk `chunk` of the current job. */
function runChunk(kernels: readonly KernelFunction[], control: Int32Array, chunk: number): void {
  const threadCount = control[controlWord.threadCount];
  let first = 0;
  for (let index = 0; index < control[controlWord.taskCount]; index++) {
    const rows = control[tasksWord + index * taskWords + taskField.rows];
    const chunkRows = chunkRowsOf(rows, threadCount);
    const chunks = Math.ceil(rows / chunkRows);
    if (chunk < first + chunks) {
      const begin = (chunk - first) * chunkRows;
      runRows(kernels, control, index, begin, Math.min(rows, begin + chunkRows));
      return;
    }
    first += chunks;
  }
}

/**
 * Claims and computes chunks of the job of `generation` (of `chunkCount` chunks) until
 * none are left; a chunk that throws is recorded (recordFailure) and counts as complete,
 * so the job still ends. Returns the chunks this thread computed.
 */
export function claimChunks(kernels: readonly KernelFunction[], control: Int32Array, generation: number, chunkCount: number, threadName: string): number {
  const tag = (generation & 0xffff) << 16;
  let computed = 0;
  for (;;) {
    const word = Atomics.load(control, controlWord.claim);
    if ((word & 0xffff0000) !== tag) return computed;
    const chunk = word & 0xffff;
    if (chunk >= chunkCount) return computed;
    if (Atomics.compareExchange(control, controlWord.claim, word, word + 1) !== word) continue;
    try {
      runChunk(kernels, control, chunk);
    } catch (error) {
      recordFailure(control, `${threadName}: ${(error as Error).stack ?? String(error)}`);
    }
    computed++;
    Atomics.add(control, controlWord.completed, 1);
  }
}

/** Records a worker's failure message (the first one wins) for the caller to throw. */
export function recordFailure(control: Int32Array, message: string): void {
  if (Atomics.add(control, controlWord.failed, 1) !== 0) return;
  const bytes = new TextEncoder().encode(message).subarray(0, errorTextBytesMax);
  new Uint8Array(control.buffer, control.byteOffset + errorTextOffsetBytes, bytes.length).set(bytes);
  Atomics.store(control, controlWord.errorLength, bytes.length);
}

/** The first failure message of the current job. */
export function failureMessage(control: Int32Array): string {
  const length = Atomics.load(control, controlWord.errorLength);
  return new TextDecoder().decode(new Uint8Array(control.buffer, control.byteOffset + errorTextOffsetBytes, length).slice());
}
