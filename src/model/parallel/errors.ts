/** A thread count outside 1..inferenceThreadsMax, from --threads or an API caller. */
export class ThreadCountError extends Error {
  override name = 'ThreadCountError';
  readonly code = 'THREAD_COUNT';
}
