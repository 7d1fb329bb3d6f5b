import { describe, expect, it } from 'vitest';
import { createMetrics, metricPeersMax, type AvailabilitySnapshot, type MetricsSources } from '../../../src/api/metrics/index.js';
import { protectionSource } from '../../../src/api/metrics/index.js';
import { Protection } from '../../../src/api/openai/protection.js';
import { CircuitBreakers } from '../../../src/resilience/index.js';
import { admissionStats, breakerStates, computeCounters, dhtSnapshot, leaderlessStatus, multiLeaderStatus, raftLeader } from './fake-sources.js';
import { parseExposition, samplesOf, valueOf, type Exposition } from './prometheus-text.js';

async function scrape(sources: MetricsSources, processMetrics = false): Promise<Exposition> {
  return parseExposition(await createMetrics(sources, { processMetrics }).scrape());
}

describe('metrics read from the sources at scrape time', () => {
  it('shows Raft term, indexes, role and each follower\'s lag on the leader', async () => {
    const text = await scrape({ raft: raftLeader });
    expect(text.type.get('nines_raft_term')).toBe('gauge');
    expect(valueOf(text, 'nines_raft_term')).toBe(7);
    expect(valueOf(text, 'nines_raft_commit_index')).toBe(120);
    expect(valueOf(text, 'nines_raft_applied_index')).toBe(118);
    expect(valueOf(text, 'nines_raft_apply_lag_entries')).toBe(2);
    expect(valueOf(text, 'nines_raft_is_leader')).toBe(1);
    expect(valueOf(text, 'nines_raft_leader_known')).toBe(1);
    expect(valueOf(text, 'nines_raft_voters')).toBe(3);
    expect(valueOf(text, 'nines_raft_role', { role: 'leader' })).toBe(1);
    expect(valueOf(text, 'nines_raft_role', { role: 'follower' })).toBe(0);
    // The leader's own progress entry is not a follower.
    expect(samplesOf(text, 'nines_raft_follower_lag_entries').map((sample) => [sample.labels.peer, sample.value])).toEqual([['b', 0], ['c', 15]]);
  });

  it('shows no follower lag on a follower without a known leader', async () => {
    const text = await scrape({ raft: () => ({ ...raftLeader(), role: 'follower', leader: undefined, followers: [] }) });
    expect(valueOf(text, 'nines_raft_is_leader')).toBe(0);
    expect(valueOf(text, 'nines_raft_leader_known')).toBe(0);
    expect(samplesOf(text, 'nines_raft_follower_lag_entries')).toEqual([]);
    expect(text.help.has('nines_raft_follower_lag_entries')).toBe(true);
  });

  it('shows multi-leader replication lag per peer, and leaves the leaderless series empty', async () => {
    const text = await scrape({ replica: multiLeaderStatus });
    expect(valueOf(text, 'nines_replica_lag_entries', { peer: 'b' })).toBe(2);
    expect(valueOf(text, 'nines_replica_lag_entries', { peer: 'c' })).toBe(9);
    expect(valueOf(text, 'nines_replica_peer_up', { peer: 'c' })).toBe(0);
    expect(valueOf(text, 'nines_replica_own_sequence')).toBe(40);
    expect(samplesOf(text, 'nines_replica_hints_held')).toEqual([]);
  });

  it('shows leaderless hints, read repairs and anti-entropy counters', async () => {
    const text = await scrape({ replica: () => leaderlessStatus() });
    expect(valueOf(text, 'nines_replica_keys')).toBe(300);
    expect(valueOf(text, 'nines_replica_hints', { peer: 'c' })).toBe(4);
    expect(valueOf(text, 'nines_replica_peer_up', { peer: 'b' })).toBe(1);
    expect(valueOf(text, 'nines_replica_peer_up', { peer: 'a' })).toBeUndefined();
    expect(text.type.get('nines_replica_read_repairs_total')).toBe('counter');
    expect(valueOf(text, 'nines_replica_read_repairs_total')).toBe(5);
    expect(valueOf(text, 'nines_anti_entropy_exchanges_total', { result: 'completed' })).toBe(8);
    expect(valueOf(text, 'nines_anti_entropy_ranges_in_sync')).toBe(15);
    expect(samplesOf(text, 'nines_replica_own_sequence')).toEqual([]);
  });

  it('shows the DHT table size, records and traffic', async () => {
    const text = await scrape({ dht: dhtSnapshot });
    expect(valueOf(text, 'nines_dht_routing_table_peers')).toBe(23);
    expect(valueOf(text, 'nines_dht_stored_records')).toBe(11);
    expect(valueOf(text, 'nines_dht_requests_sent_total')).toBe(500);
    expect(valueOf(text, 'nines_dht_pings_sent_total', { purpose: 'eviction' })).toBe(4);
    expect(valueOf(text, 'nines_dht_messages_dropped_total', { reason: 'unexpected' })).toBe(2);
  });

  it('shows the admission queue, rejections by reason and the degradation level', async () => {
    const text = await scrape({ protection: () => ({ admission: admissionStats(), degradationLevel: 'cap-max-tokens' }) });
    expect(valueOf(text, 'nines_admission_queue_depth', { priority: 'normal' })).toBe(3);
    expect(valueOf(text, 'nines_admission_queue_depth', { priority: 'low' })).toBe(2);
    expect(valueOf(text, 'nines_admission_in_service')).toBe(4);
    expect(valueOf(text, 'nines_admission_rejected_total', { reason: 'queue_full' })).toBe(6);
    expect(valueOf(text, 'nines_admission_admitted_total')).toBe(1000);
    expect(valueOf(text, 'nines_admission_wait_recent_seconds', { quantile: '0.99' })).toBeCloseTo(1.2);
    expect(valueOf(text, 'nines_admission_service_time_mean_seconds')).toBeCloseTo(1.5);
    expect(valueOf(text, 'nines_degradation_level', { level: 'cap-max-tokens' })).toBe(1);
    expect(samplesOf(text, 'nines_degradation_level').map((sample) => sample.value).reduce((a, b) => a + b)).toBe(1);
    expect(valueOf(text, 'nines_degradation_level_index')).toBe(2);
  });

  it('reads a real Protection through protectionSource', async () => {
    const protection = new Protection();
    try {
      const text = await scrape({ protection: protectionSource(protection) });
      expect(valueOf(text, 'nines_admission_queue_depth_max')).toBe(protection.admission.stats().queueDepthMax);
      expect(valueOf(text, 'nines_degradation_level', { level: 'normal' })).toBe(1);
    } finally {
      protection.close();
    }
  });

  it('shows each breaker\'s state as 0/1 by peer, path and state', async () => {
    const text = await scrape({ breakers: breakerStates });
    expect(valueOf(text, 'nines_breaker_state', { peer: 'c', path: 'compute.generate', state: 'open' })).toBe(1);
    expect(valueOf(text, 'nines_breaker_state', { peer: 'c', path: 'compute.generate', state: 'closed' })).toBe(0);
    expect(valueOf(text, 'nines_breaker_state', { peer: 'b', path: 'compute.generate', state: 'closed' })).toBe(1);
    expect(valueOf(text, 'nines_breaker_window_rejected', { peer: 'c' })).toBe(5);
    expect(valueOf(text, 'nines_breakers', { state: 'open' })).toBe(1);
  });

  it('reads real CircuitBreakers.states()', async () => {
    const breakers = new CircuitBreakers({ volumeThreshold: 1 });
    await expect(breakers.call('peer-b', 'compute.generate', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await breakers.call('peer-c', 'compute.generate', () => Promise.resolve(1));
    const text = await scrape({ breakers: () => breakers.states() });
    expect(valueOf(text, 'nines_breaker_state', { peer: 'peer-b', path: 'compute.generate', state: 'open' })).toBe(1);
    expect(valueOf(text, 'nines_breaker_state', { peer: 'peer-c', path: 'compute.generate', state: 'closed' })).toBe(1);
    expect(valueOf(text, 'nines_breaker_window_failures', { peer: 'peer-b' })).toBe(1);
  });

  it('shows the failure detector\'s peers and the availability', async () => {
    const snapshot: AvailabilitySnapshot = { peers: [{ peer: 'b', state: 'up' }, { peer: 'c', state: 'suspect' }], availability: 0.9995, nines: 3.3 };
    const text = await scrape({ availability: () => snapshot });
    expect(valueOf(text, 'nines_peer_state', { peer: 'c', state: 'suspect' })).toBe(1);
    expect(valueOf(text, 'nines_peer_state', { peer: 'c', state: 'up' })).toBe(0);
    expect(valueOf(text, 'nines_peers', { state: 'up' })).toBe(1);
    expect(valueOf(text, 'nines_availability_ratio')).toBe(0.9995);
    expect(valueOf(text, 'nines_availability_nines')).toBe(3.3);
    const empty = await scrape({ availability: () => ({ peers: [], nines: null }) });
    expect(samplesOf(empty, 'nines_availability_nines')).toEqual([]);
    expect(samplesOf(empty, 'nines_availability_ratio')).toEqual([]);
  });

  it('adds the Node.js process metrics with the nines_ prefix when asked', async () => {
    const text = await scrape({}, true);
    expect(text.type.get('nines_process_cpu_user_seconds_total')).toBe('counter');
    expect(text.help.has('nines_nodejs_eventloop_lag_seconds')).toBe(true);
    expect(text.help.has('process_cpu_user_seconds_total')).toBe(false);
  });
});

describe('counters that follow a source\'s running totals', () => {
  it('add what the totals grew by, and keep going up when the source starts over', async () => {
    let counters = computeCounters();
    const metrics = createMetrics({ compute: () => counters }, { processMetrics: false });
    let text = parseExposition(await metrics.scrape());
    expect(text.type.get('nines_tokens_generated_total')).toBe('counter');
    expect(valueOf(text, 'nines_tokens_generated_total')).toBe(340);
    counters = { ...counters, tokens: 400 };
    text = parseExposition(await metrics.scrape());
    expect(valueOf(text, 'nines_tokens_generated_total')).toBe(400);
    // A restarted engine counts from zero again: its 25 tokens are new.
    counters = { chunks: 1, tokens: 25, resumes: 0, refusedBusy: 0 };
    text = parseExposition(await metrics.scrape());
    expect(valueOf(text, 'nines_tokens_generated_total')).toBe(425);
    expect(valueOf(text, 'nines_compute_chunks_total')).toBe(13);
  });
});

describe('a source that fails', () => {
  it('leaves its series out of the scrape, counts the failure once, and the rest goes on', async () => {
    let failing = true;
    const errors: string[] = [];
    const metrics = createMetrics(
      {
        raft: () => {
          if (failing) throw new Error('raft is stopping');
          return raftLeader();
        },
        dht: dhtSnapshot,
      },
      { processMetrics: false, onSourceError: (source, error) => errors.push(`${source}: ${(error as Error).message}`) },
    );
    let text = parseExposition(await metrics.scrape());
    expect(samplesOf(text, 'nines_raft_term')).toEqual([]);
    expect(samplesOf(text, 'nines_raft_role')).toEqual([]);
    expect(valueOf(text, 'nines_dht_routing_table_peers')).toBe(23);
    expect(valueOf(text, 'nines_metrics_source_errors_total', { source: 'raft' })).toBe(1);
    expect(valueOf(text, 'nines_metrics_source_errors_total', { source: 'dht' })).toBe(0);
    expect(errors).toEqual(['raft: raft is stopping']);
    failing = false;
    text = parseExposition(await metrics.scrape());
    expect(valueOf(text, 'nines_raft_term')).toBe(7);
    expect(valueOf(text, 'nines_metrics_source_errors_total', { source: 'raft' })).toBe(1);
  });

  it('counts a snapshot of the wrong shape as a failure instead of breaking the scrape', async () => {
    const broken = { ...raftLeader(), term: Number.NaN };
    const metrics = createMetrics({ raft: () => broken, breakers: () => [{ ...breakerStates()[0], state: 'melted' as never }] }, { processMetrics: false });
    const text = parseExposition(await metrics.scrape());
    expect(samplesOf(text, 'nines_raft_term')).toEqual([]);
    expect(valueOf(text, 'nines_raft_commit_index')).toBe(120);
    expect(valueOf(text, 'nines_metrics_source_errors_total', { source: 'raft' })).toBe(1);
    expect(samplesOf(text, 'nines_breaker_state')).toEqual([]);
    expect(valueOf(text, 'nines_breaker_window_calls', { peer: 'b' })).toBe(30);
    expect(valueOf(text, 'nines_metrics_source_errors_total', { source: 'breakers' })).toBe(1);
  });

  it('reads each source once per scrape, however many gauges it feeds', async () => {
    let reads = 0;
    const metrics = createMetrics({ raft: () => (reads++, raftLeader()) }, { processMetrics: false });
    await metrics.scrape();
    expect(reads).toBe(1);
    await metrics.scrape();
    expect(reads).toBe(2);
  });

  it('shows no gauge while a source returns undefined (a role not running), and its counters stay at 0', async () => {
    const text = await scrape({ raft: () => undefined, compute: () => undefined });
    expect(samplesOf(text, 'nines_raft_term')).toEqual([]);
    expect(valueOf(text, 'nines_tokens_generated_total')).toBe(0);
    expect(valueOf(text, 'nines_metrics_source_errors_total', { source: 'raft' })).toBe(0);
  });
});

describe('registries', () => {
  it('two peers\' metrics in one process do not collide, and neither touches the default registry', async () => {
    const { register } = await import('prom-client');
    const before = (await register.getMetricsAsJSON()).length;
    const first = createMetrics({ raft: raftLeader }, { processMetrics: true });
    const second = createMetrics({ raft: () => ({ ...raftLeader(), term: 9 }) }, { processMetrics: true });
    first.observeCompletion({ model: 'nines-kjv', outcome: 'success', promptTokens: 3, completionTokens: 5, durationMs: 120 });
    const one = parseExposition(await first.scrape());
    const two = parseExposition(await second.scrape());
    expect(valueOf(one, 'nines_raft_term')).toBe(7);
    expect(valueOf(two, 'nines_raft_term')).toBe(9);
    expect(valueOf(one, 'nines_completions_total', { model: 'nines-kjv', outcome: 'success' })).toBe(1);
    expect(valueOf(two, 'nines_completions_total', { model: 'nines-kjv', outcome: 'success' })).toBeUndefined();
    expect((await register.getMetricsAsJSON()).length).toBe(before);
  });
});

describe('labels from peers are bounded', () => {
  it(`names at most ${metricPeersMax} peers and sums the rest under peer="other"`, async () => {
    const peers = Array.from({ length: metricPeersMax + 30 }, (_, index) => ({ peer: `peer-${String(index).padStart(3, '0')}`, state: 'up' as const }));
    const text = await scrape({ availability: () => ({ peers }) });
    const labels = new Set(samplesOf(text, 'nines_peer_state').map((sample) => sample.labels.peer));
    expect(labels.size).toBe(metricPeersMax + 1);
    expect(valueOf(text, 'nines_peer_state', { peer: 'other', state: 'up' })).toBe(30);
    expect(valueOf(text, 'nines_peer_state', { peer: 'peer-000', state: 'up' })).toBe(1);
    expect(valueOf(text, 'nines_peers', { state: 'up' })).toBe(metricPeersMax + 30);
  });
});
