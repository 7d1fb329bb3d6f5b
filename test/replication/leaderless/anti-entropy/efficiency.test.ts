/**
 * The efficiency figure issue 6 asks for: after 1% of 100,000 keys diverged, one exchange
 * repairs both replicas while transferring at most 2x the bytes of the differing keys' states
 * plus the tree overhead, defined and bounded below from the two trees themselves.
 */
import { describe, expect, it } from 'vitest';
import { MerkleTree, messageOverheadBytes, shortHashHexDigits, stateDigest } from '../../../../src/replication/leaderless/anti-entropy/index.js';
import { bucketKeysForEntriesMax, entriesPerRequestTarget, exchangeIdCharactersMax, keyHashBits, parentsPerRequestMax } from '../../../../src/replication/leaderless/anti-entropy/settings.js';
import { Rng } from '../../../../src/core/rng.js';
import { TestNode, nodeMap, newTraffic, deliver } from './harness.js';

const keyCount = 100_000;
const stateBytes = 100;
const rangeId = 'range-0123456789abcdef';

/** A list length and a short hash each travel with a two-byte length; an index as four bytes. */
const shortHashBytes = shortHashHexDigits + 2;
const indexBytes = 4;

interface Replica {
  node: TestNode;
  /** A copy of the replica's tree, kept by the test to measure where the two differ. */
  tree: MerkleTree;
}

function randomState(rng: Rng): Uint8Array {
  const words = new Uint32Array(stateBytes / 4);
  for (let i = 0; i < words.length; i++) words[i] = rng.nextUint32();
  return new Uint8Array(words.buffer);
}

function put(replica: Replica, key: string, state: Uint8Array, digest: string): void {
  replica.node.states.get(rangeId)!.set(key, state);
  replica.node.antiEntropy.record(rangeId, key, digest);
  replica.tree.update(key, digest);
}

/**
 * The tree overhead: the messages of one exchange, bounded by walking the two trees. The
 * differing paths run from the root down to the first bucket at or below the leaves in which
 * the initiator holds at most bucketKeysForEntriesMax keys. Per differing node on them, its index
 * and its two children's short hashes; per bucket at their ends, its index twice and the
 * responder's entries (key and short digest); the names of the keys asked for; and each
 * message's framing, times a bound on how many messages the exchange needs.
 */
function treeOverheadBound(initiator: MerkleTree, responder: MerkleTree, wantedKeyBytes: number, wantedKeys: number): number {
  const parentsByLevel = new Array<number>(keyHashBits + 1).fill(0);
  const bucketEntriesByLevel = new Array<number>(keyHashBits + 1).fill(0);
  let bytes = shortHashBytes; // the root
  const walk = (level: number, index: number): void => {
    if (initiator.hashAt(level, index) === responder.hashAt(level, index)) return;
    const ownKeys = level >= initiator.depth ? initiator.bucketKeyCount(level, index) : Infinity;
    if (level === keyHashBits || ownKeys <= bucketKeysForEntriesMax) {
      bytes += 2 * indexBytes;
      for (const [key] of responder.bucketEntries(level, index)) bytes += Buffer.byteLength(key) + 2 + shortHashBytes;
      bucketEntriesByLevel[level] += Math.max(1, ownKeys);
      return;
    }
    bytes += indexBytes + 2 * shortHashBytes;
    parentsByLevel[level]++;
    walk(level + 1, 2 * index);
    walk(level + 1, 2 * index + 1);
  };
  walk(0, 0);
  let messages = 2;
  for (let level = 0; level <= keyHashBits; level++) {
    messages += 2 * Math.ceil(parentsByLevel[level] / parentsPerRequestMax);
    if (bucketEntriesByLevel[level] > 0) messages += 2 * (Math.ceil(bucketEntriesByLevel[level] / (entriesPerRequestTarget - bucketKeysForEntriesMax)) + 1);
  }
  bytes += wantedKeyBytes + 2 * wantedKeys;
  messages += Math.ceil(wantedKeys / 256);
  const framing = messageOverheadBytes + exchangeIdCharactersMax + 2 + rangeId.length + 2 + 3 * indexBytes;
  return bytes + messages * framing;
}

function figure(treeDepth: number): void {
  const rng = new Rng(20261126 + treeDepth);
  const settings = { treeDepth, exchangeIntervalTicks: 1, bytesPerTickMax: 64 * 1024 * 1024 };
  const a: Replica = { node: new TestNode('a', settings, 1), tree: new MerkleTree(treeDepth) };
  // b only answers, so the exchange measured is a's alone.
  const b: Replica = { node: new TestNode('b', { ...settings, exchangeIntervalTicks: 1_000_000_000 }, 2), tree: new MerkleTree(treeDepth) };
  for (const { node } of [a, b]) {
    node.antiEntropy.setRanges(new Map([[rangeId, ['a', 'b']]]));
    node.states.set(rangeId, new Map());
  }
  // Build both replicas directly: 1% of keys diverge, half changed on one side and a quarter missing on each.
  let differingStateBytes = 0;
  let diverged = 0;
  let wantedKeyBytes = 0;
  let wantedKeys = 0;
  for (let i = 0; i < keyCount; i++) {
    const key = `conversation/${i.toString().padStart(8, '0')}`;
    const state = randomState(rng);
    const digest = stateDigest(state);
    const divergence = rng.nextInt(100) === 0 ? rng.nextInt(4) : -1;
    if (divergence === -1) {
      put(a, key, state, digest);
      put(b, key, state, digest);
      continue;
    }
    diverged++;
    const keyBytes = Buffer.byteLength(key);
    if (divergence !== 3) put(a, key, state, digest);
    if (divergence !== 2) {
      const other = divergence === 3 ? state : randomState(rng);
      put(b, key, other, stateDigest(other));
      wantedKeyBytes += keyBytes;
      wantedKeys++;
    }
    differingStateBytes += (divergence <= 1 ? 2 : 1) * (keyBytes + stateBytes);
  }
  const treeOverhead = treeOverheadBound(a.tree, b.tree, wantedKeyBytes, wantedKeys);

  const traffic = newTraffic();
  const nodes = nodeMap(a.node, b.node);
  for (let tick = 0; tick < 10 && a.node.antiEntropy.stats().exchangesCompleted === 0; tick++) {
    a.node.antiEntropy.tick();
    b.node.antiEntropy.tick();
    deliver(nodes, traffic);
  }
  expect(a.node.antiEntropy.stats().exchangesCompleted).toBe(1);
  expect(a.node.contents(rangeId)).toEqual(b.node.contents(rangeId));
  expect(a.node.antiEntropy.rootHash(rangeId)).toBe(b.node.antiEntropy.rootHash(rangeId));

  const transferred = traffic.messageBytes + traffic.pushedStateBytes;
  const bound = 2 * differingStateBytes + treeOverhead;
  console.log(
    `anti-entropy (treeDepth ${treeDepth}): keys ${keyCount}, diverged ${diverged}, bytes transferred ${transferred} ` +
      `(states pushed ${traffic.pushedStateBytes} + messages ${traffic.messageBytes} in ${traffic.messages}), ` +
      `bound ${bound} = 2 x ${differingStateBytes} differing + tree overhead ${treeOverhead}; ${(transferred / differingStateBytes).toFixed(2)}x the differing bytes`,
  );
  // Exactly the differing keys move, once each way they can; the messages stay within the tree overhead.
  expect(traffic.pushedStateBytes).toBe(differingStateBytes);
  expect(traffic.messageBytes).toBeLessThanOrEqual(treeOverhead);
  expect(transferred).toBeLessThanOrEqual(bound);
}

describe('anti-entropy efficiency', () => {
  it('repairs 1% of 100,000 keys within 2x the differing bytes plus the tree overhead, at the default tree depth', () => {
    figure(10);
  }, 60_000);
});
