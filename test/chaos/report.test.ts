import { describe, expect, it } from 'vitest';
import { buildChaosReport, healthEventsOf, missingMessages, reportHtml, scriptJson } from '../../src/chaos/index.js';
import { readUplotAssets } from '../../src/chaos/report-file.js';
import { chat, input, peers, start } from './report-fixture.js';

describe('buildChaosReport', () => {
  it('counts chat requests that reached a gateway, refused connections apart, and checks the targets', () => {
    const report = buildChaosReport(input());
    expect(report.requests.chat).toMatchObject({ sent: 1002, ok: 1000, failed: 1, refused: 1 });
    expect(report.requests.chat.successRate).toBeCloseTo(1000 / 1001, 9);
    expect(report.requests.chat.errors).toEqual([{ error: 'ECONNRESET: socket hang up', count: 1 }]);
    expect(report.targets.map((target) => [target.name, target.outcome])).toEqual([['chat success', 'met'], ['lost acknowledged writes', 'met'], ['leader failover MTTR', 'met']]);
    expect(report.passed).toBe(true);
    expect(report.perSecond).toHaveLength(60);
    // Second 10: one of the first 60, and the 940 spread requests numbered 10, 70, ..., 910 (16 of them).
    expect(report.perSecond[10]).toMatchObject({ chatOk: 17, chatFailed: 1, refused: 1 });
  });

  it('measures the peers from the kills and restarts: one outage of 15 s for peer 1 in 60 s', () => {
    const report = buildChaosReport(input());
    const first = report.availability.peers.find((peer) => peer.peer === peers[0].nodeId)!;
    expect(first).toMatchObject({ uptimeMs: 45_000, downtimeMs: 15_000, failures: 1, repairs: 1, mttrMs: 15_000 });
    expect(report.measured.kills).toBe(1);
    expect(report.measured.mtbfMs).toBe(60_000);
    expect(report.measured.peerMttrMs).toBe(15_000);
    expect(report.measured.peerAvailability).toBeCloseTo(165 / 180, 9);
    // Storage is down from the leader's kill until the new leader is seen: 0.6 s of 60 s.
    expect(report.measured.clusterAvailability).toBeCloseTo(1 - 0.6 / 60, 9);
    expect(report.configured.peerMtbfMs).toBe(24_000);
    expect(report.configured.peerAvailability).toBeCloseTo(24 / 28, 9);
    expect(report.measured.failoverMttrMsMax).toBe(800);
  });

  it('misses the lost-writes target for one missing message, and the chat target below 99.9 %', () => {
    const missing = missingMessages('c', [{ user: 'u', assistant: 'a' }], [{ role: 'user', content: 'u' }]);
    const report = buildChaosReport(input({ conversations: { checked: 1, acknowledgedMessages: 2, missing, unverified: [] } }));
    expect(report.lostMessages).toBe(1);
    expect(report.targets[1].outcome).toBe('missed');
    expect(report.passed).toBe(false);
    const failing = input();
    failing.requests.push(chat(20, false), chat(21, false));
    expect(buildChaosReport(failing).targets[0].outcome).toBe('missed');
  });

  it('counts a write it could not read back against the target, never as kept', () => {
    const report = buildChaosReport(input({ kv: { acknowledgedPuts: 1, missing: [], unverified: ['k: status 503'] } }));
    expect(report.targets[1]).toMatchObject({ outcome: 'missed' });
    expect(report.targets[1].measured).toMatch(/1 could not be read back/);
  });

  it('misses the failover target when a failover is slower than 1 s or never completes, and does not measure it without one', () => {
    const slow = input();
    slow.failovers[0] = { ...slow.failovers[0], firstWriteAtMs: start + 11_500, mttrMs: 1_500 };
    expect(buildChaosReport(slow).targets[2]).toMatchObject({ outcome: 'missed', measured: 'worst 1500 ms over 1 failover' });
    const stuck = input();
    stuck.failovers[0] = { ...stuck.failovers[0], firstWriteAtMs: null, mttrMs: null };
    expect(buildChaosReport(stuck).targets[2]).toMatchObject({ outcome: 'missed', measured: '1 of 1 failovers did not complete' });
    expect(buildChaosReport(input({ failovers: [] })).targets[2].outcome).toBe('not-measured');
    expect(buildChaosReport(input({ failovers: [] })).passed).toBe(true);
  });
});

describe('healthEventsOf', () => {
  it('turns kills, restarts, leaders and chat requests into availability events', () => {
    const events = healthEventsOf(input());
    expect(events.filter((event) => event.kind === 'peer')).toEqual([
      ...peers.map((peer) => ({ kind: 'peer', atMs: start, observer: 'chaos', subject: peer.nodeId, state: 'up' })),
      { kind: 'peer', atMs: start + 10_000, observer: 'chaos', subject: peers[0].nodeId, state: 'down' },
      { kind: 'peer', atMs: start + 25_000, observer: 'chaos', subject: peers[0].nodeId, state: 'up' },
    ]);
    const requests = events.filter((event) => event.kind === 'requests');
    expect(requests.reduce((sum, event) => sum + (event.kind === 'requests' ? event.ok + event.failed + event.rejected : 0), 0)).toBe(1001);
    expect(events.filter((event) => event.kind === 'leader')).toHaveLength(2);
  });
});

describe('reportHtml', () => {
  it('is one page with uPlot inlined, the data inlined and no network address to load', () => {
    const report = buildChaosReport(input({ notes: ['a note with </script><b>'] }));
    const html = reportHtml(report, readUplotAssets());
    expect(html).toContain('uPlot');
    expect(html).toContain('.uplot');
    expect(html).toContain(`"seed":1`);
    expect(html).toContain('peer 1');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    // Text from the run cannot break out of the page.
    expect(html).toContain('a note with &lt;/script&gt;&lt;b&gt;');
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    const data = /<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1];
    expect(JSON.parse(data)).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it('escapes what would end a script element', () => {
    expect(scriptJson({ text: '</script>\u2028' })).toBe('{"text":"\\u003c/script>\\u2028"}');
  });
});
