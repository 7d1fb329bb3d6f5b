/**
 * Multi-leader replication (DESIGN.md section 5): every storage peer accepts writes,
 * acknowledges them after its own fsync and ships its change log to the others in the
 * background. Registers keep concurrent writes as siblings (last-writer-wins by hybrid logical
 * clock only when the writer asks); append-only sets (conversations) merge by union, so no
 * element is lost to a conflict. A pure core: `MultiLeaderNode` takes writes, messages and
 * ticks and hands back a Ready of plain data that the shell persists, sends and answers.
 */
export { MultiLeaderNode } from './node.js';
export type { MultiLeaderNodeOptions } from './node.js';
export type { RestoredState } from './restore.js';
export { changesPerMessageMax, multiLeaderDefaults, multiLeaderSettings, shipValueCharactersMax } from './settings.js';
export type { MultiLeaderSettings } from './settings.js';
export { changeEntryProblem, multiLeaderMessageProblem } from './messages.js';
export { compareElements, keyStateProblem, mergeChange, registerDelta } from './key-state.js';
export { MultiLeaderError, MultiLeaderSettingsError, MultiLeaderStateError } from './errors.js';
export type {
  Change, ChangeEntry, KeyState, MultiLeaderMessage, MultiLeaderPeerStatus, MultiLeaderReady, MultiLeaderReply, MultiLeaderReplyCode, MultiLeaderStatus, MultiLeaderWrite, SetElement,
} from './types.js';
