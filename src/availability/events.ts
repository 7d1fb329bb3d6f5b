/**
 * Health events: what peers record into the replicated store and what every report is
 * computed from. They are plain JSON. Since the store is input (another version, a bug or
 * a hand-written key may have put anything there), `parseHealthEvent` checks every field
 * and keeps only the known ones, so that a report never computes with garbage.
 */
import { peerNameLengthMax, requestsWindowMsMax, termMax } from './constants.js';
import { HealthEventInvalidError } from './errors.js';

export type Service = 'gateway' | 'compute' | 'storage';
export const services: readonly Service[] = ['gateway', 'compute', 'storage'];

export type PeerState = 'up' | 'down';
export type BreakerState = 'closed' | 'open' | 'half-open';

/** The failure detector's view of a peer; a peer reports itself 'up' when it starts (observer = subject). */
export interface PeerEvent {
  kind: 'peer';
  atMs: number;
  observer: string;
  subject: string;
  state: PeerState;
}

/** A peer starting or stopping one of its services. */
export interface ServiceEvent {
  kind: 'service';
  atMs: number;
  peer: string;
  service: Service;
  state: PeerState;
}

/** A single-leader (Raft) peer's view of the leader; `leader` is null while an election is under way. */
export interface LeaderEvent {
  kind: 'leader';
  atMs: number;
  observer: string;
  leader: string | null;
  term: number;
}

/** A circuit breaker of `observer` towards `peer` changing state. */
export interface BreakerEvent {
  kind: 'breaker';
  atMs: number;
  observer: string;
  peer: string;
  state: BreakerState;
}

/** What one gateway answered clients during [atMs, atMs + windowMs). Latencies are over all its requests. */
export interface RequestsEvent {
  kind: 'requests';
  atMs: number;
  windowMs: number;
  gateway: string;
  ok: number;
  failed: number;
  rejected: number;
  latencyMsSum: number;
  latencyMsMax: number;
}

export type HealthEvent = PeerEvent | ServiceEvent | LeaderEvent | BreakerEvent | RequestsEvent;

type Fields = Record<string, unknown>;

function invalid(kind: string, message: string): never {
  throw new HealthEventInvalidError(`a stored ${kind} health event is invalid: ${message}; it was not written by this version of nines`);
}

function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function peerName(fields: Fields, name: string, kind: string): string {
  const value = fields[name];
  if (typeof value !== 'string' || value.length === 0 || value.length > peerNameLengthMax || hasControlCharacter(value)) {
    invalid(kind, `${name} must be a peer name of 1 to ${peerNameLengthMax} printable characters, got ${JSON.stringify(value)}`);
  }
  return value;
}

function count(fields: Fields, name: string, kind: string): number {
  const value = fields[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) invalid(kind, `${name} must be a whole number >= 0, got ${JSON.stringify(value)}`);
  return value;
}

function milliseconds(fields: Fields, name: string, kind: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = fields[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    invalid(kind, `${name} must be a number of milliseconds in [0, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function oneOf<T extends string>(fields: Fields, name: string, kind: string, allowed: readonly T[]): T {
  const value = fields[name];
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) invalid(kind, `${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

const peerStates: readonly PeerState[] = ['up', 'down'];
const breakerStates: readonly BreakerState[] = ['closed', 'open', 'half-open'];

/** Checks a value read from the store and returns it as a health event with only its known fields. */
export function parseHealthEvent(value: unknown): HealthEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('', `expected an object, got ${JSON.stringify(value)}`);
  const fields = value as Fields;
  const kind = fields.kind;
  const atMs = () => milliseconds(fields, 'atMs', String(kind));
  switch (kind) {
    case 'peer':
      return { kind, atMs: atMs(), observer: peerName(fields, 'observer', kind), subject: peerName(fields, 'subject', kind), state: oneOf(fields, 'state', kind, peerStates) };
    case 'service':
      return { kind, atMs: atMs(), peer: peerName(fields, 'peer', kind), service: oneOf(fields, 'service', kind, services), state: oneOf(fields, 'state', kind, peerStates) };
    case 'leader': {
      const leader = fields.leader === null ? null : peerName(fields, 'leader', kind);
      const term = count(fields, 'term', kind);
      if (term > termMax) invalid(kind, `term must be at most ${termMax}`);
      return { kind, atMs: atMs(), observer: peerName(fields, 'observer', kind), leader, term };
    }
    case 'breaker':
      return { kind, atMs: atMs(), observer: peerName(fields, 'observer', kind), peer: peerName(fields, 'peer', kind), state: oneOf(fields, 'state', kind, breakerStates) };
    case 'requests': {
      const windowMs = milliseconds(fields, 'windowMs', kind, requestsWindowMsMax);
      if (windowMs === 0) invalid(kind, 'windowMs must be more than 0');
      const latencyMsSum = milliseconds(fields, 'latencyMsSum', kind);
      const latencyMsMax = milliseconds(fields, 'latencyMsMax', kind);
      const event: RequestsEvent = { kind, atMs: atMs(), windowMs, gateway: peerName(fields, 'gateway', kind), ok: count(fields, 'ok', kind), failed: count(fields, 'failed', kind), rejected: count(fields, 'rejected', kind), latencyMsSum, latencyMsMax };
      if (event.latencyMsMax > event.latencyMsSum) invalid(kind, `latencyMsMax (${latencyMsMax}) cannot exceed latencyMsSum (${latencyMsSum})`);
      return event;
    }
    default:
      return invalid('', `kind must be one of peer, service, leader, breaker, requests, got ${JSON.stringify(kind)}`);
  }
}

/** The event's fields in one fixed order, so that equal events compare equal whatever order their keys were built in. */
export function canonicalEventKey(event: HealthEvent): string {
  switch (event.kind) {
    case 'peer':
      return JSON.stringify([event.kind, event.observer, event.subject, event.state]);
    case 'service':
      return JSON.stringify([event.kind, event.peer, event.service, event.state]);
    case 'leader':
      return JSON.stringify([event.kind, event.observer, event.leader, event.term]);
    case 'breaker':
      return JSON.stringify([event.kind, event.observer, event.peer, event.state]);
    case 'requests':
      return JSON.stringify([event.kind, event.gateway, event.windowMs, event.ok, event.failed, event.rejected, event.latencyMsSum, event.latencyMsMax]);
  }
}

/**
 * Events in time order. Events at the same millisecond are ordered by their canonical key, so
 * the order (and every report computed from it) does not depend on the order they were read in.
 * Exact duplicates are dropped: several readers of the store may have returned the same event.
 */
export function sortEvents(events: readonly HealthEvent[]): HealthEvent[] {
  const keyed = events.map((event) => ({ event, key: canonicalEventKey(event) }));
  keyed.sort((left, right) => left.event.atMs - right.event.atMs || (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
  const sorted: HealthEvent[] = [];
  for (let index = 0; index < keyed.length; index++) {
    const previous = keyed[index - 1];
    const current = keyed[index]!;
    if (previous !== undefined && previous.event.atMs === current.event.atMs && previous.key === current.key) continue;
    sorted.push(current.event);
  }
  return sorted;
}
