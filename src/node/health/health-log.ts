/**
 * Health events in the replicated store. Each peer writes only its own keys, so peers never
 * contend for them:
 *
 *   health/<nodeId>/head        the number of its current segment (a JSON number)
 *   health/<nodeId>/<segment>   a JSON array of at most segmentEventsMax events; a new segment when full
 *   health/<nodeId>/alive       when the peer last flushed, for the writer's next life (see health-log-writer.ts)
 *   health/peers                the node IDs that ever recorded (a JSON array; a merged set, like conversations)
 *
 * `health/peers` is the one shared key: a compare-and-set in single-leader mode, siblings merged
 * as a set in the others. A new segment begins with the latest state its writer knew (the last
 * event per peer, per service, per breaker, and each observer's last leader event), so that a reader going
 * back from the newest segment can stop at the first one that ends before its window and still
 * know the state everything was in when the window began.
 */
import { assert } from '../../core/assert.js';
import { parseHealthEvent, sortEvents, type HealthEvent } from '../../availability/index.js';
import { valueBytesMax } from '../../replication/leader/index.js';
import { eventJsonBytesMax, healthEventsReadMax, segmentEventsMax } from './constants.js';
import type { HealthStore } from './health-store.js';

assert(segmentEventsMax * eventJsonBytesMax < valueBytesMax, 'a full segment fits in one value of the store');

export const healthPeersKey = 'health/peers';
/** Problems kept in a read's result; the rest are only counted. */
const problemsKeptMax = 10;

export function healthHeadKey(nodeId: string): string {
  return `health/${nodeId}/head`;
}

export function healthSegmentKey(nodeId: string, segment: number): string {
  return `health/${nodeId}/${segment}`;
}

/** When the peer last flushed (milliseconds since the epoch): after a crash, the best guess of when it died. */
export function healthAliveKey(nodeId: string): string {
  return `health/${nodeId}/alive`;
}

interface Parsed<T> {
  value: T;
  problems: string[];
  invalidEvents: number;
}

function parseJson(text: string, key: string, problems: string[]): unknown {
  try {
    return JSON.parse(text);
  } catch {
    problems.push(`${key} is not JSON`);
    return undefined;
  }
}

/** The events of every sibling of a segment, merged; malformed ones are skipped and counted. */
export function parseSegment(values: readonly string[], key: string): Parsed<HealthEvent[]> {
  const problems: string[] = [];
  const events: HealthEvent[] = [];
  let invalidEvents = 0;
  for (const text of values) {
    const parsed = parseJson(text, key, problems);
    if (!Array.isArray(parsed)) {
      if (parsed !== undefined) problems.push(`${key} is not a list of events`);
      continue;
    }
    for (const item of parsed) {
      try {
        events.push(parseHealthEvent(item));
      } catch (error) {
        invalidEvents++;
        problems.push(`${key}: ${(error as Error).message}`);
      }
    }
  }
  return { value: sortEvents(events), problems, invalidEvents };
}

/** The highest segment number among the head's siblings; undefined when absent or malformed. */
export function parseHead(values: readonly string[], key: string): Parsed<number | undefined> {
  const problems: string[] = [];
  let head: number | undefined;
  for (const text of values) {
    const parsed = parseJson(text, key, problems);
    if (typeof parsed === 'number' && Number.isSafeInteger(parsed) && parsed >= 0) head = Math.max(head ?? 0, parsed);
    else if (parsed !== undefined) problems.push(`${key} is not a segment number`);
  }
  return { value: head, problems, invalidEvents: 0 };
}

/** The union of the peer sets of every sibling, sorted. */
export function parsePeers(values: readonly string[], key = healthPeersKey): Parsed<string[]> {
  const problems: string[] = [];
  const peers = new Set<string>();
  for (const text of values) {
    const parsed = parseJson(text, key, problems);
    if (!Array.isArray(parsed) || parsed.some((peer) => typeof peer !== 'string')) {
      if (parsed !== undefined) problems.push(`${key} is not a list of node IDs`);
      continue;
    }
    for (const peer of parsed as string[]) peers.add(peer);
  }
  return { value: [...peers].sort(), problems, invalidEvents: 0 };
}

/** The key under which an event is the latest state of something (a peer, a service of a peer, a breaker, an observer's view of the leader); undefined for request windows, which are not state. */
export function stateKeyOf(event: HealthEvent): string | undefined {
  switch (event.kind) {
    case 'peer':
      return `peer ${event.subject}`;
    case 'service':
      return `service ${event.peer} ${event.service}`;
    case 'leader':
      return `leader ${event.observer}`;
    case 'breaker':
      return `breaker ${event.observer} ${event.peer}`;
    case 'requests':
      return undefined;
  }
}

/**
 * Whether `event` says more about the current state than `known`. An observer's leader events
 * go by term (a report of an older term may be written later in time); everything else, and
 * leader events of one term, by time.
 */
function supersedes(event: HealthEvent, known: HealthEvent): boolean {
  if (event.kind === 'leader' && known.kind === 'leader' && event.term !== known.term) return event.term > known.term;
  return event.atMs >= known.atMs;
}

/** Folds events into the latest state per key. */
export function foldLatest(latest: Map<string, HealthEvent>, events: readonly HealthEvent[]): void {
  for (const event of events) {
    const key = stateKeyOf(event);
    if (key === undefined) continue;
    const known = latest.get(key);
    if (known === undefined || supersedes(event, known)) latest.set(key, event);
  }
}

export interface HealthEventsRead {
  /** Events in the window, plus the last earlier one per peer, service, breaker and leader. */
  events: HealthEvent[];
  /** Peers whose logs were read. */
  peers: number;
  segmentsRead: number;
  /** True when healthEventsReadMax events were read and older segments were left unread. */
  truncated: boolean;
  /** Stored events that were malformed and skipped. */
  invalidEvents: number;
  /** The first few problems met (malformed keys or events), for the report to show. */
  problems: string[];
}

export interface ReadHealthOptions {
  sinceMs: number;
  eventsMax?: number;
}

/**
 * Reads every peer's health log, from its newest segment back until a segment that ends before
 * `sinceMs` (whose carried state gives the initial states), or until `eventsMax` events.
 * Before `sinceMs` only the last event per peer, service, breaker and observer's view of the leader is kept.
 */
export async function readHealthEvents(store: HealthStore, options: ReadHealthOptions): Promise<HealthEventsRead> {
  const eventsMax = options.eventsMax ?? healthEventsReadMax;
  const peersRead = parsePeers((await store.read(healthPeersKey, false)).values);
  const result = { events: [] as HealthEvent[], peers: 0, segmentsRead: 0, truncated: false, invalidEvents: 0, problems: [...peersRead.problems] };
  const collected: HealthEvent[] = [];
  const note = (parsed: Parsed<unknown>) => {
    result.invalidEvents += parsed.invalidEvents;
    result.problems.push(...parsed.problems);
  };
  await Promise.all(
    peersRead.value.map(async (nodeId) => {
      const head = parseHead((await store.read(healthHeadKey(nodeId), false)).values, healthHeadKey(nodeId));
      note(head);
      result.peers++;
      // A peer listed without a head yet (its first append is under way) has at most segment 0.
      for (let segment = head.value ?? 0; segment >= 0; segment--) {
        if (collected.length >= eventsMax) {
          result.truncated = true;
          return;
        }
        const key = healthSegmentKey(nodeId, segment);
        const parsed = parseSegment((await store.read(key, false)).values, key);
        note(parsed);
        result.segmentsRead++;
        const room = eventsMax - collected.length;
        if (parsed.value.length > room) {
          // The newest events of the segment are kept: the report's end matters more than its start.
          collected.push(...parsed.value.slice(parsed.value.length - room));
          result.truncated = true;
          return;
        }
        collected.push(...parsed.value);
        const lastMs = parsed.value.at(-1)?.atMs;
        if (lastMs !== undefined && lastMs < options.sinceMs) return;
      }
    }),
  );
  result.events = keepWindow(collected, options.sinceMs);
  result.problems = result.problems.slice(0, problemsKeptMax);
  return result;
}

/** Every event from sinceMs on, and before it only the latest state per key. */
function keepWindow(events: readonly HealthEvent[], sinceMs: number): HealthEvent[] {
  const latest = new Map<string, HealthEvent>();
  foldLatest(
    latest,
    events.filter((event) => event.atMs < sinceMs),
  );
  return sortEvents([...latest.values(), ...events.filter((event) => event.atMs >= sinceMs)]);
}
