import { describe, expect, it } from 'vitest';
import { missingMessages, missingPuts, parseStoredConversation, type AcknowledgedTurn } from '../../src/chaos/index.js';

const turns: AcknowledgedTurn[] = [
  { user: 'Turn 1: In the beginning', assistant: ' God created' },
  { user: 'Turn 2: And God said', assistant: ' Let there be' },
  { user: 'Turn 3: The LORD is', assistant: ' my shepherd' },
];
const stored = turns.flatMap((turn) => [{ role: 'user', content: turn.user }, { role: 'assistant', content: turn.assistant }]);

describe('missingMessages', () => {
  it('finds nothing missing when every acknowledged message is stored in order, extra messages and all', () => {
    expect(missingMessages('c', turns, stored)).toEqual([]);
    // A turn whose answer never reached the client may still be stored: that is not a loss.
    const withExtra = [...stored.slice(0, 2), { role: 'user', content: 'Turn 2 (failed): Blessed' }, { role: 'assistant', content: ' are' }, ...stored.slice(2)];
    expect(missingMessages('c', turns, withExtra)).toEqual([]);
  });

  it('catches one missing message', () => {
    const lost = stored.filter((message) => message.content !== ' Let there be');
    expect(missingMessages('c', turns, lost)).toEqual([{ conversationId: 'c', turn: 1, role: 'assistant', content: ' Let there be', problem: 'lost' }]);
  });

  it('catches a whole conversation lost, and messages stored out of order', () => {
    expect(missingMessages('c', turns, [])).toHaveLength(6);
    const swapped = [...stored.slice(2, 4), ...stored.slice(0, 2), ...stored.slice(4)];
    const problems = missingMessages('c', turns, swapped);
    expect(problems).toEqual([
      { conversationId: 'c', turn: 1, role: 'user', content: 'Turn 2: And God said', problem: 'out-of-order' },
      { conversationId: 'c', turn: 1, role: 'assistant', content: ' Let there be', problem: 'out-of-order' },
    ]);
  });

  it('does not take a message of the other role for the acknowledged one', () => {
    const echoed = [{ role: 'assistant', content: turns[0].user }, ...stored.slice(1, 2)];
    expect(missingMessages('c', turns.slice(0, 1), echoed)).toEqual([{ conversationId: 'c', turn: 0, role: 'user', content: turns[0].user, problem: 'lost' }]);
  });
});

describe('missingPuts', () => {
  it('reports an acknowledged put that is absent or holds another value', () => {
    const acknowledged = new Map([['k1', 'v1'], ['k2', 'v2'], ['k3', 'v3']]);
    const read = new Map<string, string | null>([['k1', 'v1'], ['k2', null], ['k3', 'other']]);
    expect(missingPuts(acknowledged, read)).toEqual([{ key: 'k2', expected: 'v2', found: null }, { key: 'k3', expected: 'v3', found: 'other' }]);
    expect(missingPuts(acknowledged, new Map([['k1', 'v1'], ['k2', 'v2'], ['k3', 'v3']]))).toEqual([]);
  });
});

describe('parseStoredConversation', () => {
  it('reads the JSON a gateway stores and refuses anything else', () => {
    expect(parseStoredConversation(JSON.stringify([{ id: 'a', role: 'user', content: 'hi', atMs: 1 }]))).toEqual([{ role: 'user', content: 'hi' }]);
    expect(() => parseStoredConversation('{"role":"user"}')).toThrow(/not a list/);
    expect(() => parseStoredConversation('[{"role":"user"}]')).toThrow(/without role or content/);
  });
});
