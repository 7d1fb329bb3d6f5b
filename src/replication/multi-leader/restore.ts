/**
 * Start-up: the state a peer reads back from its disk, checked for consistency before the
 * core trusts it. The own log must be the consecutive tail of the peer's own changes and end
 * at the own entry of the applied vector (they are written in the same transaction).
 */
import { compareTimestamps, versionVectorProblem, zeroTimestamp, type HlcTimestamp, type VersionVector } from '../versions/index.js';
import { MultiLeaderStateError } from './errors.js';
import { keyStateProblem } from './key-state.js';
import { changeEntryProblem } from './messages.js';
import type { ChangeEntry, KeyState } from './types.js';

export interface RestoredState {
  keys: Iterable<[string, KeyState]>;
  /** Own entries not yet truncated, in seq order. */
  log: Iterable<ChangeEntry>;
  applied: VersionVector;
  /** The largest timestamp issued or seen before the restart; derived from the state when absent. */
  lastTimestamp?: HlcTimestamp;
}

export interface CheckedState {
  keys: Map<string, KeyState>;
  log: ChangeEntry[];
  applied: Record<string, number>;
  ownSeq: number;
  /** The own seq every peer had acknowledged: the entries before the log's first. */
  truncatedThrough: number;
  lastTimestamp: HlcTimestamp;
}

export function checkRestoredState(id: string, restored: RestoredState | undefined): CheckedState {
  if (restored === undefined) return { keys: new Map(), log: [], applied: {}, ownSeq: 0, truncatedThrough: 0, lastTimestamp: zeroTimestamp };
  const vectorProblem = versionVectorProblem(restored.applied);
  if (vectorProblem !== undefined) throw new MultiLeaderStateError(`the applied vector: ${vectorProblem}`);
  const applied: Record<string, number> = { ...restored.applied };
  const ownSeq = applied[id] ?? 0;
  let latest = restored.lastTimestamp ?? zeroTimestamp;
  const later = (timestamp: HlcTimestamp) => {
    if (compareTimestamps(timestamp, latest) > 0) latest = timestamp;
  };
  const keys = new Map<string, KeyState>();
  for (const [key, state] of restored.keys) {
    const problem = keyStateProblem(state);
    if (problem !== undefined) throw new MultiLeaderStateError(`key ${JSON.stringify(key)}: ${problem}`);
    keys.set(key, state);
    if (state.kind === 'register') for (const sibling of state.state.siblings) later(sibling.timestamp);
    else for (const element of state.elements) later(element.timestamp);
  }
  const log = [...restored.log];
  for (let index = 0; index < log.length; index++) {
    const entry = log[index];
    if (entry?.origin !== id) throw new MultiLeaderStateError(`own log entry ${entry?.origin}:${entry?.seq} names another origin than ${id}`);
    const problem = changeEntryProblem(entry);
    if (problem !== undefined) throw new MultiLeaderStateError(`own log: ${problem}`);
    if (index > 0 && entry.seq !== log[index - 1].seq + 1) throw new MultiLeaderStateError(`own log entries ${log[index - 1].seq} and ${entry.seq} are not consecutive`);
  }
  const lastSeq = log.length === 0 ? ownSeq : log[log.length - 1].seq;
  if (lastSeq !== ownSeq) throw new MultiLeaderStateError(`the own log ends at seq ${lastSeq} but the applied vector says ${ownSeq} own changes were made`);
  // Restored timestamps need no further check: the HLC only moves forward from the latest one.
  return { keys, log, applied, ownSeq, truncatedThrough: ownSeq - log.length, lastTimestamp: { ...latest } };
}
