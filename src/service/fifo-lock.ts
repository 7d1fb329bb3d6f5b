/**
 * One model computes one thing at a time (its forward passes share the kernel threads), so
 * the in-process backend and the compute engine both queue work through this lock.
 */
/**
 * A first-in, first-out lock with a bounded queue. `acquire` resolves to the release
 * function once the caller's turn comes, or to undefined if its signal aborts first
 * (the waiter leaves the queue); it throws server_busy when the queue is full.
 */
export class FifoLock {
  private held = false;
  private readonly waiting: { grant: () => void }[] = [];

  constructor(
    private readonly waitingMax: number,
    /** The error a caller gets when the queue is full. */
    private readonly busyError: (waiting: number) => Error,
  ) {}

  get waitingCount(): number {
    return this.waiting.length;
  }

  acquire(signal: AbortSignal): Promise<(() => void) | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    if (!this.held) {
      this.held = true;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.waitingMax) {
      return Promise.reject(this.busyError(this.waiting.length));
    }
    return new Promise((resolve) => {
      const waiter = {
        grant: () => {
          signal.removeEventListener('abort', leave);
          resolve(this.releaser());
        },
      };
      const leave = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        resolve(undefined);
      };
      signal.addEventListener('abort', leave, { once: true });
      this.waiting.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next === undefined) this.held = false;
      else next.grant();
    };
  }
}
