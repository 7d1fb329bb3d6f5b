/**
 * Operations are the node's long-running work: a lookup, then for stores a round of store
 * requests. Each one ends in exactly one `OperationResult` in `ready().results`.
 */
import { bytesToHex } from './bytes.js';
import type { Contact } from './contact.js';
import type { Lookup } from './lookup.js';
import type { KademliaRequest, KademliaResponse, SignedValue, StoreRefusal } from './messages.js';
import type { NodeId } from './node-id.js';

/**
 * - `bootstrap`: the self-lookup through the given contacts that joins the network;
 * - `lookup`: the k closest peers to a key;
 * - `findProviders` / `getValue`: lookups that also collect provider records / signed values;
 * - `provide` / `putValue`: a lookup, then a store on each of the k closest peers;
 * - `refresh`, `republishProvider`, `republishValue`: the node's own upkeep.
 */
export type OperationKind = 'bootstrap' | 'lookup' | 'findProviders' | 'getValue' | 'provide' | 'putValue' | 'refresh' | 'republishProvider' | 'republishValue';

/** Why an operation ended without doing its work. */
export type OperationError = 'busy' | 'no-contacts' | 'provided-keys-full' | 'published-values-full';

export interface OperationResult {
  readonly operationId: number;
  readonly kind: OperationKind;
  readonly key: NodeId;
  /** Lookups: some peer answered. findProviders / getValue: something was found. Stores: some peer stored it. */
  readonly ok: boolean;
  readonly error: OperationError | null;
  /** The closest peers that answered, closest first, at most k. */
  readonly closest: readonly Contact[];
  /** Answers in a row the lookup needed to reach the closest peer that answered (1 = a peer from our own table). */
  readonly hops: number;
  /** Lookup requests sent, and how many of them went unanswered (timed out, or stalled and silent when the lookup ended). */
  readonly requests: number;
  readonly failures: number;
  readonly providers: readonly Contact[];
  readonly values: readonly SignedValue[];
  /** Store requests accepted, and the refusals of the others (timeouts are not refusals). */
  readonly stored: number;
  readonly refusals: readonly StoreRefusal[];
  readonly startedTick: number;
  readonly finishedTick: number;
}

export interface Operation {
  readonly id: number;
  readonly kind: OperationKind;
  readonly key: NodeId;
  readonly startedTick: number;
  readonly lookup: Lookup;
  /** The request each lookup step sends, for a given request id. */
  readonly lookupRequest: (requestId: number) => KademliaRequest;
  /** For stores: the request sent to each of the closest peers once the lookup is done. */
  readonly storeRequest: ((requestId: number) => KademliaRequest) | undefined;
  phase: 'lookup' | 'store';
  readonly providers: Map<NodeId, Contact>;
  readonly providersWanted: number;
  /** Values found, best (highest sequence) per publisher. */
  readonly values: Map<string, SignedValue>;
  storesPending: number;
  stored: number;
  readonly refusals: StoreRefusal[];
}

export function operationResult(operation: Operation, nowTick: number): OperationResult {
  const closest = operation.lookup.closestAnswered();
  const providers = [...operation.providers.values()];
  const values = [...operation.values.values()];
  let ok: boolean;
  switch (operation.kind) {
    case 'findProviders':
      ok = providers.length > 0;
      break;
    case 'getValue':
      ok = values.length > 0;
      break;
    case 'provide':
    case 'putValue':
    case 'republishProvider':
    case 'republishValue':
      ok = operation.stored > 0;
      break;
    default:
      ok = closest.length > 0;
  }
  return {
    operationId: operation.id,
    kind: operation.kind,
    key: operation.key,
    ok,
    error: null,
    closest,
    hops: operation.lookup.hops(),
    requests: operation.lookup.requestCount,
    failures: operation.lookup.unansweredCount(),
    providers,
    values,
    stored: operation.stored,
    refusals: operation.refusals,
    startedTick: operation.startedTick,
    finishedTick: nowTick,
  };
}

/** The result of an operation refused before it started. */
export function refusedResult(operationId: number, kind: OperationKind, key: NodeId, error: OperationError, nowTick: number): OperationResult {
  return {
    operationId,
    kind,
    key,
    ok: false,
    error,
    closest: [],
    hops: 0,
    requests: 0,
    failures: 0,
    providers: [],
    values: [],
    stored: 0,
    refusals: [],
    startedTick: nowTick,
    finishedTick: nowTick,
  };
}

/** Keeps, per publisher, the value with the highest sequence. */
export function keepNewest(values: Map<string, SignedValue>, record: SignedValue): void {
  const publisher = bytesToHex(record.publicKey);
  const known = values.get(publisher);
  if (known === undefined || known.sequence < record.sequence) values.set(publisher, record);
}

/** The request each step of an operation's lookup sends. */
export function lookupRequestFor(kind: OperationKind, key: NodeId): (requestId: number) => KademliaRequest {
  if (kind === 'findProviders') return (requestId) => ({ type: 'getProviders', requestId, key });
  if (kind === 'getValue') return (requestId) => ({ type: 'getValue', requestId, key });
  return (requestId) => ({ type: 'findNode', requestId, target: key });
}

/** The request a store operation sends to each of the closest peers, if it is one. */
export function storeRequestFor(kind: OperationKind, key: NodeId, record: SignedValue | undefined): ((requestId: number) => KademliaRequest) | undefined {
  if (kind === 'provide' || kind === 'republishProvider') return (requestId) => ({ type: 'addProvider', requestId, key });
  if ((kind === 'putValue' || kind === 'republishValue') && record !== undefined) return (requestId) => ({ type: 'putValue', requestId, record });
  return undefined;
}

/**
 * Takes the providers or values an answer carried into its operation. A value under another
 * key than the one asked for is as good as forged (its signature does not cover our key) and
 * is counted with the values whose signature fails.
 */
export function collectFound(operation: Operation, response: KademliaResponse, valueVerifies: (record: SignedValue) => boolean, countForged: () => void): void {
  if (response.type === 'providers' && operation.kind === 'findProviders') {
    for (const provider of response.providers) {
      if (operation.providers.size >= operation.providersWanted) break;
      if (!operation.providers.has(provider.nodeId)) operation.providers.set(provider.nodeId, provider);
    }
  } else if (response.type === 'values' && operation.kind === 'getValue') {
    for (const record of response.records) {
      if (record.key !== operation.key) countForged();
      else if (valueVerifies(record)) keepNewest(operation.values, record);
    }
  }
}
