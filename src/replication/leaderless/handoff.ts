/**
 * Hinted handoff (Dynamo section 4.6) and the handing over of keys a peer no longer owns.
 *
 * A stand-in keeps a write for a down owner as a hint, one per (owner, key), persisted like a
 * state; later writes for the same owner and key merge into it. Every `handoffIntervalTicks`
 * the stand-in sends each hint whose owner is up; the owner merges it, persists, and answers
 * with the digest of what it received; the stand-in deletes the hint only if the hint has not
 * changed since (a write that arrived meanwhile is handed over next time).
 *
 * A key the peer holds but no longer owns (after the ring changed) is handed the same way to
 * each owner that needs it. These moves are not persisted: they are derived from the stored
 * states and the ring, so a restarted peer recomputes them (and hands such keys to all their
 * owners once more: merging is idempotent, so that costs bytes, never correctness).
 */
import { encodeRegister, mergeRegisters, type RegisterState } from '../versions/index.js';
import { stateDigest } from './anti-entropy/index.js';
import type { LeaderlessMessage } from './messages.js';
import { handoffKeysPerIntervalMax } from './settings.js';
import { hintId, type Hint } from './types.js';

export function digestOf(state: RegisterState): string {
  return stateDigest(encodeRegister(state));
}

export class HandoffStore {
  private readonly hints = new Map<string, Hint>();
  /** Hint owners by key, so a stand-in answers a read for a key without scanning every hint. */
  private readonly ownersByKey = new Map<string, Set<string>>();
  /** Keys this peer holds but does not own, and the owners that still need them. */
  private readonly moves = new Map<string, Set<string>>();
  private ticksSinceHandoff = 0;

  constructor(private readonly hintsMax: number, private readonly intervalTicks: number) {}

  get hintCount(): number {
    return this.hints.size;
  }

  hintsByOwner(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const hint of this.hints.values()) counts[hint.owner] = (counts[hint.owner] ?? 0) + 1;
    return counts;
  }

  allHints(): IterableIterator<Hint> {
    return this.hints.values();
  }

  /** Keeps `state` for `owner`; the hint to persist, or undefined when nothing changed, or 'full' when hintsMax is reached. */
  storeHint(owner: string, key: string, state: RegisterState): Hint | 'full' | undefined {
    const id = hintId(owner, key);
    const known = this.hints.get(id);
    if (known === undefined && this.hints.size >= this.hintsMax) return 'full';
    const merged = mergeRegisters(known?.state ?? { clock: {}, siblings: [] }, state);
    if (known !== undefined && JSON.stringify(known.state) === JSON.stringify(merged)) return undefined;
    const hint: Hint = { id, owner, key, state: merged };
    this.restoreHint(hint);
    return hint;
  }

  /** A hint read back from disk after a restart: kept even beyond hintsMax (if it was lowered), since dropping it could lose a write. */
  restoreHint(hint: Hint): void {
    this.hints.set(hint.id, hint);
    let owners = this.ownersByKey.get(hint.key);
    if (owners === undefined) this.ownersByKey.set(hint.key, (owners = new Set()));
    owners.add(hint.owner);
  }

  /** Every hint this peer keeps for `key`, merged (for reads sent to a stand-in). */
  hintState(key: string): RegisterState | null {
    const owners = this.ownersByKey.get(key);
    if (owners === undefined) return null;
    let merged: RegisterState = { clock: {}, siblings: [] };
    for (const owner of owners) merged = mergeRegisters(merged, this.hints.get(hintId(owner, key))!.state);
    return merged;
  }

  deleteHint(id: string): Hint | undefined {
    const hint = this.hints.get(id);
    if (hint === undefined) return undefined;
    this.hints.delete(id);
    const owners = this.ownersByKey.get(hint.key)!;
    owners.delete(hint.owner);
    if (owners.size === 0) this.ownersByKey.delete(hint.key);
    return hint;
  }

  /** The owner answered a hint's handoff with the digest of what it received: true when the hint was deleted. */
  hintAcknowledged(id: string, digest: string): boolean {
    const hint = this.hints.get(id);
    if (hint === undefined || digestOf(hint.state) !== digest) return false;
    this.deleteHint(id);
    return true;
  }

  addMove(key: string, owners: Iterable<string>): void {
    let waiting = this.moves.get(key);
    for (const owner of owners) {
      if (waiting === undefined) this.moves.set(key, (waiting = new Set()));
      waiting.add(owner);
    }
  }

  dropMove(key: string): void {
    this.moves.delete(key);
  }

  moveAcknowledged(key: string, owner: string, digest: string, current: RegisterState | undefined): void {
    const waiting = this.moves.get(key);
    if (waiting === undefined || current === undefined || digestOf(current) !== digest) return;
    waiting.delete(owner);
    if (waiting.size === 0) this.moves.delete(key);
  }

  get moveCount(): number {
    return this.moves.size;
  }

  /**
   * Counts a tick; every `intervalTicks` returns the handoff messages for owners that are up,
   * at most `handoffKeysPerIntervalMax` per owner so a returning peer is not flooded.
   */
  tick(isUp: (peer: string) => boolean, stateOf: (key: string) => RegisterState | undefined): Array<{ to: string; message: LeaderlessMessage }> {
    if (++this.ticksSinceHandoff < this.intervalTicks) return [];
    this.ticksSinceHandoff = 0;
    const messages: Array<{ to: string; message: LeaderlessMessage }> = [];
    const sent = new Map<string, number>();
    const room = (owner: string) => isUp(owner) && (sent.get(owner) ?? 0) < handoffKeysPerIntervalMax;
    const count = (owner: string) => sent.set(owner, (sent.get(owner) ?? 0) + 1);
    for (const hint of this.hints.values()) {
      if (!room(hint.owner)) continue;
      count(hint.owner);
      messages.push({ to: hint.owner, message: { type: 'handoff', key: hint.key, state: hint.state, hintId: hint.id } });
    }
    for (const [key, owners] of this.moves) {
      const state = stateOf(key);
      if (state === undefined) continue;
      for (const owner of owners) {
        if (!room(owner)) continue;
        count(owner);
        messages.push({ to: owner, message: { type: 'handoff', key, state, hintId: null } });
      }
    }
    return messages;
  }
}
