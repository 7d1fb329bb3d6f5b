/**
 * Properties of the availability report over random timelines, and the report checked
 * against a dumb reference that recomputes every state at every millisecond from scratch.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { availabilityReport, services, sortEvents, type HealthEvent, type Service } from '../../src/availability/index.js';

const peers = ['a', 'b', 'c'];
const timeMsMax = 120;

function eventArbitrary(names: readonly string[], withLeaders: boolean): fc.Arbitrary<HealthEvent> {
  const atMs = fc.integer({ min: 0, max: timeMsMax });
  const name = fc.constantFrom(...names);
  const state = fc.constantFrom('up' as const, 'down' as const);
  const kinds: fc.Arbitrary<HealthEvent>[] = [
    fc.record({ kind: fc.constant('peer' as const), atMs, observer: fc.constantFrom(...peers), subject: name, state }),
    fc.record({ kind: fc.constant('service' as const), atMs, peer: name, service: fc.constantFrom(...services), state }),
    fc.record({ kind: fc.constant('breaker' as const), atMs, observer: fc.constantFrom(...peers), peer: name, state: fc.constantFrom('closed' as const, 'open' as const, 'half-open' as const) }),
    fc.record({ kind: fc.constant('requests' as const), atMs, windowMs: fc.constant(10), gateway: name, ok: fc.nat(20), failed: fc.nat(3), rejected: fc.nat(3), latencyMsSum: fc.constant(100), latencyMsMax: fc.constant(10) }),
  ];
  if (withLeaders) {
    kinds.push(fc.record({ kind: fc.constant('leader' as const), atMs, observer: name, leader: fc.option(fc.constantFrom(...names), { nil: null }), term: fc.integer({ min: 1, max: 4 }) }));
  }
  return fc.oneof(...kinds);
}

/** Every peer and every service it offers starts at time 0, with a leader (term 0), so every state is known for the whole window. */
const startEvents: HealthEvent[] = [
  ...peers.flatMap((peer) => [
    { kind: 'peer' as const, atMs: 0, observer: peer, subject: peer, state: 'up' as const },
    ...services.map((service) => ({ kind: 'service' as const, atMs: 0, peer, service, state: 'up' as const })),
  ]),
  { kind: 'leader' as const, atMs: 0, observer: 'a', leader: 'a', term: 0 },
];

const timelineArbitrary = fc.record({
  events: fc.array(eventArbitrary(peers, true), { maxLength: 40 }),
  sinceMs: fc.integer({ min: 0, max: timeMsMax }),
  lengthMs: fc.integer({ min: 1, max: timeMsMax }),
});

function optionsOf(timeline: { sinceMs: number; lengthMs: number }) {
  return { sinceMs: timeline.sinceMs, untilMs: timeline.sinceMs + timeline.lengthMs, sloTarget: 0.99 };
}

describe('availabilityReport properties', () => {
  it('keeps availability in [0, 1] and uptime + downtime equal to the window when states are known from the start', () => {
    fc.assert(
      fc.property(timelineArbitrary, (timeline) => {
        const report = availabilityReport([...startEvents, ...timeline.events], optionsOf(timeline));
        for (const entity of [report.cluster, ...report.services, ...report.peers]) {
          expect(entity.uptimeMs + entity.downtimeMs).toBe(timeline.lengthMs);
          expect(entity.observedMs).toBe(timeline.lengthMs);
          expect(entity.availability).toBeGreaterThanOrEqual(0);
          expect(entity.availability).toBeLessThanOrEqual(1);
          expect(entity.repairs).toBeLessThanOrEqual(entity.failures + 1);
        }
        if (report.client.availability !== null) expect(report.client.availability).toBeGreaterThanOrEqual(0);
        if (report.client.availability !== null) expect(report.client.availability).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('does not depend on the order the events come in, nor on duplicates', () => {
    fc.assert(
      fc.property(timelineArbitrary, fc.array(fc.nat()), (timeline, keys) => {
        const events = [...startEvents, ...timeline.events];
        const shuffled = events.map((event, index) => ({ event, key: keys[index % Math.max(keys.length, 1)] ?? index })).sort((left, right) => left.key - right.key).map((entry) => ({ ...entry.event }));
        const duplicated = [...shuffled, ...shuffled.filter((_, index) => index % 2 === 0)];
        expect(availabilityReport(duplicated, optionsOf(timeline))).toEqual(availabilityReport(events, optionsOf(timeline)));
      }),
    );
  });

  it('never lowers a service\'s availability when a redundant peer is added', () => {
    const redundantStart: HealthEvent[] = [{ kind: 'peer', atMs: 0, observer: 'z', subject: 'z', state: 'up' }, ...services.map((service) => ({ kind: 'service' as const, atMs: 0, peer: 'z', service, state: 'up' as const }))];
    fc.assert(
      fc.property(timelineArbitrary, fc.array(eventArbitrary(['z'], false), { maxLength: 20 }), (timeline, redundant) => {
        const base = availabilityReport([...startEvents, ...timeline.events], optionsOf(timeline));
        const more = availabilityReport([...startEvents, ...timeline.events, ...redundantStart, ...redundant], optionsOf(timeline));
        base.services.forEach((service, index) => expect(more.services[index]!.availability!).toBeGreaterThanOrEqual(service.availability!));
      }),
    );
  });

  it('agrees with a per-millisecond recomputation from scratch', () => {
    fc.assert(
      fc.property(fc.array(eventArbitrary(peers, true), { maxLength: 40 }), fc.boolean(), timelineArbitrary, (events, withStart, timeline) => {
        const all = withStart ? [...startEvents, ...events] : events;
        const report = availabilityReport(all, optionsOf(timeline));
        const reference = referenceTotals(all, timeline.sinceMs, timeline.sinceMs + timeline.lengthMs);
        expect(report.cluster).toMatchObject(reference.get('cluster') ?? { uptimeMs: 0, downtimeMs: 0 });
        for (const service of report.services) expect(service, service.service).toMatchObject(reference.get(`service ${service.service}`) ?? { uptimeMs: 0, downtimeMs: 0 });
        for (const peer of report.peers) expect(peer, peer.peer).toMatchObject(reference.get(`peer ${peer.peer}`) ?? { uptimeMs: 0, downtimeMs: 0 });
      }),
    );
  });
});

type State = 'up' | 'down' | undefined;

/** The rules of report.ts, written as plainly as possible: the state of everything at time t. */
function statesAt(sorted: readonly HealthEvent[], t: number): Map<string, State> {
  const seen = sorted.filter((event) => event.atMs <= t);
  const states = new Map<string, State>();
  const peerState = (peer: string): State => seen.filter((event) => event.kind === 'peer' && event.subject === peer).map((event) => (event as { state: 'up' | 'down' }).state).at(-1);
  for (const event of seen) if (event.kind === 'peer') states.set(`peer ${event.subject}`, peerState(event.subject));
  const leaders = seen.filter((event) => event.kind === 'leader');
  const topTerm = Math.max(-1, ...leaders.map((event) => event.term));
  const topLeader = leaders.find((event) => event.term === topTerm && event.leader !== null)?.leader ?? null;
  // Each observer's view: its last report that is not older than one it made before.
  const views = new Map<string, { term: number; leader: string | null }>();
  for (const event of leaders) if (!((views.get(event.observer)?.term ?? -1) > event.term)) views.set(event.observer, { term: event.term, leader: event.leader });
  const counted = [...views].filter(([observer, view]) => view.term === topTerm && peerState(observer) !== 'down').map(([, view]) => view.leader);
  const leader = counted.filter((name) => name === null).length > counted.filter((name) => name !== null).length ? null : topLeader;
  const needsLeader = sorted.some((event) => event.kind === 'leader');
  // A leader became known when one was reported for a term no earlier report had passed.
  const leaderEverKnown = leaders.some((event, index) => event.leader !== null && leaders.slice(0, index).every((earlier) => earlier.term <= event.term));
  const serviceStates: State[] = services.map((service: Service) => {
    const offering = [...new Set(seen.filter((event) => event.kind === 'service' && event.service === service).map((event) => (event as { peer: string }).peer))];
    if (offering.length === 0) return undefined;
    if (service === 'storage' && needsLeader && !leaderEverKnown) return undefined;
    const up = offering.some((peer) => seen.filter((event) => event.kind === 'service' && event.service === service && event.peer === peer).map((event) => (event as { state: string }).state).at(-1) === 'up' && peerState(peer) !== 'down');
    if (!up) return 'down';
    if (service === 'storage' && needsLeader && (leader === null || peerState(leader) === 'down')) return 'down';
    return 'up';
  });
  services.forEach((service, index) => states.set(`service ${service}`, serviceStates[index]));
  states.set('cluster', serviceStates.every((state) => state === undefined) ? undefined : serviceStates.includes('down') ? 'down' : 'up');
  return states;
}

function referenceTotals(events: readonly HealthEvent[], sinceMs: number, untilMs: number): Map<string, { uptimeMs: number; downtimeMs: number }> {
  const sorted = sortEvents(events);
  const totals = new Map<string, { uptimeMs: number; downtimeMs: number }>();
  for (let t = sinceMs; t < untilMs; t++) {
    for (const [name, state] of statesAt(sorted, t)) {
      const total = totals.get(name) ?? { uptimeMs: 0, downtimeMs: 0 };
      if (state === 'up') total.uptimeMs++;
      if (state === 'down') total.downtimeMs++;
      totals.set(name, total);
    }
  }
  return totals;
}
