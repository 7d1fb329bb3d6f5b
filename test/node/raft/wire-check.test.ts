import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeEntry, genesisHash, type RaftMessage } from '../../../src/replication/leader/index.js';
import { forwardedWriteProblem, raftMessageProblem, wireEntriesMax } from '../../../src/node/raft/wire-check.js';

const self = 'b'.repeat(40);
const sender = 'a'.repeat(40);
const envelope = { from: sender, to: self, term: 3 };
const entry = makeEntry(genesisHash, 1, 1, 'normal', new Uint8Array([1, 2]));

const valid: RaftMessage[] = [
  { ...envelope, type: 'vote', lastLogIndex: 4, lastLogTerm: 2, transfer: false },
  { ...envelope, type: 'preVoteResponse', reject: true },
  { ...envelope, type: 'append', prevIndex: 0, prevTerm: 0, entries: [entry], commit: 0 },
  { ...envelope, type: 'appendResponse', index: 1, reject: false, rejectHint: 0 },
  { ...envelope, type: 'heartbeat', commit: 1, readContext: 0 },
  { ...envelope, type: 'snapshot', snapshot: { meta: { index: 5, term: 2, hash: entry.hash, membership: { voters: [self, sender], learners: [] } }, data: new Uint8Array(3) } },
  { ...envelope, type: 'timeoutNow' },
  { ...envelope, type: 'readIndexResponse', requestId: 'r1', index: -1 },
];

describe('raftMessageProblem: what the network may hand the Raft core', () => {
  it('passes every well-formed message', () => {
    for (const message of valid) expect(raftMessageProblem(message, self, sender)).toBeUndefined();
  });

  it('refuses a message that claims another sender or another receiver', () => {
    expect(raftMessageProblem(valid[0], self, 'c'.repeat(40))).toMatch(/claims to be from a+ but came from c+/);
    expect(raftMessageProblem(valid[0], 'c'.repeat(40), sender)).toMatch(/addressed to b+, not to this peer/);
  });

  it('names the broken field', () => {
    expect(raftMessageProblem({ ...envelope, type: 'append', prevIndex: -1, prevTerm: 0, entries: [], commit: 0 }, self, sender)).toMatch(/append fields/);
    expect(raftMessageProblem({ ...envelope, type: 'append', prevIndex: 0, prevTerm: 0, entries: [{ ...entry, hash: 'xyz' }], commit: 0 }, self, sender)).toMatch(/entry 0 hash/);
    expect(raftMessageProblem({ ...envelope, type: 'append', prevIndex: 0, prevTerm: 0, entries: Array(wireEntriesMax + 1).fill(entry), commit: 0 }, self, sender)).toMatch(/over 1024/);
    expect(raftMessageProblem({ ...envelope, type: 'nonsense' }, self, sender)).toMatch(/unknown Raft message type/);
    expect(raftMessageProblem({ ...envelope, type: 'vote', term: 1.5, lastLogIndex: 0, lastLogTerm: 0, transfer: false }, self, sender)).toMatch(/term/);
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ type: fc.constantFrom('vote', 'append', 'snapshot', 'readIndex'), from: fc.constant(sender), to: fc.constant(self), term: fc.anything(), entries: fc.anything(), snapshot: fc.anything() })), (value) => {
        const problem = raftMessageProblem(value, self, sender);
        expect(problem === undefined || typeof problem === 'string').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('forwardedWriteProblem: writes another peer forwards to the leader', () => {
  it('passes well-formed writes and names what is wrong with the rest', () => {
    expect(forwardedWriteProblem({ command: { op: 'put', key: 'k', value: 'v' }, acks: 'all' })).toBeUndefined();
    expect(forwardedWriteProblem({ command: { op: 'delete', key: 'k' } })).toBeUndefined();
    expect(forwardedWriteProblem({ command: { op: 'cas', key: 'k', expected: null, value: 'v' } })).toBeUndefined();
    expect(forwardedWriteProblem({ command: { op: 'put', key: 'k', value: 7 } })).toMatch(/put's value must be a string/);
    expect(forwardedWriteProblem({ command: { op: 'cas', key: 'k', expected: 1, value: null } })).toMatch(/strings or null/);
    expect(forwardedWriteProblem({ command: { op: 'put', key: 3, value: 'v' } })).toMatch(/key must be a string/);
    expect(forwardedWriteProblem({ command: { op: 'drop', key: 'k' } })).toMatch(/put, delete or cas/);
    expect(forwardedWriteProblem({ command: { op: 'delete', key: 'k' }, acks: 'most' })).toMatch(/acks must be/);
    expect(forwardedWriteProblem('put k v')).toMatch(/must be a map/);
  });
});
