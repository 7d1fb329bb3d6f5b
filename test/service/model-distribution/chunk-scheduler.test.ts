import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from '../../../src/core/rng.js';
import { ChunkScheduler, type Assignment } from '../../../src/service/model-distribution/index.js';

const limits = { chunksInFlightPerProviderMax: 2, chunksInFlightMax: 5, corruptChunksPerProviderMax: 2, providerRetryMsMin: 100, providerRetryMsMax: 800, providerBusyMs: 10 };

function schedulerWith(chunks: number, providers: string[], done: boolean[] = new Array<boolean>(chunks).fill(false)): ChunkScheduler {
  const scheduler = new ChunkScheduler(done, limits);
  for (const provider of providers) scheduler.addProvider(provider);
  return scheduler;
}

const byProvider = (assignments: Assignment[]) => Object.fromEntries(['a', 'b', 'c'].map((id) => [id, assignments.filter((item) => item.provider === id).length]));

describe('the chunk scheduler', () => {
  it('spreads requests across providers, lowest chunks first, within the per-provider and total limits', () => {
    const scheduler = schedulerWith(20, ['a', 'b', 'c']);
    const first = scheduler.next(0);
    expect(first.map((item) => item.index)).toEqual([0, 1, 2, 3, 4]);
    expect(Object.values(byProvider(first)).sort()).toEqual([1, 2, 2]);
    expect(scheduler.next(0)).toEqual([]);
    expect(scheduler.delivered(first[0].request)).toBe(true);
    const second = scheduler.next(0);
    expect(second).toHaveLength(1);
    expect(second[0].index).toBe(5);
  });

  it('does not ask for chunks a resumed download already has', () => {
    const done = [true, false, true, true, false];
    const scheduler = schedulerWith(5, ['a', 'b', 'c'], done);
    expect(scheduler.chunksDone).toBe(3);
    const assignments = scheduler.next(0);
    expect(assignments.map((item) => item.index)).toEqual([1, 4]);
    for (const item of assignments) scheduler.delivered(item.request);
    expect(scheduler.complete).toBe(true);
  });

  it('asks another provider for a chunk that came back wrong, and drops a provider after too many', () => {
    const scheduler = schedulerWith(10, ['a', 'b']);
    const first = scheduler.next(0);
    const fromA = first.filter((item) => item.provider === 'a');
    expect(scheduler.corrupt(fromA[0].request)).toBe(false);
    // The bad chunk must wait for b (never again from a, which sent it wrong); a takes a fresh one meanwhile.
    expect(scheduler.next(0).map((item) => [item.index, item.provider])).toEqual([[4, 'a']]);
    scheduler.delivered(first.find((item) => item.provider === 'b')!.request);
    // The bad chunk goes out again before any fresh one.
    expect(scheduler.next(0)[0]).toMatchObject({ index: fromA[0].index, provider: 'b' });
    expect(scheduler.corrupt(fromA[1].request)).toBe(true);
    expect(scheduler.providersActive).toBe(1);
    for (const item of scheduler.next(0)) expect(item.provider).toBe('b');
  });

  it('gives the chunks of a failing provider to the others at once, and rests it for longer each time', () => {
    const scheduler = schedulerWith(10, ['a', 'b']);
    const assignments = scheduler.next(0);
    const ofA = assignments.filter((item) => item.provider === 'a');
    expect(scheduler.requestsOf('a').sort()).toEqual(ofA.map((item) => item.request).sort());
    scheduler.failed(ofA[0].request, 0, 'error');
    for (const item of assignments.filter((item) => item.provider === 'b')) scheduler.delivered(item.request);
    const moved = scheduler.next(0);
    // Both of a's chunks (the failed one and the one still in flight) now go to b.
    expect(moved.map((item) => [item.index, item.provider])).toEqual(ofA.map((item) => [item.index, 'b']));
    scheduler.failed(ofA[1].request, 0, 'cancelled');
    expect(scheduler.next(50)).toEqual([]);
    for (const item of moved) scheduler.delivered(item.request);
    const afterRest = scheduler.next(100);
    expect(afterRest.some((item) => item.provider === 'a')).toBe(true);
    const again = afterRest.find((item) => item.provider === 'a')!;
    scheduler.failed(again.request, 100, 'error');
    // The second failure in a row rests it for twice as long.
    expect(scheduler.next(250).filter((item) => item.provider === 'a')).toEqual([]);
    expect(scheduler.blocked(250)).toEqual({});
  });

  it('rests a busy provider briefly without counting it as failed', () => {
    const scheduler = schedulerWith(4, ['a']);
    const [first, second] = scheduler.next(0);
    scheduler.failed(first.request, 0, 'busy');
    expect(scheduler.requestsOf('a')).toEqual([second.request]);
    expect(scheduler.next(5)).toEqual([]);
    scheduler.delivered(second.request);
    expect(scheduler.blocked(5)).toEqual({ wakeAtMs: 10 });
    expect(scheduler.next(10).map((item) => item.index)).toEqual([first.index, 2]);
  });

  it('accepts a stale request\'s bytes once, and says why it is stuck when nobody is left for a chunk', () => {
    const scheduler = schedulerWith(1, ['a', 'b']);
    const [toA] = scheduler.next(0);
    scheduler.addProvider('c');
    expect(scheduler.next(0)).toEqual([]);
    // a's chunk is lost to the others when a fails elsewhere; a's late answer still completes it.
    expect(scheduler.delivered(toA.request)).toBe(true);
    expect(scheduler.complete).toBe(true);

    const lonely = schedulerWith(2, ['a']);
    const [bad, next] = lonely.next(0);
    lonely.corrupt(bad.request);
    expect(lonely.next(0)).toEqual([]);
    lonely.delivered(next.request);
    expect(lonely.blocked(0).reason).toMatch(/no provider left for chunk 0/);
  });

  it('completes every download whatever the providers do, as long as one is good, within every limit (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 4 }), fc.integer(), (chunks, badProviders, seed) => {
        const rng = new Rng(seed);
        const providers = ['good', ...Array.from({ length: badProviders }, (_, index) => `bad${index}`)];
        const scheduler = schedulerWith(chunks, providers);
        const pending: Assignment[] = [];
        const written = new Array<number>(chunks).fill(0);
        let nowMs = 0;
        for (let step = 0; step < 20_000 && !scheduler.complete; step++) {
          pending.push(...scheduler.next(nowMs));
          expect(scheduler.requestsInFlight).toBeLessThanOrEqual(limits.chunksInFlightMax);
          for (const provider of providers) expect(scheduler.requestsOf(provider).length).toBeLessThanOrEqual(limits.chunksInFlightPerProviderMax);
          if (pending.length === 0) {
            const { wakeAtMs, reason } = scheduler.blocked(nowMs);
            expect(reason).toBeUndefined();
            nowMs = Math.max(nowMs + 1, wakeAtMs ?? 0);
            continue;
          }
          // Answers arrive in any order; a bad provider sends bad bytes, errors or is busy, at random.
          const [item] = pending.splice(rng.nextInt(pending.length), 1);
          const roll = rng.nextInt(4);
          if (item.provider === 'good' || roll === 0) {
            if (scheduler.delivered(item.request)) written[item.index]++;
          } else if (roll === 1) scheduler.corrupt(item.request);
          else scheduler.failed(item.request, nowMs, roll === 2 ? 'error' : 'busy');
          nowMs += rng.nextInt(20);
        }
        expect(scheduler.complete).toBe(true);
        expect(written.every((count) => count === 1)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
