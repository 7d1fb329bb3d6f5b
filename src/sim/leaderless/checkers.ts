/**
 * What the leaderless store promises (DESIGN.md section 5, issue 6), checked on a run's
 * history and the replicas' final states.
 *
 * 1. No acknowledged write lost. An acknowledged put was fsynced by w >= 1 replicas before its
 *    reply, and nothing in a correct store ever removes a dot except a later write whose
 *    context covered it. So at the end, on every replica of the key's preference list, the
 *    put's dot must be covered by the replica's clock, and must still be a sibling unless
 *    some put on the key (acknowledged or not) carried a context covering it, or the key is
 *    last-writer-wins (where a write supersedes everything its coordinator has seen). A sibling
 *    under the put's dot must hold the put's value (a dot minted twice would show here).
 *    Losing it would need all w fsynced holders to lose synced data: never, in this model.
 * 2. Convergence: after healing, every replica of every key holds an equal state (and no hint
 *    is left undelivered) within the run's bound; the time it took is reported.
 * 3. Read-your-writes: a get by a client, called after that client's own put on the key was
 *    acknowledged, returns a state whose clock covers the put's dot. Guaranteed only with a
 *    strict quorum and r + w > n (the w acknowledging replicas and the r answering ones are
 *    then both among the key's n replicas, so they overlap). With sloppy quorum the write may
 *    sit on stand-ins the read does not ask (Dynamo section 4.6), and with r + w <= n nothing
 *    makes the sets overlap: violations are then counted and reported, not failures.
 */
import { counterOf, registersEqual, type Dot, type RegisterState, type VersionVector } from '../../replication/versions/index.js';
import type { GetRecord, PutRecord } from './client.js';

function covers(clock: VersionVector, dot: Dot): boolean {
  return counterOf(clock, dot.node) >= dot.counter;
}

function dotName(dot: Dot): string {
  return `${dot.node}:${dot.counter}`;
}

/** The final state of `key` on `replica` (undefined: it has none). */
export type FinalState = (replica: string, key: string) => RegisterState | undefined;

export function checkNoAcknowledgedWriteLost(puts: readonly PutRecord[], preferenceList: (key: string) => readonly string[], finalState: FinalState): string[] {
  const failures: string[] = [];
  for (const put of puts) {
    if (put.dot === undefined) continue;
    const dot = put.dot;
    const supersededBy = () => put.lastWriterWins || puts.some((other) => other.key === put.key && covers(other.context, dot));
    for (const replica of preferenceList(put.key)) {
      const state = finalState(replica, put.key);
      if (state === undefined || !covers(state.clock, dot)) {
        failures.push(`acknowledged put ${dotName(dot)} of ${put.key} by ${put.client} (at ${put.ackedAtMs} ms) is missing on replica ${replica}`);
      } else {
        const sibling = state.siblings.find((candidate) => candidate.dot.node === dot.node && candidate.dot.counter === dot.counter);
        if (sibling === undefined && !supersededBy()) failures.push(`acknowledged put ${dotName(dot)} of ${put.key} by ${put.client} vanished from replica ${replica} although no write's context covered it`);
        if (sibling !== undefined && sibling.value !== put.value) failures.push(`replica ${replica} holds ${JSON.stringify(sibling.value)} under the dot ${dotName(dot)} of ${put.key}, which was the acknowledged put of ${JSON.stringify(put.value)}`);
      }
    }
  }
  return failures;
}

/** Keys whose replicas differ, with the first one described; empty when converged. */
export function divergentKeys(keys: readonly string[], preferenceList: (key: string) => readonly string[], finalState: FinalState): string[] {
  const divergent: string[] = [];
  const empty: RegisterState = { clock: {}, siblings: [] };
  for (const key of keys) {
    const replicas = preferenceList(key);
    const first = finalState(replicas[0], key) ?? empty;
    if (replicas.slice(1).some((replica) => !registersEqual(finalState(replica, key) ?? empty, first))) divergent.push(key);
  }
  return divergent;
}

export interface ReadYourWritesResult {
  /** Gets that followed an acknowledged put of the same client and key. */
  checked: number;
  violations: string[];
}

export function checkReadYourWrites(puts: readonly PutRecord[], gets: readonly GetRecord[]): ReadYourWritesResult {
  const result: ReadYourWritesResult = { checked: 0, violations: [] };
  const ownPuts = new Map<string, PutRecord[]>();
  for (const put of puts) {
    if (put.dot === undefined) continue;
    const id = JSON.stringify([put.client, put.key]);
    const list = ownPuts.get(id) ?? [];
    list.push(put);
    ownPuts.set(id, list);
  }
  for (const get of gets) {
    const earlier = (ownPuts.get(JSON.stringify([get.client, get.key])) ?? []).filter((put) => put.ackedAtMs! <= get.calledAtMs);
    if (earlier.length === 0) continue;
    result.checked++;
    const missed = earlier.filter((put) => !covers(get.state.clock, put.dot!));
    if (missed.length > 0) result.violations.push(`${get.client} read ${get.key} at ${get.calledAtMs} ms without its own acknowledged put ${dotName(missed[0].dot!)} (acknowledged at ${missed[0].ackedAtMs} ms)`);
  }
  return result;
}
