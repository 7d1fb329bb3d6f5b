/**
 * Availability (DESIGN.md sections 1 and 8): health events in, MTBF, MTTR, availability and
 * nines out, per peer, per service and for the cluster, plus client-observed availability
 * against an SLO. A pure core: time arrives as numbers (milliseconds since the epoch) and
 * events as plain data; the shells in src/node/health record and read them.
 */
export * as availabilityLimits from './constants.js';
export { AvailabilityError, AvailabilityOptionsInvalidError, HealthEventInvalidError } from './errors.js';
export {
  canonicalEventKey,
  parseHealthEvent,
  services,
  sortEvents,
  type BreakerEvent,
  type BreakerState,
  type HealthEvent,
  type LeaderEvent,
  type PeerEvent,
  type PeerState,
  type RequestsEvent,
  type Service,
  type ServiceEvent,
} from './events.js';
export { ninesOf, ninesTable, type NinesRow } from './nines.js';
export { StateSpan, type EntityAvailability, type KnownState } from './span.js';
export {
  availabilityReport,
  type AvailabilityReport,
  type AvailabilityReportOptions,
  type BreakerStatus,
  type ClientAvailability,
  type LeaderChange,
  type PeerAvailability,
  type ServiceAvailability,
  type SloStatus,
} from './report.js';
