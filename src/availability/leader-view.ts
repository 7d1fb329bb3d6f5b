/**
 * Who the single-leader (Raft) storage's leader is, as far as the observers' leader events
 * tell, and whether it is known at all.
 *
 * Each observer reports its own view (term, leader or none) when it changes; an observer's
 * terms only grow, so a report of an older term than its last one arrived late and is ignored.
 * The leader is the one reported for the highest term any observer has reached (a term has at
 * most one leader). It is unknown when nobody has reported a leader for that term (an election
 * is under way), or when more of the observers in that term, not down themselves, see no leader
 * than see one: followers that stopped hearing their leader (pre-vote keeps the term, so the
 * term alone would not show it). One observer that just restarted and has not heard the leader
 * yet is outvoted by the others and does not make the leader unknown.
 */
import type { LeaderChange } from './report.js';

export class LeaderView {
  private readonly views = new Map<string, { term: number; leader: string | null }>();
  private topTerm = -1;
  private topTermLeader: string | null = null;
  private anyLeaderKnown = false;

  /** Applies one observer's report; returns a leader change when it made a new leader known. */
  apply(observer: string, term: number, leader: string | null, atMs: number): LeaderChange | undefined {
    const previous = this.views.get(observer);
    if (previous !== undefined && term < previous.term) return undefined;
    this.views.set(observer, { term, leader });
    if (term > this.topTerm) {
      this.topTerm = term;
      this.topTermLeader = leader;
      if (leader === null) return undefined;
      this.anyLeaderKnown = true;
      return { atMs, leader, term };
    }
    if (term === this.topTerm && this.topTermLeader === null && leader !== null) {
      this.topTermLeader = leader;
      this.anyLeaderKnown = true;
      return { atMs, leader, term };
    }
    return undefined;
  }

  /** Whether a leader was ever known: before that, the storage has not begun to serve (its first election is under way). */
  get everKnown(): boolean {
    return this.anyLeaderKnown;
  }

  /** Whether any leader event was applied. */
  get seen(): boolean {
    return this.topTerm >= 0;
  }

  /** The leader now, or null when none is known; observers that are down do not count. */
  leader(isDown: (peer: string) => boolean): string | null {
    if (this.topTermLeader === null) return null;
    let seeing = 0;
    let blind = 0;
    for (const [observer, view] of this.views) {
      if (view.term !== this.topTerm || isDown(observer)) continue;
      if (view.leader === null) blind++;
      else seeing++;
    }
    return blind > seeing ? null : this.topTermLeader;
  }
}
