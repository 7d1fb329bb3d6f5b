/**
 * Chaos runs (`nines chaos`): kill and restart a swarm's peers at random under a steady chat
 * and key-value workload, and report what the clients saw, how fast the storage leader failed
 * over, whether any acknowledged write was lost, and the measured MTBF, MTTR, availability and
 * nines next to the configured ones.
 *
 * - plan.ts           the kill plan (pure, seeded): exponential gaps, a minority down at most
 * - workload.ts       the chat and key-value clients, and the client rule
 * - observer.ts       the leader, polled; failover MTTR from kill to a new leader taking writes
 * - lost-messages.ts  acknowledged writes against what a linearizable read finds (pure)
 * - read-back.ts      the reads after the run
 * - report.ts         the report (pure), with src/availability's figures
 * - report-html.ts    the self-contained HTML page with uPlot (pure); report-file.ts writes both
 * - chaos-swarm.ts    the swarm driven: one of the run's own, or --target addresses
 * - settings.ts       flags checked; run.ts the run itself
 */
export * from './constants.js';
export * from './errors.js';
export { isLoopbackUrl, OwnSwarm, TargetSwarm, type ChaosSwarm, type ChaosSwarmPeer } from './chaos-swarm.js';
export { formatDuration, parseDurationMs } from './durations.js';
export { missingMessages, missingPuts, parseStoredConversation, type AcknowledgedTurn, type MissingMessage, type MissingPut, type StoredMessage } from './lost-messages.js';
export { downPeersMax, exponentialDelayMs, planChaos, type ChaosPlan, type ChaosPlanOptions, type PlannedKill, type SkippedKill } from './plan.js';
export { buildChaosReport, healthEventsOf, percentile, type ChaosConfiguration, type ChaosReport, type ChaosReportInput, type RequestTotals, type SecondSummary, type TargetResult } from './report.js';
export { escapeHtml, reportHtml, scriptJson, type UplotAssets } from './report-html.js';
export { readUplotAssets, writeReport } from './report-file.js';
export { runChaos, type ChaosRunOptions, type ChaosRunResult } from './run.js';
export { acksLevels, chaosSettings, partitionsRefusal, type ChaosFlags, type ChaosSettings } from './settings.js';
export type { ChaosAction, FailoverMeasure, LeaderObservation, RequestKind, RequestRecord } from './types.js';
