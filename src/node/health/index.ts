/**
 * Health shells (DESIGN.md sections 3, 4 and 8): the failure detector's pinging shell, the
 * health log in the replicated store, and the recorder that writes a peer's health events
 * and a gateway's request outcomes there. Reports are computed by src/availability.
 */
export * as healthLimits from './constants.js';
export { HealthError, HealthLogCorruptError, HealthPeersContendedError, HealthPeersFullError, HealthSettingsError } from './errors.js';
export { healthStoreFor, type HealthStore, type StoredValue, type StoredVersion } from './health-store.js';
export { HealthLogWriter } from './health-log-writer.js';
export {
  healthAliveKey,
  healthHeadKey,
  healthPeersKey,
  healthSegmentKey,
  readHealthEvents,
  type HealthEventsRead,
  type ReadHealthOptions,
} from './health-log.js';
export { HealthRecorder, type HealthRecorderOptions, type HealthRecorderStats } from './recorder.js';
export { type RequestOutcome, type RequestOutcomeReport, type RequestSecond } from './request-statistics.js';
export { HealthMonitor, peerEventOf, type HealthMonitorOptions, type PingAnswer } from './failure-detector-shell.js';
export { RemoteHealthStore, serveHealthStore, healthStoreReadMethod, healthStoreWriteMethod, type RemoteHealthStoreParts } from './remote-health-store.js';
