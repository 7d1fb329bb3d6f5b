/**
 * Membership changes, one server at a time (Raft dissertation §4.1): a change adds or removes
 * a single voter, so any majority of the old configuration overlaps any majority of the new
 * one and no joint consensus is needed. A change is an ordinary log entry of type
 * `configuration`; this core lets it take effect when it commits (as etcd-io/raft does), and
 * a leader refuses a second change while one is uncommitted.
 */
import { assert } from '../../core/assert.js';
import { MembershipChangeRefusedError } from './errors.js';
import type { Membership, MembershipChange, PeerId } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A membership entry carries the change and the whole membership after it, so a peer that joins late needs nothing else to know who is in the cluster. */
export interface MembershipEntry {
  readonly change: MembershipChange | undefined;
  readonly membership: Membership;
}

export function encodeMembershipEntry(entry: MembershipEntry): Uint8Array {
  const change = entry.change === undefined ? null : { kind: entry.change.kind, peer: entry.change.peer };
  return encoder.encode(JSON.stringify({ change, voters: entry.membership.voters, learners: entry.membership.learners }));
}

export function decodeMembershipEntry(data: Uint8Array): MembershipEntry {
  const text = decoder.decode(data);
  const value = JSON.parse(text) as { change?: { kind?: unknown; peer?: unknown } | null; voters?: unknown; learners?: unknown };
  const isPeerList = (list: unknown): list is string[] => Array.isArray(list) && list.every((peer) => typeof peer === 'string');
  assert(isPeerList(value.voters) && isPeerList(value.learners), `malformed membership entry: ${text}`);
  let change: MembershipChange | undefined;
  if (value.change !== null && value.change !== undefined) {
    const { kind, peer } = value.change;
    assert(typeof peer === 'string' && (kind === 'addVoter' || kind === 'addLearner' || kind === 'removePeer'), `malformed membership change: ${text}`);
    change = { kind, peer };
  }
  return { change, membership: { voters: value.voters, learners: value.learners } };
}

/** Throws MembershipChangeRefusedError when `change` makes no sense against `membership`. */
export function checkMembershipChange(membership: Membership, change: MembershipChange): void {
  const isVoter = membership.voters.includes(change.peer);
  const isLearner = membership.learners.includes(change.peer);
  if (change.kind === 'addVoter' && isVoter) throw new MembershipChangeRefusedError(`${change.peer} is already a voter`);
  if (change.kind === 'addLearner' && (isVoter || isLearner)) throw new MembershipChangeRefusedError(`${change.peer} is already ${isVoter ? 'a voter (demotion is not supported: remove it, then add it as a learner)' : 'a learner'}`);
  if (change.kind === 'removePeer' && !isVoter && !isLearner) throw new MembershipChangeRefusedError(`${change.peer} is not a member`);
  if (change.kind === 'removePeer' && isVoter && membership.voters.length === 1) throw new MembershipChangeRefusedError('the last voter cannot be removed');
}

/** The membership after `change`; an invalid change at this point (possible only for a log replayed after a bug) leaves it unchanged. */
export function applyMembershipChange(membership: Membership, change: MembershipChange): Membership {
  const voters = membership.voters.filter((peer) => peer !== change.peer);
  const learners = membership.learners.filter((peer) => peer !== change.peer);
  if (change.kind === 'addVoter') voters.push(change.peer);
  if (change.kind === 'addLearner') learners.push(change.peer);
  voters.sort();
  learners.sort();
  return { voters, learners };
}

export function isMember(membership: Membership, peer: PeerId): boolean {
  return membership.voters.includes(peer) || membership.learners.includes(peer);
}

export function describeMembership(membership: Membership): string {
  return `voters=(${membership.voters.join(' ')})${membership.learners.length > 0 ? ` learners=(${membership.learners.join(' ')})` : ''}`;
}
