/**
 * The failure detector (DESIGN.md sections 3 and 4): a pure, tick-driven heartbeat-timeout
 * detector. The shell in src/node/health pings peers, feeds answers to `heard` and ticks it.
 */
export * as failureDetectorLimits from './constants.js';
export { FailureDetectorError, FailureDetectorSettingsError, WatchedPeersFullError } from './errors.js';
export { FailureDetector, type FailureDetectorSettings, type Health, type PeerHealth, type Transition } from './failure-detector.js';
