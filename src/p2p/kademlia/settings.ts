/**
 * The settings a Kademlia node runs with: the constants by default, smaller values in tests
 * (a short TTL, a tiny bucket). Their relationships are checked when a node is made, so a
 * bad combination fails at start-up rather than as a slow leak or a lookup that never ends.
 */
import { assert } from '../../core/assert.js';
import * as constants from './constants.js';

export interface KademliaSettings {
  bucketSize: number;
  alpha: number;
  replacementCacheSize: number;
  requestTimeoutTicks: number;
  lookupStallTicks: number;
  contactFreshTicks: number;
  contactFailuresMax: number;
  refreshIntervalTicks: number;
  housekeepingIntervalTicks: number;
  recordTtlTicks: number;
  republishIntervalTicks: number;
  providersPerKeyMax: number;
  valuesPerKeyMax: number;
  recordsPerPeerMax: number;
  recordsStoredMax: number;
  providedKeysMax: number;
  publishedValuesMax: number;
  verificationsInFlightMax: number;
  operationsInFlightMax: number;
  lookupCandidatesMax: number;
  messagesPendingMax: number;
  resultsPendingMax: number;
}

export const defaultKademliaSettings: Readonly<KademliaSettings> = Object.freeze({
  bucketSize: constants.bucketSize,
  alpha: constants.alpha,
  replacementCacheSize: constants.replacementCacheSize,
  requestTimeoutTicks: constants.requestTimeoutTicks,
  lookupStallTicks: constants.lookupStallTicks,
  contactFreshTicks: constants.contactFreshTicks,
  contactFailuresMax: constants.contactFailuresMax,
  refreshIntervalTicks: constants.refreshIntervalTicks,
  housekeepingIntervalTicks: constants.housekeepingIntervalTicks,
  recordTtlTicks: constants.recordTtlTicks,
  republishIntervalTicks: constants.republishIntervalTicks,
  providersPerKeyMax: constants.providersPerKeyMax,
  valuesPerKeyMax: constants.valuesPerKeyMax,
  recordsPerPeerMax: constants.recordsPerPeerMax,
  recordsStoredMax: constants.recordsStoredMax,
  providedKeysMax: constants.providedKeysMax,
  publishedValuesMax: constants.publishedValuesMax,
  verificationsInFlightMax: constants.verificationsInFlightMax,
  operationsInFlightMax: constants.operationsInFlightMax,
  lookupCandidatesMax: constants.lookupCandidatesMax,
  messagesPendingMax: constants.messagesPendingMax,
  resultsPendingMax: constants.resultsPendingMax,
});

/** The defaults with `overrides` applied, after checking that they fit together. */
export function kademliaSettings(overrides: Partial<KademliaSettings> = {}): KademliaSettings {
  const settings: KademliaSettings = { ...defaultKademliaSettings, ...overrides };
  for (const [name, value] of Object.entries(settings)) {
    assert(Number.isSafeInteger(value) && value >= 0, `Kademlia setting ${name} must be a non-negative integer, got ${String(value)}`);
  }
  assert(settings.bucketSize >= 1, 'bucketSize must be at least 1');
  assert(settings.alpha >= 1 && settings.alpha <= settings.bucketSize, 'alpha must be between 1 and bucketSize: a lookup never has more requests out than results it wants');
  assert(settings.requestTimeoutTicks >= 1, 'requestTimeoutTicks must be at least 1');
  assert(settings.lookupStallTicks >= 1 && settings.lookupStallTicks <= settings.requestTimeoutTicks, 'lookupStallTicks must be between 1 and requestTimeoutTicks: a request stalls before it times out');
  assert(settings.housekeepingIntervalTicks >= 1, 'housekeepingIntervalTicks must be at least 1');
  assert(settings.republishIntervalTicks < settings.recordTtlTicks, 'republishIntervalTicks must be shorter than recordTtlTicks, or records expire before they are stored again');
  assert(settings.housekeepingIntervalTicks <= settings.republishIntervalTicks, 'housekeeping must run at least once per republish interval');
  assert(settings.requestTimeoutTicks < settings.contactFreshTicks, 'a contact must stay fresh longer than one request can take');
  assert(settings.lookupCandidatesMax >= settings.bucketSize, 'a lookup must be able to remember at least k candidates');
  assert(settings.providersPerKeyMax <= constants.providersPerKeyMax && settings.valuesPerKeyMax <= constants.valuesPerKeyMax, 'per-key caps cannot exceed what a response may carry');
  assert(settings.bucketSize <= constants.bucketSize, 'bucketSize cannot exceed the contacts a response may carry');
  return settings;
}
