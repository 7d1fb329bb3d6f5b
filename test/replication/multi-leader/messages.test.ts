import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { valueBytesMax } from '../../../src/replication/leader/index.js';
import { MultiLeaderNode, multiLeaderMessageProblem, type ChangeEntry, type MultiLeaderMessage } from '../../../src/replication/multi-leader/index.js';

/** Real messages, from a real node. */
function shippedEntries(): ChangeEntry[] {
  const node = new MultiLeaderNode({ id: 'a', peers: ['a', 'b'], rng: new Rng(3) });
  node.write({ kind: 'put', requestId: 'r1', key: 'k', value: 'v', lastWriterWins: true }, 10);
  node.write({ kind: 'append', requestId: 'r2', key: 'chat', value: 'hello' }, 11);
  node.write({ kind: 'put', requestId: 'r3', key: 'k', value: null }, 12);
  node.tick();
  const message = node.ready().messages[0].message;
  if (message.type !== 'changes') throw new Error('expected a changes message');
  return JSON.parse(JSON.stringify(message.entries)) as ChangeEntry[];
}

describe('multiLeaderMessageProblem', () => {
  it('accepts what nodes send', () => {
    expect(multiLeaderMessageProblem({ type: 'changes', entries: shippedEntries() })).toBeUndefined();
    expect(multiLeaderMessageProblem({ type: 'ack', appliedSeq: 0 })).toBeUndefined();
  });

  it('names what is wrong with a malformed message', () => {
    const entries = shippedEntries();
    const cases: Array<[unknown, RegExp]> = [
      [null, /object/],
      [{ type: 'gossip' }, /changes or ack/],
      [{ type: 'ack', appliedSeq: -1 }, /appliedSeq/],
      [{ type: 'changes', entries: [] }, /1 to/],
      [{ type: 'changes', entries: [entries[0], entries[2]] }, /consecutive/],
      [{ type: 'changes', entries: [{ ...entries[0], origin: '' }] }, /origin/],
      [{ type: 'changes', entries: [{ ...entries[0], seq: 0 }] }, /seq/],
      [{ type: 'changes', entries: [{ ...entries[0], key: '' }] }, /key/],
      [{ type: 'changes', entries: [{ ...entries[0], change: { kind: 'delete' } }] }, /put or append/],
      [{ type: 'changes', entries: [{ ...entries[1], change: { kind: 'append', element: { ...(entries[1].change as { element: object }).element, id: 'a:9' } } }] }, /id must be a:2/],
      [{ type: 'changes', entries: [{ ...entries[1], change: { kind: 'append', element: { ...(entries[1].change as { element: object }).element, value: 'x'.repeat(valueBytesMax + 1) } } }] }, /bytes/],
      [{ type: 'changes', entries: [{ ...entries[0], change: { kind: 'put', delta: { clock: {}, siblings: [] } } }] }, /1 to 64 siblings/],
      [{ type: 'changes', entries: [{ ...entries[0], change: { kind: 'put', delta: { clock: { a: 'x' }, siblings: [] } } }] }, /counter/],
    ];
    for (const [message, reason] of cases) expect(multiLeaderMessageProblem(message as MultiLeaderMessage)).toMatch(reason);
  });

  it('ignores entries a peer ships for another origin', () => {
    const node = new MultiLeaderNode({ id: 'b', peers: ['a', 'b', 'c'], rng: new Rng(3) });
    node.step('c', { type: 'changes', entries: shippedEntries() }, 20);
    node.ready();
    node.advance();
    expect(node.read('k')).toBeUndefined();
    node.step('a', { type: 'changes', entries: shippedEntries() }, 20);
    node.ready();
    node.advance();
    expect(node.read('chat')).toMatchObject({ kind: 'set', elements: [{ value: 'hello' }] });
    node.step('stranger', { type: 'ack', appliedSeq: 5 }, 20);
    expect(node.status().peers.map((peer) => peer.id)).toEqual(['a', 'c']);
  });
});
