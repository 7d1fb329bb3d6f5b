/** Snapshots shaped like the real parts' status objects, with values the tests check for. */
import type { DhtSnapshot } from '../../../src/api/metrics/index.js';
import type { RaftStatus } from '../../../src/replication/leader/index.js';
import type { LeaderlessSettings, LeaderlessStatus } from '../../../src/replication/leaderless/index.js';
import type { MultiLeaderStatus } from '../../../src/replication/multi-leader/index.js';
import type { AdmissionStats, BreakerStatus } from '../../../src/resilience/index.js';
import type { ComputeCounters } from '../../../src/service/compute/compute-engine.js';

export function raftLeader(): RaftStatus {
  return {
    id: 'a', role: 'leader', term: 7, vote: 'a', leader: 'a', commit: 120, applied: 118, lastIndex: 125, snapshotIndex: 100,
    membership: { voters: ['a', 'b', 'c'], learners: ['d'] },
    followers: [
      { peer: 'a', match: 125, next: 126, state: 'replicate' },
      { peer: 'b', match: 125, next: 126, state: 'replicate' },
      { peer: 'c', match: 110, next: 111, state: 'probe' },
    ],
  };
}

export function multiLeaderStatus(): MultiLeaderStatus {
  return {
    id: 'a', applied: { a: 40, b: 12 }, ownSeq: 40, logEntries: 9,
    peers: [
      { id: 'b', up: true, acknowledgedSeq: 38, entriesBehind: 2, ticksSinceAck: 1 },
      { id: 'c', up: false, acknowledgedSeq: 31, entriesBehind: 9, ticksSinceAck: 50 },
    ],
  };
}

export function leaderlessStatus(overrides: Partial<LeaderlessStatus> = {}): LeaderlessStatus {
  return {
    id: 'a',
    peers: [{ id: 'a', up: true }, { id: 'b', up: true }, { id: 'c', up: false }],
    keys: 300, hintsHeld: 4, hintsByOwner: { c: 4 }, pendingRequests: 2, readRepairs: 5,
    antiEntropy: { exchangesStarted: 10, exchangesCompleted: 8, exchangesAbandoned: 1, bytesSent: 4096, keysPushed: 6, rangesInSync: 15 },
    // The metrics read no setting; the cast spares the test the whole settings object.
    settings: {} as LeaderlessSettings,
    ...overrides,
  };
}

export function dhtSnapshot(): DhtSnapshot {
  return {
    routingTableSize: 23, storedRecords: 11,
    stats: {
      malformedDropped: 1, lastMalformed: 'bad', unexpectedDropped: 2, invalidSignatures: 0, outboxOverflowDropped: 0, verificationsSkipped: 3,
      requestsSent: 500, verificationPingsSent: 20, evictionPingsSent: 4, requestsTimedOut: 7, requestsServed: 450,
    },
  };
}

export function admissionStats(): AdmissionStats {
  return {
    depth: 5, depthNormal: 3, depthLow: 2, inService: 4, concurrencyMax: 4, queueDepthMax: 64, admitted: 1000,
    rejected: { queueFull: 6, deadline: 2, aborted: 1 }, serviceTimeMsMean: 1500,
    waitMs: { count: 10, p50: 200, p90: 900, p99: 1200, max: 1500 },
  };
}

export function breakerStates(): BreakerStatus[] {
  return [
    { peerId: 'b', path: 'compute.generate', state: 'closed', calls: 30, failures: 1, rejected: 0, openedAtMs: undefined },
    { peerId: 'c', path: 'compute.generate', state: 'open', calls: 12, failures: 10, rejected: 5, openedAtMs: 1000 },
  ];
}

export function computeCounters(): ComputeCounters {
  return { chunks: 12, tokens: 340, resumes: 1, refusedBusy: 2 };
}
