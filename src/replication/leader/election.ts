/**
 * Elections (Raft §5.2, §5.4.1) with the dissertation's pre-vote (§9.6) and leader lease under
 * check-quorum (§6.2), and the term rules every message goes through first (§5.1).
 */
import type { Raft } from './core.js';
import { stepFollower } from './follower.js';
import { becomeLeader } from './leader.js';
import type { RaftMessage, VoteRequest } from './messages.js';
import { voteOutcome } from './quorum.js';

export type CampaignKind = 'preElection' | 'election' | 'transfer';

/** The entry point for every message: term checks, votes, then the role's step function. */
export function stepMessage(raft: Raft, message: RaftMessage): void {
  if (message.term > raft.term) {
    if (message.type === 'preVote' || message.type === 'vote') {
      // Dissertation §6.2 / §9.6: while this peer hears from a leader (its lease holds), it
      // ignores requests to elect another one, unless the leader itself asked for the transfer.
      const inLease = raft.settings.checkQuorum && raft.lead !== undefined && raft.electionElapsed < raft.settings.electionTicks;
      if (!message.transfer && inLease) return;
    }
    if (message.type === 'preVote') {
      // A pre-vote never changes our term (dissertation §9.6).
    } else if (message.type === 'preVoteResponse' && !message.reject) {
      // The term in a granted pre-vote is the one we would campaign for; we move there only when a majority grants.
    } else {
      const fromLeader = message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot';
      raft.becomeFollower(message.term, fromLeader ? message.from : undefined, stepFollower);
    }
  } else if (message.term < raft.term) {
    if ((raft.settings.checkQuorum || raft.settings.preVote) && (message.type === 'append' || message.type === 'heartbeat')) {
      // A stale leader (partitioned away, say) learns our newer term from this reply and steps
      // down; without it, with pre-vote, it could keep this peer from ever campaigning.
      raft.send({ type: 'appendResponse', from: raft.id, to: message.from, term: raft.term, index: 0, reject: false, rejectHint: 0 });
    } else if (message.type === 'preVote') {
      raft.send({ type: 'preVoteResponse', from: raft.id, to: message.from, term: raft.term, reject: true });
    }
    return;
  }
  if (message.type === 'preVote' || message.type === 'vote') return handleVoteRequest(raft, message);
  raft.step(raft, message);
}

function handleVoteRequest(raft: Raft, message: VoteRequest): void {
  // Raft §5.2: one vote per term, first come first served; a pre-vote for a later term binds nothing.
  const canVote = raft.vote === message.from
    || (raft.vote === undefined && raft.lead === undefined)
    || (message.type === 'preVote' && message.term > raft.term);
  const responseType = message.type === 'vote' ? 'voteResponse' : 'preVoteResponse';
  // Raft §5.4.1: grant only to a candidate whose log is at least as up to date as ours.
  if (canVote && raft.log.isUpToDate(message.lastLogIndex, message.lastLogTerm)) {
    raft.send({ type: responseType, from: raft.id, to: message.from, term: message.term, reject: false });
    if (message.type === 'vote') {
      raft.electionElapsed = 0;
      raft.vote = message.from;
    }
  } else {
    raft.send({ type: responseType, from: raft.id, to: message.from, term: raft.term, reject: true });
  }
}

/** Starts a pre-election, an election, or (after TimeoutNow) an election that ignores leases. */
export function campaign(raft: Raft, kind: CampaignKind): void {
  if (!raft.promotable()) return;
  const preVote = kind === 'preElection';
  if (preVote) {
    raft.step = stepCandidate;
    raft.role = 'preCandidate';
    raft.lead = undefined;
    raft.votes = new Map();
    // The pre-candidate keeps its term and vote; it only asks whether it could win.
    raft.resetElectionTimer();
  } else {
    raft.becomeFollower(raft.term + 1, undefined, stepCandidate);
    raft.role = 'candidate';
    raft.vote = raft.id;
  }
  raft.votes.set(raft.id, true);
  if (decide(raft)) return;
  const term = preVote ? raft.term + 1 : raft.term;
  for (const voter of raft.membership.voters) {
    if (voter === raft.id) continue;
    raft.send({
      type: preVote ? 'preVote' : 'vote', from: raft.id, to: voter, term,
      lastLogIndex: raft.log.lastIndex(), lastLogTerm: raft.log.lastTerm(), transfer: kind === 'transfer',
    });
  }
}

/** Acts on the votes so far; returns true when the campaign is over. */
function decide(raft: Raft): boolean {
  const outcome = voteOutcome(raft.membership.voters, raft.votes);
  if (outcome === 'won') {
    if (raft.role === 'preCandidate') campaign(raft, 'election');
    else becomeLeader(raft);
    return true;
  }
  if (outcome === 'lost') {
    raft.becomeFollower(raft.term, undefined, stepFollower);
    return true;
  }
  return false;
}

export function stepCandidate(raft: Raft, message: RaftMessage): void {
  switch (message.type) {
    case 'append':
    case 'heartbeat':
    case 'snapshot':
      // Raft §5.2: a leader of our term exists; follow it.
      raft.becomeFollower(message.term, message.from, stepFollower);
      return raft.step(raft, message);
    case 'preVoteResponse':
    case 'voteResponse': {
      const expected = raft.role === 'preCandidate' ? 'preVoteResponse' : 'voteResponse';
      if (message.type !== expected) return;
      raft.votes.set(message.from, !message.reject);
      decide(raft);
      return;
    }
    case 'readIndexResponse':
    case 'readIndex':
      return stepFollower(raft, message);
    default:
      return;
  }
}

