import { describe, expect, it } from 'vitest';
import { antiEntropyMessageProblem, messageBytes, messageOverheadBytes, type AntiEntropyMessage } from '../../../../src/replication/leaderless/anti-entropy/index.js';

const valid: AntiEntropyMessage[] = [
  { type: 'ae-hashes-request', exchangeId: '1-abc', rangeId: 'range-1', depth: 10, level: 0, parents: [] },
  { type: 'ae-hashes-request', exchangeId: '1-abc', rangeId: 'range-1', depth: 10, level: 3, parents: [0, 3] },
  { type: 'ae-hashes', exchangeId: '1-abc', hashes: ['0123abcd', 'ffffffff'] },
  { type: 'ae-entries-request', exchangeId: '1-abc', rangeId: 'range-1', depth: 10, level: 12, buckets: [4095] },
  { type: 'ae-entries', exchangeId: '1-abc', buckets: [[['k', '0123abcd']], []] },
  { type: 'ae-entries', exchangeId: '1-abc', buckets: [] },
  { type: 'ae-push-request', exchangeId: '1-abc', rangeId: 'range-1', keys: ['k'] },
  { type: 'ae-refused', exchangeId: '1-abc', reason: 'unknown-range' },
];

describe('antiEntropyMessageProblem', () => {
  it('accepts well-formed messages', () => {
    for (const message of valid) expect(antiEntropyMessageProblem(message)).toBeUndefined();
  });

  const invalid: Array<[string, unknown, RegExp]> = [
    ['not an object', 'ae-hashes', /must be an object/],
    ['unknown type', { type: 'ae-gossip', exchangeId: 'x' }, /unknown anti-entropy message type "ae-gossip"/],
    ['missing exchange id', { type: 'ae-hashes', hashes: ['0123abcd'] }, /exchangeId must be a non-empty string/],
    ['over-long exchange id', { type: 'ae-hashes', exchangeId: 'x'.repeat(65), hashes: ['0123abcd'] }, /exchangeId is longer than 64/],
    ['parent beyond the level', { type: 'ae-hashes-request', exchangeId: 'x', rangeId: 'r', depth: 10, level: 3, parents: [4] }, /parents holds 4, not an integer in \[0, 4\)/],
    ['level beyond the key hash', { type: 'ae-hashes-request', exchangeId: 'x', rangeId: 'r', depth: 2, level: 33, parents: [0] }, /level must be an integer in \[0, 32\]/],
    ['entries above the leaves', { type: 'ae-entries-request', exchangeId: 'x', rangeId: 'r', depth: 4, level: 3, buckets: [0] }, /level must be an integer in \[depth 4, 32\]/],
    ['root request with parents', { type: 'ae-hashes-request', exchangeId: 'x', rangeId: 'r', depth: 2, level: 0, parents: [0] }, /level-0 request .* no parents/],
    ['too deep', { type: 'ae-hashes-request', exchangeId: 'x', rangeId: 'r', depth: 40, level: 0, parents: [] }, /depth must be an integer in \[0, 20\]/],
    ['too many parents', { type: 'ae-hashes-request', exchangeId: 'x', rangeId: 'r', depth: 20, level: 20, parents: Array.from({ length: 1025 }, (_, i) => i) }, /at most 1024 indexes/],
    ['a full-length hash', { type: 'ae-hashes', exchangeId: 'x', hashes: ['0'.repeat(64)] }, /each hash must be 8 lowercase hex digits/],
    ['no hashes', { type: 'ae-hashes', exchangeId: 'x', hashes: [] }, /hashes must be an array of 1 to 2048/],
    ['bucket out of range', { type: 'ae-entries-request', exchangeId: 'x', rangeId: 'r', depth: 4, level: 5, buckets: [32] }, /buckets holds 32, not an integer in \[0, 32\)/],
    ['entry that is not a pair', { type: 'ae-entries', exchangeId: 'x', buckets: [[['k']]] }, /\[key, digest\] pair/],
    ['empty key', { type: 'ae-entries', exchangeId: 'x', buckets: [[['', '0123abcd']]] }, /key must be a non-empty string/],
    ['over-long key', { type: 'ae-push-request', exchangeId: 'x', rangeId: 'r', keys: ['k'.repeat(1025)] }, /keyBytesMax \(1024 bytes\)/],
    ['empty push request', { type: 'ae-push-request', exchangeId: 'x', rangeId: 'r', keys: [] }, /keys must be an array of 1 to 4096/],
    ['missing range', { type: 'ae-push-request', exchangeId: 'x', keys: ['k'] }, /rangeId must be a non-empty string/],
    ['unknown refusal', { type: 'ae-refused', exchangeId: 'x', reason: 'tired' }, /reason must be one of unknown-range, not-a-peer, depth-mismatch/],
  ];
  for (const [name, message, reason] of invalid) {
    it(`refuses ${name} with the reason`, () => {
      expect(antiEntropyMessageProblem(message)).toMatch(reason);
    });
  }
});

describe('messageBytes', () => {
  it('charges the overhead plus the lengths of ids, hashes, keys and indexes', () => {
    expect(messageBytes({ type: 'ae-hashes', exchangeId: 'abcd', hashes: ['0123abcd', '0123abcd'] })).toBe(messageOverheadBytes + 6 + 2 * 10);
    expect(messageBytes({ type: 'ae-push-request', exchangeId: 'abcd', rangeId: 'r', keys: ['ключ'] })).toBe(messageOverheadBytes + 6 + 3 + 10);
    expect(messageBytes({ type: 'ae-entries', exchangeId: 'abcd', buckets: [[['key', '0123abcd']]] })).toBe(messageOverheadBytes + 6 + 4 + 5 + 10);
  });
});
