/**
 * Property tests of what makes multi-leader replication converge: a write's delta, merged
 * into the origin's state before the write, gives exactly its state after (so every peer that
 * merges every delta holds the same thing), and a cluster that loses, duplicates and reorders
 * messages at random still ends with equal states on every peer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { registerDelta } from '../../../src/replication/multi-leader/index.js';
import { applyWrite, emptyRegister, mergeRegisters, registersEqual, type RegisterState, type VersionVector } from '../../../src/replication/versions/index.js';
import { Cluster } from './harness.js';

const nodes = ['a', 'b', 'c'];

/** A write at a node: its context is the clock of one of the states seen so far (or nothing). */
const writeArbitrary = fc.record({
  node: fc.constantFrom(...nodes),
  contextFrom: fc.option(fc.nat(), { nil: undefined }),
  lastWriterWins: fc.boolean(),
  deleted: fc.boolean(),
  mergeFrom: fc.option(fc.constantFrom(...nodes), { nil: undefined }),
});

describe('registerDelta', () => {
  it('merged into the state before a write, gives the state after it', () => {
    fc.assert(
      fc.property(fc.array(writeArbitrary, { maxLength: 30 }), (writes) => {
        const states = new Map<string, RegisterState>(nodes.map((node) => [node, emptyRegister]));
        const seen: VersionVector[] = [];
        let counter = 0;
        for (const write of writes) {
          // Sometimes a node first merges another's whole state, as replication would.
          if (write.mergeFrom !== undefined) states.set(write.node, mergeRegisters(states.get(write.node)!, states.get(write.mergeFrom)!));
          const before = states.get(write.node)!;
          const context = write.contextFrom === undefined || seen.length === 0 ? {} : seen[write.contextFrom % seen.length];
          let result;
          try {
            result = applyWrite(before, { node: write.node, context, value: write.deleted ? null : `v${counter++}`, timestamp: { wallMs: counter, logical: 0, node: write.node }, lastWriterWins: write.lastWriterWins, key: 'k' });
          } catch {
            continue; // too many siblings: refused, nothing changed
          }
          const delta = registerDelta(before, result.state, result.dot, context, write.lastWriterWins);
          expect(registersEqual(mergeRegisters(before, delta), result.state)).toBe(true);
          states.set(write.node, result.state);
          seen.push(result.state.clock);
        }
      }),
      { numRuns: 300 },
    );
  });
});

const operationArbitrary = fc.record({
  node: fc.constantFrom(...nodes),
  kind: fc.constantFrom('put', 'putWithContext', 'putLastWriterWins', 'append', 'deliver', 'tick'),
  key: fc.constantFrom('r0', 'r1', 'r2'),
  pick: fc.nat(),
});

describe('a cluster with a lossy, duplicating, reordering network', () => {
  it('converges: after healing, every peer holds the same keys', () => {
    fc.assert(
      fc.property(fc.array(operationArbitrary, { maxLength: 60 }), fc.integer({ min: 1, max: 1_000_000 }), (operations, seed) => {
        const rng = new Rng(seed);
        const cluster = new Cluster(nodes, { retransmitTicks: 3, shipBatchMax: 3 });
        let request = 0;
        for (const operation of operations) {
          const id = operation.node;
          const requestId = `q${request++}`;
          // Registers live under r*, sets under s*: one kind per key.
          if (operation.kind === 'append') cluster.write(id, { kind: 'append', requestId, key: `s${operation.key}`, value: requestId });
          else if (operation.kind === 'tick') cluster.tick([id]);
          else if (operation.kind === 'deliver') {
            const queue = cluster.queue;
            cluster.queue = [];
            rng.shuffle(queue);
            for (const item of queue) {
              const fate = rng.nextInt(10);
              if (fate === 0) continue; // lost
              cluster.deliver(item);
              if (fate === 1) cluster.deliver(item); // duplicated
            }
          } else {
            const current = cluster.node(id).read(operation.key);
            const context = operation.kind === 'putWithContext' && current?.kind === 'register' ? current.state.clock : undefined;
            cluster.write(id, { kind: 'put', requestId, key: operation.key, value: operation.pick % 5 === 0 ? null : requestId, ...(context && { context }), lastWriterWins: operation.kind === 'putLastWriterWins' });
          }
        }
        cluster.settle(40);
        const keys = ['r0', 'r1', 'r2', 'sr0', 'sr1', 'sr2'];
        const reference = cluster.keysOf('a', keys);
        for (const id of nodes) {
          expect(cluster.keysOf(id, keys)).toBe(reference);
          expect(cluster.node(id).status().logEntries).toBe(0);
        }
        // Every acknowledged append is an element everywhere.
        for (const reply of cluster.replies.values()) {
          if (!reply.ok || reply.element === undefined) continue;
          expect(reference).toContain(`"id":"${reply.element.id}"`);
        }
      }),
      { numRuns: 150 },
    );
  });
});
