/**
 * Time as an injected dependency. Every class in this folder reads the time through a
 * `Clock` and waits through a `Scheduler`, so tests drive a simulated minute in
 * microseconds and the decisions themselves never touch a real timer.
 */

/** The current time in milliseconds; only differences between readings matter. */
export type Clock = () => number;

/** Cancels an alarm; calling it after the alarm fired or twice does nothing. */
export type CancelAlarm = () => void;

/** Runs a callback once, `delayMs` from now on the matching clock. */
export interface Scheduler {
  setAlarm(delayMs: number, callback: () => void): CancelAlarm;
}

/**
 * The monotonic clock. performance.now never goes backwards when the wall clock is
 * adjusted, which matters for buckets and deadlines measured in milliseconds.
 */
export const monotonicClock: Clock = () => performance.now();

/**
 * Real timers. They are unref'd: a pending deadline alarm must never keep a peer's
 * process alive after everything else has shut down.
 */
export const realScheduler: Scheduler = {
  setAlarm(delayMs, callback) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    timer.unref();
    return () => clearTimeout(timer);
  },
};
