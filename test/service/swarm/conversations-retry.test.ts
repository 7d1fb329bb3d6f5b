import { describe, expect, it } from 'vitest';
import type { KvBackend } from '../../../src/api/kv-routes.js';
import { RaftConversations, newMessage, untilStored } from '../../../src/service/swarm/conversations.js';

function unavailable(message: string): Error {
  return Object.assign(new Error(message), { code: 'KV_UNAVAILABLE' });
}

describe('a turn waiting out an unavailable store', () => {
  it('retries while the store is briefly unavailable, and gives up as busy at the deadline', async () => {
    let failures = 2;
    expect(await untilStored(async () => {
      if (failures-- > 0) throw unavailable('no leader');
      return 'read';
    }, 'read')).toBe('read');
    const started = Date.now();
    await expect(untilStored(async () => {
      throw unavailable('no leader');
    }, 'read k', 300)).rejects.toMatchObject({ code: 'server_busy', message: expect.stringContaining('no leader') });
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(untilStored(async () => {
      throw Object.assign(new Error('bad key'), { code: 'KV_COMMAND_INVALID' });
    }, 'read')).rejects.toThrow('bad key');
  });

  it('appends once even when a compare-and-set that landed reported its outcome unknown', async () => {
    let value: string | null = null;
    let index = 0;
    let loseNextAnswer = true;
    const store: KvBackend = {
      status: () => { throw new Error('unused'); },
      read: async () => ({ value, index }),
      write: async (command) => {
        if (command.op !== 'cas') throw new Error('only compare-and-set here');
        const succeeded = command.expected === value;
        if (succeeded) value = command.value;
        index++;
        if (loseNextAnswer) {
          loseNextAnswer = false;
          throw Object.assign(new Error('the leader stepped down'), { code: 'KV_OUTCOME_UNKNOWN' });
        }
        return { index, result: { op: 'cas', succeeded } } as never;
      },
    };
    const conversations = new RaftConversations(store);
    const message = newMessage('user', 'hello', 1);
    await conversations.append('talk', [message]);
    expect(await conversations.load('talk', undefined)).toEqual([message]);
  });
});
