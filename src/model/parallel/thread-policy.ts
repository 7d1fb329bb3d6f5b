/**
 * Whether the worker threads are worth calling, decided from measured speed. They are
 * not always: when the machine's "cores" are two hardware threads of one core (as on
 * some virtual machines), two threads computing at once each run at half speed, and
 * one spinning while the other computes slows it too; on a busy machine a worker may
 * not be scheduled for milliseconds. Then a product on the threads is slower than on
 * the calling thread alone, and this policy sends products to the calling thread alone
 * for a while, trying the threads again later.
 *
 * Which thread computes a row never changes its result, so the policy changes speed
 * only, never a logit. It sees time only as the durations the shell passes in.
 */

/** The threads must beat the calling thread alone by this factor to be used. */
export const threadSpeedupMin = 1.1;
/** While the threads are in use, every this many jobs runs on the calling thread alone, to keep its speed measured. */
export const soloProbeEveryJobs = 32;
/** After the threads lost, this many jobs run on the calling thread alone before they are tried again. */
export const soloBackoffJobs = 2048;
/** Jobs on the threads measured before they are judged. */
const threadedSamplesMin = 8;
/** Weight of the newest job in the running averages of speed. */
const averageWeight = 0.2;

export class ThreadPolicy {
  private jobs = 0;
  private soloUntilJob = 0;
  private soloSpeed = 0; // multiply-adds per millisecond, running average; 0 = not measured
  private threadedSpeed = 0;
  private threadedSamples = 0;

  /** Whether the next job should go to the threads (call once per job, then record it). */
  useThreads(): boolean {
    this.jobs++;
    if (this.jobs < this.soloUntilJob) return false;
    return this.jobs % soloProbeEveryJobs !== 0;
  }

  /** Records a finished job: its multiply-adds, its duration, and whether the threads ran it. */
  record(threaded: boolean, multiplyAdds: number, milliseconds: number): void {
    if (!(milliseconds > 0)) return;
    const speed = multiplyAdds / milliseconds;
    if (!threaded) {
      this.soloSpeed = this.soloSpeed === 0 ? speed : this.soloSpeed + averageWeight * (speed - this.soloSpeed);
      return;
    }
    this.threadedSpeed = this.threadedSamples === 0 ? speed : this.threadedSpeed + averageWeight * (speed - this.threadedSpeed);
    this.threadedSamples++;
    if (this.threadedSamples >= threadedSamplesMin && this.soloSpeed > 0 && this.threadedSpeed < threadSpeedupMin * this.soloSpeed) {
      this.soloUntilJob = this.jobs + soloBackoffJobs;
      this.threadedSamples = 0; // judged afresh when the threads are tried again
    }
  }

  /** True while the threads are set aside. */
  get solo(): boolean {
    return this.jobs < this.soloUntilJob;
  }
}
