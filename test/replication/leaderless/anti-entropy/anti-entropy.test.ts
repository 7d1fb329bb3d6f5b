import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AntiEntropy, AntiEntropySettingsError, messageBytes, type AntiEntropyMessage, type AntiEntropySettings } from '../../../../src/replication/leaderless/anti-entropy/index.js';
import { Rng } from '../../../../src/core/rng.js';
import { TestNode, nodeMap, newTraffic, run } from './harness.js';

const both = new Map([['r', ['a', 'b']]]);

function pair(settings: Partial<AntiEntropySettings> = {}, seed = 1): [TestNode, TestNode] {
  const a = new TestNode('a', settings, seed);
  const b = new TestNode('b', settings, seed + 1000);
  a.antiEntropy.setRanges(both);
  b.antiEntropy.setRanges(both);
  return [a, b];
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

type Divergence = 'same' | 'a-only' | 'b-only' | 'different';

describe('AntiEntropy between two replicas', () => {
  it('converges for random divergences, and then finds the range in sync', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.array(fc.constantFrom<Divergence>('same', 'a-only', 'b-only', 'different'), { maxLength: 120 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (treeDepth, kinds, seed) => {
          const [a, b] = pair({ treeDepth, exchangeIntervalTicks: 3 }, seed);
          kinds.forEach((kind, i) => {
            const key = `key/${i}`;
            if (kind !== 'b-only') a.put('r', key, bytes(`value ${i} from a`));
            if (kind === 'same') b.put('r', key, bytes(`value ${i} from a`));
            if (kind === 'b-only' || kind === 'different') b.put('r', key, bytes(`value ${i} from b`));
          });
          const traffic = run(nodeMap(a, b), 12);
          expect(a.contents('r')).toEqual(b.contents('r'));
          expect(a.contents('r').length).toBe(kinds.length);
          expect(a.antiEntropy.rootHash('r')).toBe(b.antiEntropy.rootHash('r'));
          // Only differing keys move: a differing key is pushed by both sides at most once per exchange that saw it.
          const differing = kinds.filter((kind) => kind !== 'same').length;
          if (differing === 0) expect(traffic.keysPushed).toBe(0);
          run(nodeMap(a, b), 12);
          expect(a.antiEntropy.stats().rangesInSync + b.antiEntropy.stats().rangesInSync).toBeGreaterThan(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('fills a replica that is empty, and repairs every key when all differ', () => {
    const [a, b] = pair({ treeDepth: 4, exchangeIntervalTicks: 2 });
    for (let i = 0; i < 300; i++) a.put('r', `k${i}`, bytes(`a${i}`));
    run(nodeMap(a, b), 6);
    expect(b.contents('r')).toEqual(a.contents('r'));

    const [c, d] = pair({ treeDepth: 4, exchangeIntervalTicks: 2 }, 7);
    for (let i = 0; i < 300; i++) {
      c.put('r', `k${i}`, bytes(`c${i}`));
      d.put('r', `k${i}`, bytes(`d${i}`));
    }
    const traffic = run(nodeMap(c, d), 6);
    expect(c.contents('r')).toEqual(d.contents('r'));
    // The test merge keeps the larger bytes, and 'd...' > 'c...', so every key ends with d's state.
    expect(c.contents('r')).toEqual(d.contents('r'));
    expect(c.contents('r').every(([key, state]) => state === Buffer.from(`d${key.slice(1)}`).toString('hex'))).toBe(true);
    // Each of the 300 keys differs, so both sides push it: 600 pushes, and the first exchange does them all.
    expect(traffic.keysPushed).toBeGreaterThanOrEqual(600);
  });

  it('fills a range one replica holds but has no keys in, and is refused for a range the peer does not hold', () => {
    const a = new TestNode('a', { exchangeIntervalTicks: 1, treeDepth: 3 }, 3);
    const b = new TestNode('b', { exchangeIntervalTicks: 1_000_000, treeDepth: 3 }, 4);
    a.antiEntropy.setRanges(new Map([['held-by-both', ['a', 'b']], ['held-by-a', ['a', 'b']]]));
    b.antiEntropy.setRanges(new Map([['held-by-both', ['a', 'b']]]));
    for (let i = 0; i < 20; i++) {
      a.put('held-by-both', `x${i}`, bytes(`x${i}`));
      a.put('held-by-a', `y${i}`, bytes(`y${i}`));
    }
    run(nodeMap(a, b), 30);
    expect(b.contents('held-by-both')).toEqual(a.contents('held-by-both'));
    expect(b.contents('held-by-a')).toEqual([]);
    expect(a.antiEntropy.stats().exchangesAbandoned).toBeGreaterThan(0);
    expect(b.antiEntropy.rootHash('held-by-a')).toBeUndefined();
  });

  it('splits a bucket whose entries do not fit in one answer, so an empty replica still fills', () => {
    const a = new TestNode('a', { treeDepth: 0, exchangeIntervalTicks: 1, bytesPerTickMax: 64 * 1024 * 1024 }, 8);
    const b = new TestNode('b', { treeDepth: 0, exchangeIntervalTicks: 1_000_000_000, bytesPerTickMax: 64 * 1024 * 1024 }, 9);
    a.antiEntropy.setRanges(both);
    b.antiEntropy.setRanges(both);
    // More keys in b's single leaf than entriesPerMessageMax (65,536), none in a's.
    for (let i = 0; i < 70_000; i++) b.put('r', `k${i}`, bytes(`${i}`));
    run(nodeMap(a, b), 1);
    expect(a.antiEntropy.stats()).toMatchObject({ exchangesCompleted: 1, exchangesAbandoned: 0 });
    expect(b.antiEntropy.stats().keysPushed).toBe(70_000);
    expect(a.states.get('r')?.size).toBe(70_000);
    expect(a.antiEntropy.rootHash('r')).toBe(b.antiEntropy.rootHash('r'));
  }, 30_000);

  it('refuses a peer the range does not list, and a peer with another tree depth', () => {
    const outsider = new TestNode('c', { exchangeIntervalTicks: 1 }, 5);
    outsider.antiEntropy.setRanges(new Map([['r', ['c', 'b']]]));
    const [, b] = pair();
    const shallow = new TestNode('a', { exchangeIntervalTicks: 1, treeDepth: 2 }, 6);
    shallow.antiEntropy.setRanges(both);
    const refusals: string[] = [];
    const watch = (_from: string, _to: string, message: AntiEntropyMessage) => {
      if (message.type === 'ae-refused') refusals.push(message.reason);
      return false;
    };
    run(nodeMap(outsider, b), 3, newTraffic(), watch);
    run(nodeMap(shallow, b), 3, newTraffic(), watch);
    expect(refusals).toContain('not-a-peer');
    expect(refusals).toContain('depth-mismatch');
  });

  it('never lets a tick send more than the budget plus one message, and still converges', () => {
    const bytesPerTickMax = 300;
    const [a, b] = pair({ treeDepth: 6, exchangeIntervalTicks: 5, bytesPerTickMax, exchangeTimeoutTicks: 400 });
    for (let i = 0; i < 400; i++) {
      a.put('r', `k${i}`, bytes(`v${i}`));
      b.put('r', `k${i}`, bytes(i % 10 === 0 ? `w${i}` : `v${i}`));
    }
    const traffic = run(nodeMap(a, b), 400);
    expect(a.contents('r')).toEqual(b.contents('r'));
    expect(traffic.perTick.length).toBeGreaterThan(20);
    for (const { bytes: sent, largest } of traffic.perTick) expect(sent).toBeLessThanOrEqual(bytesPerTickMax + largest);
    const busiest = Math.max(...traffic.perTick.map((tick) => tick.bytes));
    expect(busiest).toBeGreaterThan(bytesPerTickMax / 2);
  });

  it('abandons an exchange whose peer stays silent, then starts others', () => {
    const [a, b] = pair({ exchangeIntervalTicks: 10, exchangeTimeoutTicks: 7, exchangesInFlightMax: 1 });
    a.put('r', 'k', bytes('v'));
    run(nodeMap(a, b), 60, newTraffic(), (_from, to) => to === 'a');
    const stats = a.antiEntropy.stats();
    expect(stats.exchangesAbandoned).toBeGreaterThanOrEqual(2);
    expect(stats.exchangesCompleted).toBe(0);
    expect(stats.exchangesStarted - stats.exchangesAbandoned).toBeLessThanOrEqual(1);
  });

  it('chooses no peer that is down, and abandons exchanges with a peer that goes down', () => {
    const [a, b] = pair({ exchangeIntervalTicks: 1 });
    a.antiEntropy.setPeerUp('b', false);
    run(nodeMap(a), 10);
    expect(a.antiEntropy.stats().exchangesStarted).toBe(0);
    a.antiEntropy.setPeerUp('b', true);
    a.antiEntropy.tick();
    a.antiEntropy.tick();
    expect(a.antiEntropy.stats().exchangesStarted).toBeGreaterThan(0);
    a.antiEntropy.setPeerUp('b', false);
    expect(a.antiEntropy.stats().exchangesAbandoned).toBe(a.antiEntropy.stats().exchangesStarted);
    expect(b.antiEntropy.ready().messages).toEqual([]);
  });

  it('drops the trees of ranges no longer held, and abandons their exchanges', () => {
    const [a] = pair({ exchangeIntervalTicks: 1 });
    a.put('r', 'k', bytes('v'));
    a.antiEntropy.tick();
    expect(a.antiEntropy.stats().exchangesStarted).toBe(1);
    a.antiEntropy.setRanges(new Map([['other', ['a', 'b']]]));
    expect(a.antiEntropy.rootHash('r')).toBeUndefined();
    expect(a.antiEntropy.rootHash('other')).toBeDefined();
    expect(a.antiEntropy.stats().exchangesAbandoned).toBe(1);
  });

  it('ignores answers from anyone but the peer asked, and late answers', () => {
    const [a] = pair({ exchangeIntervalTicks: 1 });
    a.antiEntropy.tick();
    const [{ message }] = a.antiEntropy.ready().messages;
    a.antiEntropy.step('mallory', { type: 'ae-refused', exchangeId: message.exchangeId, reason: 'unknown-range' });
    expect(a.antiEntropy.stats().exchangesAbandoned).toBe(0);
    a.antiEntropy.step('b', { type: 'ae-hashes', exchangeId: message.exchangeId, hashes: ['00000000', '00000000'] });
    expect(a.antiEntropy.stats().exchangesAbandoned).toBe(1);
    a.antiEntropy.step('b', { type: 'ae-hashes', exchangeId: message.exchangeId, hashes: ['00000000'] });
    expect(a.antiEntropy.stats().exchangesCompleted).toBe(0);
  });

  it('charges every message it sends to bytesSent', () => {
    const [a, b] = pair({ exchangeIntervalTicks: 2 });
    for (let i = 0; i < 50; i++) a.put('r', `k${i}`, bytes(`v${i}`));
    const traffic = run(nodeMap(a, b), 10);
    expect(a.antiEntropy.stats().bytesSent + b.antiEntropy.stats().bytesSent).toBe(traffic.messageBytes);
  });

  it('refuses bad settings with the rule broken', () => {
    expect(() => new AntiEntropy({ self: 'a', rng: new Rng(1), settings: { treeDepth: 30 } })).toThrow(AntiEntropySettingsError);
    expect(() => new AntiEntropy({ self: 'a', rng: new Rng(1), settings: { bytesPerTickMax: 0 } })).toThrow(/bytesPerTickMax must be an integer in \[1,/);
    expect(() => new AntiEntropy({ self: 'a', rng: new Rng(1), settings: { keysPerPushMax: 10_000 } })).toThrow(/keysPerPushMax/);
    expect(messageBytes({ type: 'ae-refused', exchangeId: 'x', reason: 'not-a-peer' })).toBeGreaterThan(0);
  });
});
