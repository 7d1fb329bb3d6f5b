/**
 * Runs a task now and then every interval, never two at once: a slow peer delays the next
 * poll instead of piling requests up. `refreshNow` runs it at once (after a chaos button or
 * a new key), or right after the run in progress ends.
 */
export class Poller {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private again = false;

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
  ) {}

  start(): void {
    void this.run();
  }

  refreshNow(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      await this.task();
    } catch (error) {
      // Each panel shows its own errors; one that escapes is a bug to see in the console, and polling goes on.
      console.error(error);
    } finally {
      this.running = false;
      const soon = this.again;
      this.again = false;
      this.timer = setTimeout(() => void this.run(), soon ? 0 : this.intervalMs);
    }
  }
}
