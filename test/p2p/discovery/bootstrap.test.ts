import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { Bootstrap } from '../../../src/p2p/discovery/index.js';
import type { Contact } from '../../../src/p2p/kademlia/index.js';
import { eventually, memoryLogger } from '../../net/helpers.js';
import { FakeDht, FlakyDialer } from './fakes.js';

function contact(port: number): Contact {
  return { nodeId: port.toString(16).padStart(40, 'a'), host: '127.0.0.1', port };
}

const fastLimits = { delayMsInitial: 20, factor: 2, delayMsMax: 80, jitterFraction: 0, attemptsMax: 5 };

describe('bootstrap', () => {
  it('joins through the first contact that answers, and retries the silent ones with growing delays', async () => {
    const dialer = new FlakyDialer({ 4001: 0, 4002: 3 });
    const dht = new FakeDht();
    const logger = memoryLogger();
    const bootstrap = new Bootstrap({ contacts: [contact(4001), contact(4002)], dht, dialer, rng: new Rng(1), logger, limits: fastLimits });
    bootstrap.start();
    await eventually(() => bootstrap.joined);
    expect(dht.joins[0]).toEqual([contact(4001)]);
    await eventually(() => bootstrap.status()[1].state === 'answered', 2_000);
    bootstrap.stop();
    const retries = dialer.dials.filter((dial) => dial.port === 4002);
    expect(retries).toHaveLength(4);
    const gaps = retries.slice(1).map((dial, index) => dial.atMs - retries[index].atMs);
    // 20, 40 and 80 ms without jitter; timers may fire late on a busy machine, never early.
    expect(gaps[0]).toBeGreaterThanOrEqual(19);
    expect(gaps[1]).toBeGreaterThanOrEqual(39);
    expect(gaps[2]).toBeGreaterThanOrEqual(79);
    expect(bootstrap.status()).toEqual([
      { contact: `127.0.0.1:4001#${contact(4001).nodeId}`, state: 'answered', attempts: 1, lastError: null },
      { contact: `127.0.0.1:4002#${contact(4002).nodeId}`, state: 'answered', attempts: 4, lastError: null },
    ]);
    expect(logger.records.filter((record) => record.message === 'bootstrap contact did not answer; will retry')).toHaveLength(3);
  });

  it('gives a contact up after attemptsMax attempts, saying so, and is not joined if none answered', async () => {
    const dialer = new FlakyDialer({ 4003: 100 });
    const logger = memoryLogger();
    const bootstrap = new Bootstrap({ contacts: [contact(4003)], dht: new FakeDht(), dialer, rng: new Rng(2), logger, limits: fastLimits });
    bootstrap.start();
    await eventually(() => bootstrap.status()[0].state === 'given-up', 2_000);
    expect(dialer.dials).toHaveLength(fastLimits.attemptsMax);
    expect(bootstrap.joined).toBe(false);
    expect(logger.records.at(-1)).toMatchObject({ level: 'warn', message: 'gave up on bootstrap contact', fields: { attempts: 5 } });
  });

  it('retries a contact that connects but whose self-lookup gets no answer', async () => {
    let answers = 0;
    const dht = new FakeDht(() => ++answers > 1);
    const bootstrap = new Bootstrap({ contacts: [contact(4004)], dht, dialer: new FlakyDialer({}), rng: new Rng(3), logger: memoryLogger(), limits: fastLimits });
    bootstrap.start();
    await eventually(() => bootstrap.joined, 2_000);
    expect(dht.joins).toHaveLength(2);
    bootstrap.stop();
  });

  it('refuses more contacts than its limit', () => {
    const contacts = Array.from({ length: 65 }, (_, index) => contact(5000 + index));
    expect(() => new Bootstrap({ contacts, dht: new FakeDht(), dialer: new FlakyDialer({}), rng: new Rng(1), logger: memoryLogger() })).toThrow(/at most 64 bootstrap contacts/);
  });
});
