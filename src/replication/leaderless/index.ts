/**
 * Leaderless replication, Dynamo style (DESIGN.md section 5): a consistent-hash ring with
 * virtual nodes places each key on n peers; any peer coordinates, writing to n and answering
 * after w fsynced acknowledgements, reading from n and answering after r; sloppy quorum with
 * hinted handoff, read repair, and Merkle-tree anti-entropy in the background. Versions are
 * dotted version vectors (src/replication/versions): concurrent writes become siblings.
 *
 * A pure core: `LeaderlessNode` takes requests, messages and ticks, and hands back a
 * `LeaderlessReady` of plain data the shell persists, sends and answers, then `advance()`s.
 */
export { LeaderlessNode } from './node.js';
export type { LeaderlessNodeOptions } from './node.js';
export { checkLeaderlessSettings, leaderlessDefaults, leaderlessSettings, LeaderlessSettingsError, pendingRequestsMax, handoffKeysPerIntervalMax, pushStatesPerMessageMax, requestIdCharactersMax, peersMax, ringPointsMax } from './settings.js';
export type { LeaderlessSettings } from './settings.js';
export type { Hint, KvErrorCode, KvReply, KvRequest, LeaderlessReady, LeaderlessStatus } from './types.js';
export { hintId } from './types.js';
export { describeLeaderlessMessage, leaderlessMessageProblem, requestProblem } from './messages.js';
export type { LeaderlessMessage } from './messages.js';
export { HashRing, rangeId, ringPosition } from './ring.js';
export type { Target } from './coordinator.js';
export { antiEntropyDefaults, stateDigest } from './anti-entropy/index.js';
export type { AntiEntropySettings, AntiEntropyStats, AntiEntropyMessage } from './anti-entropy/index.js';
