/** A crafted chaos run for the report tests: three peers, 60 s, the leader killed once. */
import { planChaos, type ChaosReportInput, type RequestRecord } from '../../src/chaos/index.js';

export const start = 1_800_000_000_000;
export const peers = ['a', 'b', 'c'].map((letter, index) => ({ index, nodeId: letter.repeat(40), api: `http://127.0.0.1:${9000 + index}` }));

export function chat(atSecond: number, ok: boolean, extra: Partial<RequestRecord> = {}): RequestRecord {
  return { atMs: start + atSecond * 1000 + 10, kind: 'chat', gateway: 0, ok, status: ok ? 200 : 503, latencyMs: ok ? 100 : 40, error: ok ? null : 'status 503', refused: false, ...extra };
}

/** A 60 s run: peer 1 (the leader) killed at 10 s and back at 25 s; the new leader known 0.6 s after the kill, a write 0.8 s after. */
export function input(overrides: Partial<ChaosReportInput> = {}): ChaosReportInput {
  const requests = [
    ...Array.from({ length: 60 }, (_, second) => chat(second, true)),
    ...Array.from({ length: 940 }, (_, index) => chat(index % 60, true, { gateway: 1 + (index % 2) })),
    chat(10, false, { error: 'ECONNRESET: socket hang up', status: null }),
    chat(10, false, { refused: true, status: null, error: 'connection refused' }),
    { atMs: start + 5_000, kind: 'kv-put' as const, gateway: 1, ok: true, status: 200, latencyMs: 20, error: null, refused: false },
  ];
  return {
    configuration: { peers: 3, durationMs: 60_000, mtbfMs: 8_000, repairMs: 4_000, seed: 1, replication: 'single-leader', acks: 'quorum', killsMax: 10, leaderKills: 0, frontGateways: 0, targets: [], chatClients: 3, kvClients: 2, chatTokensMax: 8 },
    startMs: start,
    endMs: start + 60_000,
    peers,
    gateways: peers.map((peer) => peer.api),
    plan: planChaos({ seed: 1, peers: 3, durationMs: 60_000, mtbfMs: 8_000, repairMs: 4_000, killsMax: 10 }),
    actions: [
      { kind: 'kill', atMs: start + 10_000, peer: 0, nodeId: peers[0].nodeId, wasLeader: true },
      { kind: 'restart', atMs: start + 14_000, peer: 0, nodeId: peers[0].nodeId, readyAtMs: start + 25_000 },
    ],
    leaderTracking: true,
    leaders: [
      { atMs: start - 500, leader: peers[0].nodeId, term: 2, observer: peers[1].nodeId },
      { atMs: start + 10_600, leader: peers[1].nodeId, term: 3, observer: peers[2].nodeId },
    ],
    failovers: [{ killAtMs: start + 10_000, oldLeader: peers[0].nodeId, newLeader: peers[1].nodeId, newLeaderAtMs: start + 10_600, firstWriteAtMs: start + 10_800, mttrMs: 800 }],
    requests,
    conversations: { checked: 4, acknowledgedMessages: 40, missing: [], unverified: [] },
    kv: { acknowledgedPuts: 1, missing: [], unverified: [] },
    clusterView: { available: false, note: 'the swarm has no GET /v1/admin/availability route (404)' },
    notes: [],
    ...overrides,
  };
}

