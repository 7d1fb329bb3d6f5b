import { describe, expect, it } from 'vitest';
import { AvailabilityOptionsInvalidError, availabilityReport, type HealthEvent } from '../../src/availability/index.js';

const hourMs = 3_600_000;
const window = { sinceMs: 0, untilMs: hourMs, sloTarget: 0.999 };

function peerUp(subject: string, atMs: number, observer = subject): HealthEvent {
  return { kind: 'peer', atMs, observer, subject, state: 'up' };
}
function peerDown(subject: string, atMs: number, observer: string): HealthEvent {
  return { kind: 'peer', atMs, observer, subject, state: 'down' };
}
function serviceUp(peer: string, service: 'gateway' | 'compute' | 'storage', atMs: number): HealthEvent {
  return { kind: 'service', atMs, peer, service, state: 'up' };
}
function leader(observer: string, name: string | null, term: number, atMs: number): HealthEvent {
  return { kind: 'leader', atMs, observer, leader: name, term };
}
function requests(gateway: string, atMs: number, ok: number, failed: number, rejected: number): HealthEvent {
  return { kind: 'requests', atMs, windowMs: 10_000, gateway, ok, failed, rejected, latencyMsSum: 10 * (ok + failed + rejected), latencyMsMax: 50 };
}

/** A peer that starts at 0 and fails for `outageMs` at each of `failureTimesMs`, as seen by observer 'b'. */
function outages(failureTimesMs: number[], outageMs: number): HealthEvent[] {
  const events = [peerUp('a', 0), serviceUp('a', 'gateway', 0)];
  for (const atMs of failureTimesMs) events.push(peerDown('a', atMs, 'b'), peerUp('a', atMs + outageMs, 'b'));
  return events;
}

describe('availabilityReport on hand-computed timelines', () => {
  it('three failures of 10 s in an hour: MTTR 10 s, MTBF 1190 s, availability 3570/3600', () => {
    const report = availabilityReport(outages([1_000_000, 2_000_000, 3_000_000], 10_000), window);
    const peer = report.peers.find((entry) => entry.peer === 'a')!;
    expect(peer).toMatchObject({ uptimeMs: 3_570_000, downtimeMs: 30_000, observedMs: hourMs, failures: 3, repairs: 3, outages: 3, mttrMs: 10_000, mtbfMs: 1_190_000 });
    expect(peer.availability).toBeCloseTo(0.991667, 6);
    // Availability is also MTBF / (MTBF + MTTR) when every failure was repaired.
    expect(peer.availability).toBeCloseTo(1_190_000 / (1_190_000 + 10_000), 12);
    expect(peer.nines).toBeCloseTo(2.0792, 4);
    // The only gateway is that peer, so the gateway service and the cluster share its timeline.
    const gateway = report.services.find((entry) => entry.service === 'gateway')!;
    expect(gateway).toMatchObject({ peers: 1, uptimeMs: 3_570_000, downtimeMs: 30_000, failures: 3, repairs: 3 });
    expect(report.cluster).toMatchObject({ uptimeMs: 3_570_000, downtimeMs: 30_000, failures: 3 });
    expect(report.services.find((entry) => entry.service === 'compute')).toMatchObject({ peers: 0, observedMs: 0, availability: null, nines: null, mtbfMs: null, mttrMs: null });
  });

  it('one failure of 10 s in an hour: availability 0.99722, 2.556 nines', () => {
    const peer = availabilityReport(outages([1_800_000], 10_000), window).peers[0]!;
    expect(peer).toMatchObject({ peer: 'a', failures: 1, mtbfMs: 3_590_000, mttrMs: 10_000 });
    expect(peer.availability).toBeCloseTo(0.997222, 6);
    expect(peer.nines).toBeCloseTo(2.5563, 4);
  });

  it('a peer never down has availability 1 and no nines (null), no MTBF and no MTTR', () => {
    const report = availabilityReport([peerUp('a', 0)], window);
    expect(report.peers).toEqual([{ peer: 'a', observedMs: hourMs, uptimeMs: hourMs, downtimeMs: 0, failures: 0, repairs: 0, outages: 0, mtbfMs: null, mttrMs: null, availability: 1, nines: null }]);
  });

  it('several observers reporting one failure make one failure, and any up ends it', () => {
    const events = [peerUp('a', 0), peerDown('a', 100, 'b'), peerDown('a', 150, 'c'), peerDown('a', 180, 'b'), peerUp('a', 400, 'c'), peerUp('a', 450)];
    const peer = availabilityReport(events, { sinceMs: 0, untilMs: 1_000, sloTarget: 0.9 }).peers[0]!;
    expect(peer).toMatchObject({ downtimeMs: 300, uptimeMs: 700, failures: 1, repairs: 1, outages: 1 });
  });

  it('events before the window set the state it starts in; a peer seen first inside it is observed from then on', () => {
    const events = [peerUp('a', 0), peerDown('a', 500, 'b'), peerUp('a', 1_500, 'b'), peerUp('late', 1_800)];
    const report = availabilityReport(events, { sinceMs: 1_000, untilMs: 2_000, sloTarget: 0.9 });
    expect(report.peers).toEqual([
      { peer: 'a', observedMs: 1_000, uptimeMs: 500, downtimeMs: 500, failures: 0, repairs: 1, outages: 1, mtbfMs: null, mttrMs: 500, availability: 0.5, nines: expect.closeTo(0.30103, 5) },
      { peer: 'late', observedMs: 200, uptimeMs: 200, downtimeMs: 0, failures: 0, repairs: 0, outages: 0, mtbfMs: null, mttrMs: null, availability: 1, nines: null },
    ]);
  });

  it('takes events at the same millisecond as one moment: a down and an up together are no failure', () => {
    const peer = availabilityReport([peerUp('a', 0), peerDown('a', 500, 'b'), peerUp('a', 500, 'b')], { sinceMs: 0, untilMs: 1_000, sloTarget: 0.9 }).peers[0]!;
    expect(peer).toMatchObject({ uptimeMs: 1_000, downtimeMs: 0, failures: 0, repairs: 0 });
  });

  it('an outage still going on at the end of the window counts its part inside the window', () => {
    const peer = availabilityReport([peerUp('a', 0), peerDown('a', 900, 'b')], { sinceMs: 0, untilMs: 1_000, sloTarget: 0.9 }).peers[0]!;
    expect(peer).toMatchObject({ uptimeMs: 900, downtimeMs: 100, failures: 1, repairs: 0, outages: 1, mtbfMs: 900, mttrMs: 100 });
  });

  it('a service is down only while no peer offering it is up', () => {
    const events = [peerUp('a', 0), peerUp('b', 0), serviceUp('a', 'compute', 0), serviceUp('b', 'compute', 0)];
    events.push(peerDown('a', 100, 'b'), peerUp('a', 200), peerDown('b', 150, 'a'), peerUp('b', 250));
    const report = availabilityReport(events, { sinceMs: 0, untilMs: 1_000, sloTarget: 0.9 });
    expect(report.services.find((entry) => entry.service === 'compute')).toMatchObject({ peers: 2, downtimeMs: 50, uptimeMs: 950, failures: 1, repairs: 1 });
    // A peer stopping the service (its own 'service down') counts like the peer being down.
    events.push({ kind: 'service', atMs: 500, peer: 'a', service: 'compute', state: 'down' }, { kind: 'service', atMs: 600, peer: 'b', service: 'compute', state: 'down' });
    const stopped = availabilityReport(events, { sinceMs: 0, untilMs: 1_000, sloTarget: 0.9 });
    expect(stopped.services.find((entry) => entry.service === 'compute')).toMatchObject({ downtimeMs: 450, failures: 2, repairs: 1 });
  });

  it('the cluster is down while any service it has is down', () => {
    const events = [peerUp('a', 0), peerUp('b', 0), serviceUp('a', 'gateway', 0), serviceUp('b', 'compute', 0), peerDown('b', 300, 'a'), peerUp('b', 400), peerDown('a', 700, 'b'), peerUp('a', 750)];
    const report = availabilityReport(events, { sinceMs: 0, untilMs: 1_000, sloTarget: 0.9 });
    expect(report.cluster).toMatchObject({ downtimeMs: 150, failures: 2, repairs: 2, outages: 2, mttrMs: 75 });
  });

  it('single-leader storage is down while no leader is known (after its first election), and lists the leader changes', () => {
    const events = [...['a', 'b', 'c'].flatMap((peer) => [peerUp(peer, 0), serviceUp(peer, 'storage', 0)]), leader('a', 'a', 1, 50)];
    events.push(peerDown('a', 1_000, 'b'), leader('b', null, 2, 1_100), leader('c', 'b', 2, 1_300), leader('b', 'b', 2, 1_300));
    // Late or lone reports change nothing: c's old term arriving late, and a (restarted) seeing no leader yet.
    events.push(leader('c', 'a', 1, 1_400), peerUp('a', 1_450), leader('a', null, 2, 1_500));
    const report = availabilityReport(events, { sinceMs: 0, untilMs: 2_000, sloTarget: 0.9 });
    expect(report.storageNeedsLeader).toBe(true);
    // Observed from the first election (50 ms: before it the storage was not offered yet), down from a's death to b's election.
    expect(report.services.find((entry) => entry.service === 'storage')).toMatchObject({ peers: 3, observedMs: 1_950, uptimeMs: 1_650, downtimeMs: 300, failures: 1, repairs: 1, outages: 1 });
    expect(report.leaderChanges).toEqual([{ atMs: 50, leader: 'a', term: 1 }, { atMs: 1_300, leader: 'b', term: 2 }]);
    expect(report.peers.map((peer) => [peer.peer, peer.downtimeMs])).toEqual([['a', 450], ['b', 0], ['c', 0]]);
  });

  it('single-leader storage is down while most followers have lost the leader, even before a new term', () => {
    const events = [...['a', 'b', 'c', 'd', 'e'].flatMap((peer) => [peerUp(peer, 0), serviceUp(peer, 'storage', 0), leader(peer, 'a', 3, 10)])];
    // a dies at 1000 ms; with pre-vote the followers lose it without a new term, one by one.
    events.push(leader('b', null, 3, 1_500), leader('c', null, 3, 1_550), leader('d', null, 3, 1_600));
    events.push(leader('b', 'b', 4, 1_900), leader('c', 'b', 4, 1_910), peerDown('a', 2_500, 'c'));
    const report = availabilityReport(events, { sinceMs: 0, untilMs: 3_000, sloTarget: 0.9 });
    // Lost from the third follower (1600 ms: 3 blind against a and e) until b's term (1900 ms).
    expect(report.services.find((entry) => entry.service === 'storage')).toMatchObject({ observedMs: 3_000 - 10, downtimeMs: 300, failures: 1 });
    expect(report.leaderChanges).toEqual([{ atMs: 10, leader: 'a', term: 3 }, { atMs: 1_900, leader: 'b', term: 4 }]);
  });

  it('measures client-observed availability against the SLO and its error budget', () => {
    const events = [requests('g1', 0, 5_000, 2, 0), requests('g2', 10_000, 4_990, 3, 5), requests('g1', hourMs, 0, 1_000, 0), requests('g1', -10_000, 0, 1_000, 0)];
    const report = availabilityReport(events, window);
    expect(report.client).toEqual({ requests: 10_000, ok: 9_990, failed: 5, rejected: 5, availability: 0.999, nines: 3, latencyMsMean: 10, latencyMsMax: 50, gateways: 2 });
    expect(report.slo).toEqual({ target: 0.999, allowedFailures: 10, failures: 10, errorBudgetRemaining: 0, met: true });
    const overspent = availabilityReport([...events, requests('g1', 20_000, 0, 10, 0)], window);
    expect(overspent.slo).toMatchObject({ failures: 20, errorBudgetRemaining: expect.closeTo(-0.998, 3), met: false });
    expect(availabilityReport([], window).slo).toEqual({ target: 0.999, allowedFailures: 0, failures: 0, errorBudgetRemaining: 1, met: true });
  });

  it('lists each breaker with its state at the end and how often it opened in the window', () => {
    const breaker = (atMs: number, peer: string, state: 'closed' | 'open' | 'half-open'): HealthEvent => ({ kind: 'breaker', atMs, observer: 'g', peer, state });
    const events = [breaker(-5, 'c', 'open'), breaker(10, 'c', 'half-open'), breaker(20, 'c', 'open'), breaker(20, 'c', 'open'), breaker(30, 'c', 'half-open'), breaker(40, 'c', 'closed'), breaker(50, 'b', 'open'), breaker(2_000, 'b', 'closed')];
    expect(availabilityReport(events, { sinceMs: 0, untilMs: 1_000, sloTarget: 0.9 }).breakers).toEqual([
      { observer: 'g', peer: 'b', state: 'open', opens: 1 },
      { observer: 'g', peer: 'c', state: 'closed', opens: 1 },
    ]);
  });

  it('carries the window and the table of nines', () => {
    const report = availabilityReport([], { sinceMs: 1_000, untilMs: 61_000, sloTarget: 0.99 });
    expect(report).toMatchObject({ sinceMs: 1_000, untilMs: 61_000, windowMs: 60_000, events: 0, storageNeedsLeader: false, leaderChangesOmitted: 0 });
    expect(report.ninesTable).toHaveLength(5);
    expect(report.cluster.availability).toBeNull();
  });

  it.each([
    [{ sinceMs: 10, untilMs: 10, sloTarget: 0.9 }, /start before it ends/],
    [{ sinceMs: 20, untilMs: 10, sloTarget: 0.9 }, /start before it ends/],
    [{ sinceMs: Number.NaN, untilMs: 10, sloTarget: 0.9 }, /start before it ends/],
    [{ sinceMs: 0, untilMs: 10, sloTarget: 1 }, /strictly between 0 and 1/],
    [{ sinceMs: 0, untilMs: 10, sloTarget: 99.9 }, /strictly between 0 and 1/],
    [{ sinceMs: 0, untilMs: 10, sloTarget: 0 }, /strictly between 0 and 1/],
  ])('refuses impossible options %j', (options, message) => {
    expect(() => availabilityReport([], options)).toThrow(AvailabilityOptionsInvalidError);
    expect(() => availabilityReport([], options)).toThrow(message);
  });
});
