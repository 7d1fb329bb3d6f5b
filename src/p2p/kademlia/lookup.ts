/**
 * One iterative lookup (Maymounkov and Mazieres, section 2.3): a shortlist of candidates
 * ordered by XOR distance to the target. The lookup keeps up to alpha requests in flight
 * to the closest candidates not yet asked, learns closer candidates from the answers, and
 * is done when the k closest candidates that did not fail (or stall) have all answered.
 *
 * This class only keeps the shortlist; the node sends the requests and feeds the answers
 * and failures back. Hops are counted as the length of the chain of answers that led to a
 * candidate: contacts from our own table are one hop away, contacts learned from a
 * candidate d hops away are d + 1 hops away.
 */
import type { Contact } from './contact.js';
import { idWord, idToWords, type NodeId } from './node-id.js';

/**
 * `stalled`: asked, and silent for longer than a healthy peer takes. The paper removes such
 * peers "from consideration until and unless they do respond": a stalled candidate frees its
 * alpha slot and leaves the k closest, so the lookup neither waits for it nor finishes on its
 * account, and an answer that still comes puts it back.
 */
type CandidateState = 'waiting' | 'asked' | 'stalled' | 'answered' | 'failed';

interface Candidate {
  readonly contact: Contact;
  /** XOR distance to the target as five unsigned words, most significant first. */
  readonly d0: number;
  readonly d1: number;
  readonly d2: number;
  readonly d3: number;
  readonly d4: number;
  hops: number;
  state: CandidateState;
}

function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.d0 !== b.d0) return a.d0 < b.d0 ? -1 : 1;
  if (a.d1 !== b.d1) return a.d1 < b.d1 ? -1 : 1;
  if (a.d2 !== b.d2) return a.d2 < b.d2 ? -1 : 1;
  if (a.d3 !== b.d3) return a.d3 < b.d3 ? -1 : 1;
  if (a.d4 !== b.d4) return a.d4 < b.d4 ? -1 : 1;
  return 0;
}

export interface LookupSettings {
  /** How many closest answered peers the lookup wants (k). */
  resultCount: number;
  /** Requests in flight at once (alpha). */
  parallelism: number;
  /** Candidates remembered; the farthest are forgotten beyond it. */
  candidatesMax: number;
}

export class Lookup {
  readonly target: NodeId;
  private readonly targetWords: Uint32Array;
  private readonly selfId: NodeId;
  private readonly settings: LookupSettings;
  /** Candidates, closest first. */
  private readonly candidates: Candidate[] = [];
  private readonly byId = new Map<NodeId, Candidate>();
  private asked = 0;
  /** Requests sent in all, and how many of them failed. */
  requestCount = 0;
  failureCount = 0;

  constructor(target: NodeId, selfId: NodeId, settings: LookupSettings) {
    this.target = target;
    this.targetWords = idToWords(target);
    this.selfId = selfId;
    this.settings = settings;
  }

  /** Adds a candidate `hops` hops away, unless it is us or already known (then only its hop count may shrink). */
  add(contact: Contact, hops: number): void {
    if (contact.nodeId === this.selfId) return;
    const known = this.byId.get(contact.nodeId);
    if (known !== undefined) {
      if (hops < known.hops) known.hops = hops;
      return;
    }
    const id = contact.nodeId;
    const words = this.targetWords;
    const candidate: Candidate = {
      contact,
      d0: (idWord(id, 0) ^ words[0]) >>> 0,
      d1: (idWord(id, 1) ^ words[1]) >>> 0,
      d2: (idWord(id, 2) ^ words[2]) >>> 0,
      d3: (idWord(id, 3) ^ words[3]) >>> 0,
      d4: (idWord(id, 4) ^ words[4]) >>> 0,
      hops,
      state: 'waiting',
    };
    const list = this.candidates;
    if (list.length >= this.settings.candidatesMax && compareCandidates(candidate, list[list.length - 1]) >= 0) return;
    // Binary search for the insertion point; candidates stay sorted by distance.
    let low = 0;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareCandidates(list[middle], candidate) < 0) low = middle + 1;
      else high = middle;
    }
    list.splice(low, 0, candidate);
    this.byId.set(id, candidate);
    if (list.length > this.settings.candidatesMax) this.forget(list.pop()!);
  }

  private forget(candidate: Candidate): void {
    this.byId.delete(candidate.contact.nodeId);
    if (candidate.state === 'asked') this.asked--;
  }

  /**
   * The next candidate to ask, marked as asked, or undefined when alpha requests are out or
   * every candidate among the k closest still in the running has been asked.
   */
  next(): Contact | undefined {
    if (this.asked >= this.settings.parallelism) return undefined;
    let inRunning = 0;
    for (const candidate of this.candidates) {
      if (candidate.state === 'failed' || candidate.state === 'stalled') continue;
      if (inRunning++ >= this.settings.resultCount) return undefined;
      if (candidate.state === 'waiting') {
        candidate.state = 'asked';
        this.asked++;
        this.requestCount++;
        return candidate.contact;
      }
    }
    return undefined;
  }

  /** Hops to a candidate, or undefined if the lookup does not know it. */
  hopsTo(nodeId: NodeId): number | undefined {
    return this.byId.get(nodeId)?.hops;
  }

  /** A candidate answered; the contacts it returned become candidates one hop farther. */
  answered(nodeId: NodeId, contacts: readonly Contact[]): void {
    const candidate = this.byId.get(nodeId);
    if (candidate === undefined || (candidate.state !== 'asked' && candidate.state !== 'stalled')) return;
    if (candidate.state === 'asked') this.asked--;
    candidate.state = 'answered';
    for (const contact of contacts) this.add(contact, candidate.hops + 1);
  }

  failed(nodeId: NodeId): void {
    const candidate = this.byId.get(nodeId);
    if (candidate === undefined || (candidate.state !== 'asked' && candidate.state !== 'stalled')) return;
    if (candidate.state === 'asked') this.asked--;
    candidate.state = 'failed';
    this.failureCount++;
  }

  /** An asked candidate has been silent too long: it stops counting until it answers (see `CandidateState`). */
  stalled(nodeId: NodeId): void {
    const candidate = this.byId.get(nodeId);
    if (candidate === undefined || candidate.state !== 'asked') return;
    candidate.state = 'stalled';
    this.asked--;
  }

  /** Done when none of the k closest candidates still in the running is waiting or asked. */
  isDone(): boolean {
    let inRunning = 0;
    for (const candidate of this.candidates) {
      if (candidate.state === 'failed' || candidate.state === 'stalled') continue;
      if (inRunning++ >= this.settings.resultCount) return true;
      if (candidate.state !== 'answered') return false;
    }
    return true;
  }

  /** The closest candidates that answered, closest first, at most k. */
  closestAnswered(): Contact[] {
    const result: Contact[] = [];
    for (const candidate of this.candidates) {
      if (result.length >= this.settings.resultCount) break;
      if (candidate.state === 'answered') result.push(candidate.contact);
    }
    return result;
  }

  /** Requests that went unanswered: timed out, or stalled and still silent. */
  unansweredCount(): number {
    let stalled = 0;
    for (const candidate of this.candidates) if (candidate.state === 'stalled') stalled++;
    return this.failureCount + stalled;
  }

  /** Hops to the closest candidate that answered: how many answers in a row the lookup needed to reach it (0 if none answered). */
  hops(): number {
    for (const candidate of this.candidates) if (candidate.state === 'answered') return candidate.hops;
    return 0;
  }
}
