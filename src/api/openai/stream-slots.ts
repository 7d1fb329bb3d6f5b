/**
 * Counts the completions each API key has running, so that one key cannot take every
 * generation slot: over streamsPerKeyMax, a request is refused with 429 and Retry-After.
 * A key's entry is dropped when its count returns to zero, so the map never holds more
 * entries than there are running completions.
 */
import { assert } from '../../core/assert.js';
import { OpenAiError } from './errors.js';

export class StreamSlots {
  private readonly running = new Map<string, number>();

  constructor(private readonly perKeyMax: number) {
    assert(Number.isInteger(perKeyMax) && perKeyMax >= 1, `streams per key must be an integer >= 1, got ${perKeyMax}`);
  }

  count(keyName: string): number {
    return this.running.get(keyName) ?? 0;
  }

  /** Takes a slot for the key; the returned function gives it back (calling it again does nothing). */
  acquire(keyName: string): () => void {
    const count = this.count(keyName);
    if (count >= this.perKeyMax) {
      throw Object.assign(
        new OpenAiError(
          'rate_limit_exceeded',
          `Too many concurrent requests for API key '${keyName}': ${count} completions are running, and ${this.perKeyMax} is the limit per key. Wait for one to finish, then retry.`,
        ),
        { limit: 'streams' },
      );
    }
    this.running.set(keyName, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.count(keyName) - 1;
      assert(left >= 0, `stream slots for '${keyName}' went below zero`);
      if (left === 0) this.running.delete(keyName);
      else this.running.set(keyName, left);
    };
  }
}
